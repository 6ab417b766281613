import APIMachinery
import ArgumentParser
import Client
import Foundation
import NIOConcurrencyHelpers

/// The scheduler bench's workloads, shaped as upstream's scheduler_perf ones: the node and pod templates,
/// and how many pods are bound before the measured ones.
enum SchedulerScenario: String, CaseIterable, ExpressibleByArgument, Codable, Sendable {
    case basic
    case antiAffinity = "anti-affinity"
    case spread

    /// The scheduler_perf workload whose shape and counts this scenario follows.
    var upstreamWorkload: String {
        switch self {
        case .basic: "SchedulingBasic/5000Nodes_10000Pods"
        case .antiAffinity: "SchedulingPodAntiAffinity/5000Nodes_2000Pods"
        case .spread: "TopologySpreading/5000Nodes_5000Pods"
        }
    }

    /// Pods upstream creates and waits for before it starts measuring.
    var upstreamInitPods: Int {
        switch self {
        case .basic, .antiAffinity: 1000
        case .spread: 5000
        }
    }

    /// Zones the nodes are spread over (upstream's labelNodePrepareStrategy); none outside `spread`.
    var zones: [String] { self == .spread ? ["moon-1", "moon-2", "moon-3"] : [] }

    static let initNamespace = "sched-0"
    static let measuredNamespace = "sched-1"
    /// The label that tells the init pods from the measured ones, so each phase watches only its own.
    static let phaseLabel = "kubeswift.io/bench-phase"

    /// A node as scheduler_perf's node-default.yaml describes it, with the hostname label a kubelet would
    /// add (the template has none, which would leave hostname anti-affinity nothing to count on).
    static func node(index: Int, zones: [String]) -> [UInt8] {
        let name = "scheduler-perf-\(index)"
        var labels: JSONObject = ["kubernetes.io/hostname": .string(name)]
        if !zones.isEmpty { labels["topology.kubernetes.io/zone"] = .string(zones[index % zones.count]) }
        let resources: JSON = ["pods": "110", "cpu": "4", "memory": "32Gi"]
        let node: JSON = [
            "apiVersion": "v1", "kind": "Node",
            "metadata": ["name": .string(name), "labels": .object(labels)],
            "spec": [:],
            "status": [
                "capacity": resources, "allocatable": resources,
                "conditions": [["type": "Ready", "status": "True"]], "phase": "Running",
            ],
        ]
        return node.encoded()
    }

    /// The pod template of a phase: pod-default.yaml for basic and for spread's init pods,
    /// pod-with-pod-anti-affinity.yaml for both anti-affinity phases, pod-with-topology-spreading.yaml
    /// (with `maxSkew`) for spread's measured pods.
    func pod(name: String, namespace: String, phase: String, measured: Bool, maxSkew: Int) -> [UInt8] {
        var labels: JSONObject = [Self.phaseLabel: .string(phase)]
        var spec: JSONObject = [
            "containers": [
                [
                    "name": "pause", "image": "registry.k8s.io/pause:3.10", "ports": [["containerPort": 80]],
                    "resources": [
                        "limits": ["cpu": "100m", "memory": "500Mi"], "requests": ["cpu": "100m", "memory": "500Mi"],
                    ],
                ]
            ]
        ]
        switch self {
        case .basic:
            break
        case .antiAffinity:
            labels["color"] = "green"
            spec["affinity"] = [
                "podAntiAffinity": [
                    "requiredDuringSchedulingIgnoredDuringExecution": [
                        [
                            "labelSelector": ["matchLabels": ["color": "green"]],
                            "topologyKey": "kubernetes.io/hostname",
                            "namespaces": [.string(Self.measuredNamespace), .string(Self.initNamespace)],
                        ]
                    ]
                ]
            ]
        case .spread:
            guard measured else { break }
            labels["color"] = "blue"
            spec["topologySpreadConstraints"] = [
                [
                    "maxSkew": .int(Int64(maxSkew)), "topologyKey": "topology.kubernetes.io/zone",
                    "whenUnsatisfiable": "DoNotSchedule", "labelSelector": ["matchLabels": ["color": "blue"]],
                ]
            ]
        }
        let pod: JSON = [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": .string(name), "namespace": .string(namespace), "labels": .object(labels)],
            "spec": .object(spec),
        ]
        return pod.encoded()
    }
}

/// What one phase of pod creates measured: the API server's create rate, and how fast and how soon
/// after its create each pod was bound, as the phase's pods watch saw `spec.nodeName` set.
struct PodPhaseResult: Codable, Sendable {
    var pods: Int
    var created: Int
    var createErrors: Int
    var bound: Int
    /// Seconds from the first create sent to the last create answered.
    var createSeconds: Double
    /// Pods created per second of `createSeconds`: the API server's rate in this run.
    var createsPerSecond: Double
    /// Seconds from the first create sent to the last bind seen.
    var schedulingSeconds: Double
    /// Pods bound per second of `schedulingSeconds`.
    var podsPerSecond: Double
    /// Create sent → `spec.nodeName` seen, for every bound pod.
    var createToBoundMilliseconds: LatencySummary
    /// True when the phase gave up before every created pod was bound.
    var timedOut: Bool
    var firstError: String?
}

/// Send and bind instants of a phase's pods, by index; written by the create workers and the watch.
private struct PhaseTimes {
    var sent: [ContinuousClock.Instant?]
    var bound: [ContinuousClock.Instant?]
    var boundCount = 0
    var watchError: String?
    var watchEnded = false
    /// Set before the bench closes the watch itself, so the reset that follows is not reported.
    var closing = false

    init(count: Int) {
        sent = Array(repeating: nil, count: count)
        bound = Array(repeating: nil, count: count)
    }
}

/// Creates a phase's pods with a fixed number in flight while one pods watch, opened before the first
/// create, notes when each is bound.
enum PodPhase {
    static func run(
        cluster: BenchCluster, phase: String, bodies: [(namespace: String, name: String, body: [UInt8])],
        concurrency: Int, timeout: Duration
    ) async throws -> PodPhaseResult {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        let selector = "\(SchedulerScenario.phaseLabel)=\(phase)"
        // Only bound pods: a pod enters the watch (ADDED) when it is bound, so the bench scans one event per
        // pod rather than two, and takes less of the CPU the two processes it measures share with it.
        let boundOnly = "spec.nodeName!="
        let times = NIOLockedValueBox(PhaseTimes(count: bodies.count))
        // Every pod of a phase is in one namespace, so its name alone finds it (see `BoundPodScanner`).
        let scanner = BoundPodScanner(
            indexByName: Dictionary(
                bodies.enumerated().map { ($0.element.name, $0.offset) }, uniquingKeysWith: { first, _ in first }))
        precondition(Set(bodies.map(\.namespace)).count <= 1, "a phase's pods share one namespace")

        // Watch from the list's resourceVersion, so no bind between the two is missed.
        let list = try await cluster.client.getJSON(
            path: "/api/v1/pods", query: ["labelSelector": selector, "fieldSelector": boundOnly, "limit": "1"])
        var query: Query = ["watch": "true", "labelSelector": selector, "fieldSelector": boundOnly]
        if let version = list["metadata"]?["resourceVersion"]?.stringValue { query.append("resourceVersion", version) }
        // Only this stream's event loop calls `receive`; the lines' lock is never contended.
        let lines = NIOLockedValueBox(LineSplitter())
        let watch = try await cluster.watcher.streamBody(Request(method: .get, path: "/api/v1/pods", query: query)) {
            buffer in
            let now = clock.now
            var found: [BoundPodScanner.Found] = []
            // A line past the splitter's 64 MiB bound is no pod event; it ends the phase's watch as an error.
            do {
                try lines.withLockedValue { try $0.append(buffer.readableBytesView) { found.append(scanner.scan($0)) } }
            } catch {
                found.append(.error("\(error)"))
            }
            guard found.contains(where: { $0 != .nothing }) else { return }
            times.withLockedValue { times in
                for result in found {
                    switch result {
                    case .bound(let index) where times.bound[index] == nil:
                        times.bound[index] = now
                        times.boundCount += 1
                    case .error(let line):
                        times.watchError = times.watchError ?? line
                    default:
                        break
                    }
                }
            }
        } finished: { error in
            // Closing the stream once the phase is over may surface as an error; only earlier ones count.
            times.withLockedValue { times in
                if !times.closing, let error { times.watchError = times.watchError ?? "\(error)" }
                times.watchEnded = true
            }
        }
        defer { watch.cancel() }

        let client = cluster.client
        let creates = await LoadRunner.run("create pod", count: bodies.count, concurrency: concurrency) { index in
            try Task.checkCancellation()
            guard clock.now < deadline else { throw ValidationError("timed out before this create") }
            let pod = bodies[index]
            times.withLockedValue { $0.sent[index] = clock.now }
            _ = try await client.post(
                path: ResourcePath.path(namespace: pod.namespace, resource: "pods"), body: pod.body)
        }
        let created = bodies.count - creates.errors

        // Bounded by the deadline: a pod the scheduler never places ends the wait, not the bench.
        var timedOut = false
        while true {
            let (bound, ended) = times.withLockedValue { ($0.boundCount, $0.watchEnded) }
            if bound >= created || ended { break }
            guard clock.now < deadline else {
                timedOut = true
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        times.withLockedValue { $0.closing = true }
        watch.cancel()

        return times.withLockedValue { times in
            let firstSent = times.sent.compactMap { $0 }.min()
            let lastBound = times.bound.compactMap { $0 }.max()
            let samples = zip(times.sent, times.bound).compactMap { sent, bound -> Double? in
                guard let sent, let bound else { return nil }
                return milliseconds(bound - sent)
            }
            let schedulingSeconds =
                firstSent.flatMap { first in lastBound.map { milliseconds($0 - first) / 1000 } } ?? 0
            return PodPhaseResult(
                pods: bodies.count, created: created, createErrors: creates.errors, bound: times.boundCount,
                createSeconds: creates.seconds,
                createsPerSecond: creates.seconds > 0 ? Double(created) / creates.seconds : 0,
                schedulingSeconds: schedulingSeconds,
                podsPerSecond: schedulingSeconds > 0 ? Double(times.boundCount) / schedulingSeconds : 0,
                createToBoundMilliseconds: LatencySummary(milliseconds: samples),
                timedOut: timedOut || (times.watchEnded && times.boundCount < created),
                firstError: creates.firstError ?? times.watchError.map { "pods watch: \($0)" })
        }
    }
}
