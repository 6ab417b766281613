import APIMachinery
import ArgumentParser
import Client
import Foundation
import Scheduler

/// `kubeswift bench scheduler --in-process`: the scheduling cycles alone, with no API server, so a profiler
/// sees only the scheduler. Each scenario's nodes go into a scheduler cache, then its init and measured pods
/// are scheduled one cycle at a time (snapshot update, PreFilter … Score, assume), as the scheduling loop does.
extension BenchScheduler {
    func runInProcess() throws {
        let scenarios = SchedulerScenario(rawValue: scenario).map { [$0] } ?? SchedulerScenario.allCases
        note("KubeSwift scheduler cycles in process: \(nodes) nodes, no API server")
        for kind in scenarios { try cycles(kind) }
    }

    private func cycles(_ kind: SchedulerScenario) throws {
        let cache = SchedulerCache()
        for index in 0..<nodes {
            cache.addOrUpdate(node: try Node(json: JSON.parse(SchedulerScenario.node(index: index, zones: kind.zones))))
        }
        let profile = try Profile(schedulerName: "default-scheduler", plugins: PluginSet(), handle: FrameworkHandle())
        let algorithm = SchedulingAlgorithm(percentageOfNodesToScore: percentageOfNodesToScore ?? 0)
        var snapshot = Snapshot(nodes: [])
        var start = 0
        // One cycle as the loop runs it; returns its duration and whether the pod found a node.
        func cycle(_ bytes: [UInt8], uid: String) throws -> (Duration, Bool) {
            var pod = try Pod(json: JSON.parse(bytes))
            pod.metadata.uid = uid
            let info = PodInfo(pod)
            let clock = ContinuousClock()
            let began = clock.now
            cache.updateSnapshot(&snapshot)
            let outcome = algorithm.schedule(
                pod: info, profile: profile, snapshot: snapshot, state: CycleState(), startIndex: &start)
            guard case .scheduled(let node, _, _) = outcome else { return (clock.now - began, false) }
            cache.assume(info, on: node)
            return (clock.now - began, true)
        }
        let initCount = initPods ?? kind.upstreamInitPods
        for index in 0..<initCount {
            let name = "init-\(index)"
            let body = kind.pod(
                name: name, namespace: SchedulerScenario.initNamespace, phase: "init", measured: false,
                maxSkew: maxSkew)
            _ = try cycle(body, uid: name)
        }
        let measured = kind == .basic ? pods : kind == .antiAffinity ? antiAffinityPods : spreadPods
        var durations: [Double] = []
        durations.reserveCapacity(measured)
        var placed = 0
        for index in 0..<measured {
            let name = "pod-\(index)"
            let body = kind.pod(
                name: name, namespace: SchedulerScenario.measuredNamespace, phase: "measured", measured: true,
                maxSkew: maxSkew)
            let (took, scheduled) = try cycle(body, uid: name)
            durations.append(Double(took.components.attoseconds) / 1e15 + Double(took.components.seconds) * 1e3)
            if scheduled { placed += 1 }
        }
        let total = durations.reduce(0, +)
        let sorted = durations.sorted()
        let percentile = { (p: Double) in
            sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
        }
        note(
            """
            \(kind.rawValue): \(initCount) init pods, then \(measured) measured (\(placed) placed): \
            \(String(format: "%.3f", total / Double(max(1, measured)))) ms/cycle mean, \
            p50 \(String(format: "%.3f", percentile(0.5))) ms, p99 \(String(format: "%.3f", percentile(0.99))) ms, \
            \(String(format: "%.0f", Double(measured) / max(total / 1000, 1e-9))) cycles/s
            """)
    }
}
