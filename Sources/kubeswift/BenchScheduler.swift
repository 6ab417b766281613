import APIMachinery
import ArgumentParser
import Client
import Component
import Foundation
import Operations

/// `kubeswift bench scheduler`: upstream scheduler_perf's SchedulingBasic, SchedulingPodAntiAffinity and
/// TopologySpreading shapes against a kube-apiserver and a kube-scheduler of our own, each scenario on a
/// fresh store: pods/s, create→bound percentiles, the API server's create rate and both processes' RSS.
struct BenchScheduler: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Measure kube-scheduler as upstream's scheduler_perf does: pods/s and create→bound latency.")

    @Option(help: "Path of the kube-apiserver binary (default: the one next to this kubeswift).")
    var apiserver: String?

    @Option(help: "Path of the kube-scheduler binary (default: the one next to this kubeswift).")
    var scheduler: String?

    @Option(help: "Loopback address both processes bind (their ports are chosen by the kernel).")
    var address = "127.0.0.91"

    @Option(help: "basic, anti-affinity, spread or all.")
    var scenario = "all"

    @Option(help: "Nodes created in each scenario, before the scheduler starts.")
    var nodes = 5000

    @Option(help: "Pods measured in the basic scenario.")
    var pods = 10000

    @Option(help: "Pods measured in the anti-affinity scenario.")
    var antiAffinityPods = 2000

    @Option(help: "Pods measured in the spread scenario.")
    var spreadPods = 5000

    @Option(
        help:
            "Pods bound before the measured ones (default: upstream's, 1000 for basic and anti-affinity, 5000 for spread)."
    )
    var initPods: Int?

    @Option(help: "maxSkew of the spread scenario's zone constraint (upstream's template says 5).")
    var maxSkew = 1

    @Option(help: "percentageOfNodesToScore, given to the scheduler in a --config file (default: its adaptive one).")
    var percentageOfNodesToScore: Int?

    @Option(help: "Creates kept in flight.")
    var concurrency = 32

    @Option(help: "HTTP/2 connections the creates are spread over.")
    var connections = 2

    @Option(help: "Seconds a phase may take before it gives up and reports the pods bound so far.")
    var timeout = 300

    @Flag(help: "Print one JSON document instead of text.")
    var json = false

    @Flag(help: "Time the scheduling cycles alone, in this process, with no API server (for profiling).")
    var inProcess = false

    func validate() throws {
        guard scenario == "all" || SchedulerScenario(rawValue: scenario) != nil else {
            throw ValidationError("--scenario must be basic, anti-affinity, spread or all")
        }
        guard nodes > 0, pods > 0, antiAffinityPods > 0, spreadPods > 0, (initPods ?? 0) >= 0, maxSkew > 0,
            concurrency > 0, connections > 0, timeout > 0
        else {
            throw ValidationError("counts, --max-skew, --concurrency, --connections and --timeout must be positive")
        }
        if let percentageOfNodesToScore, !(0...100).contains(percentageOfNodesToScore) {
            throw ValidationError("--percentage-of-nodes-to-score must be in 0...100")
        }
        guard address.hasPrefix("127.") else { throw ValidationError("--address must be a 127.0.0.0/8 address") }
    }

    func run() async throws {
        if inProcess { return try runInProcess() }
        let apiServerPath = try Self.binary(apiserver, named: "kube-apiserver")
        let schedulerPath = try Self.binary(scheduler, named: "kube-scheduler")
        // Ctrl-C cancels the run; every phase gives up, and the defers stop both processes and remove the files.
        let task = Task { try await measure(apiServerPath: apiServerPath, schedulerPath: schedulerPath) }
        let signals = SignalWatcher { task.cancel() }
        defer { signals.cancel() }
        do {
            try await task.value
        } catch  where task.isCancelled {
            // Whatever the interrupted step threw, the reason is the signal.
            FileHandle.standardError.write(Data("Interrupted; kube-apiserver and kube-scheduler stopped.\n".utf8))
            throw ExitCode(130)
        }
    }

    /// `given`, else the binary of that name beside the running kubeswift.
    static func binary(_ given: String?, named name: String) throws -> String {
        let path =
            given ?? Bundle.main.executableURL?.deletingLastPathComponent().appendingPathComponent(name).path ?? name
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw ValidationError("\(path) is not an executable file; build it or pass --\(name.dropFirst(5))")
        }
        return path
    }

    private func measure(apiServerPath: String, schedulerPath: String) async throws {
        let scenarios = SchedulerScenario(rawValue: scenario).map { [$0] } ?? SchedulerScenario.allCases
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kubeswift-bench-scheduler-\(BenchObjects.runID())"
        ).path
        let pki = directory + "/pki"
        try FileManager.default.createDirectory(atPath: pki, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var options = GuideCertificates.Options()
        options.apiServerIPAddresses = [address, "10.254.0.1"]
        let certificates = try GuideCertificates.write(directory: pki, options: options)

        note(
            "KubeSwift scheduler bench: \(apiServerPath) and \(schedulerPath) on \(address), "
                + "\(ProcessInfo.processInfo.activeProcessorCount) CPUs, \(concurrency) creates in flight")
        var reports: [SchedulerScenarioReport] = []
        for kind in scenarios {
            let cluster = try await BenchCluster(
                apiServerPath: apiServerPath, address: address, pki: pki, certificates: certificates,
                directory: directory + "/" + kind.rawValue, connections: connections)
            do {
                let report = try await run(kind, on: cluster, schedulerPath: schedulerPath)
                await cluster.stop()
                reports.append(report)
                show(report)
            } catch {
                if let scheduler = cluster.scheduler { note("kube-scheduler's last log lines:\n\(scheduler.tail(20))") }
                await cluster.stop()
                throw error
            }
        }
        if json {
            struct Document: Encodable {
                var parameters: [String: String]
                var scenarios: [SchedulerScenarioReport]
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let parameters = [
                "apiserver": apiServerPath, "scheduler": schedulerPath, "address": address, "nodes": "\(nodes)",
                "concurrency": "\(concurrency)", "connections": "\(connections)", "maxSkew": "\(maxSkew)",
                "percentageOfNodesToScore": percentageOfNodesToScore.map(String.init) ?? "default",
                "cpus": "\(ProcessInfo.processInfo.activeProcessorCount)",
            ]
            let data = try encoder.encode(Document(parameters: parameters, scenarios: reports))
            print(String(decoding: data, as: UTF8.self))
        }
    }

    /// One scenario on a fresh cluster: nodes, then the scheduler, the init pods, the measured pods.
    private func run(_ kind: SchedulerScenario, on cluster: BenchCluster, schedulerPath: String) async throws
        -> SchedulerScenarioReport
    {
        for namespace in [SchedulerScenario.initNamespace, SchedulerScenario.measuredNamespace] {
            _ = try await cluster.client.postJSON(
                path: ResourcePath.path(resource: "namespaces"),
                ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]])
            // ServiceAccount admission wants the namespace's `default` account, which the controller-manager
            // (not run here) would create.
            _ = try await cluster.client.postJSON(
                path: ResourcePath.path(namespace: namespace, resource: "serviceaccounts"),
                ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "default"]])
        }
        let client = cluster.client
        let nodeBodies = (0..<nodes).map { SchedulerScenario.node(index: $0, zones: kind.zones) }
        let nodeCreates = await LoadRunner.run("create node", count: nodes, concurrency: concurrency) { index in
            try Task.checkCancellation()
            _ = try await client.post(path: ResourcePath.path(resource: "nodes"), body: nodeBodies[index])
        }
        if let error = nodeCreates.firstError {
            throw ValidationError("\(nodeCreates.errors) of \(nodes) node creates failed: \(error)")
        }

        try cluster.startScheduler(
            path: schedulerPath, address: address, percentageOfNodesToScore: percentageOfNodesToScore)
        let initCount = initPods ?? kind.upstreamInitPods
        let measuredCount = measuredPods(kind)
        let initBodies = (0..<initCount).map { index in
            let name = "init-\(index)"
            return (
                SchedulerScenario.initNamespace, name,
                kind.pod(
                    name: name, namespace: SchedulerScenario.initNamespace, phase: "init", measured: false,
                    maxSkew: maxSkew)
            )
        }
        // The init pods also wait out the scheduler's start and informer sync, which upstream does not time either.
        let warmUp = try await PodPhase.run(
            cluster: cluster, phase: "init", bodies: initBodies, concurrency: concurrency, timeout: .seconds(timeout))
        guard warmUp.bound == initCount else {
            throw ValidationError(
                "only \(warmUp.bound) of \(initCount) init pods were bound\(warmUp.firstError.map { ": \($0)" } ?? "")")
        }

        let measuredBodies = (0..<measuredCount).map { index in
            let name = "pod-\(index)"
            return (
                SchedulerScenario.measuredNamespace, name,
                kind.pod(
                    name: name, namespace: SchedulerScenario.measuredNamespace, phase: "measure", measured: true,
                    maxSkew: maxSkew)
            )
        }
        let schedulerPID = cluster.scheduler?.pid ?? 0
        let schedulerCPU = ProcessCPU.seconds(pid: schedulerPID)
        let apiServerCPU = ProcessCPU.seconds(pid: cluster.apiServer.pid)
        let benchCPU = ProcessCPU.seconds(pid: getpid())
        let measured = try await PodPhase.run(
            cluster: cluster, phase: "measure", bodies: measuredBodies, concurrency: concurrency,
            timeout: .seconds(timeout))
        func used(_ before: Double?, _ pid: Int32) -> Double? {
            guard let before, let after = ProcessCPU.seconds(pid: pid) else { return nil }
            return after - before
        }
        return SchedulerScenarioReport(
            scenario: kind, upstreamWorkload: kind.upstreamWorkload, nodes: nodes,
            nodeCreatesPerSecond: nodeCreates.perSecond, initPods: initCount, initPodsSeconds: warmUp.schedulingSeconds,
            measured: measured,
            schedulerCPUSeconds: used(schedulerCPU, schedulerPID),
            apiServerCPUSeconds: used(apiServerCPU, cluster.apiServer.pid),
            benchCPUSeconds: used(benchCPU, getpid()),
            schedulerMemory: ResidentMemory(pid: schedulerPID),
            apiServerMemory: ResidentMemory(pid: cluster.apiServer.pid))
    }

    private func measuredPods(_ kind: SchedulerScenario) -> Int {
        switch kind {
        case .basic: pods
        case .antiAffinity: antiAffinityPods
        case .spread: spreadPods
        }
    }

    /// A line of text output, written at once so a long run shows each scenario as it ends, even into a pipe.
    func note(_ text: String) {
        if !json { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }
    }

    /// The scenario's figures as text, unless `--json` collects them for the end.
    private func show(_ report: SchedulerScenarioReport) {
        guard !json else { return }
        let phase = report.measured
        let latency = phase.createToBoundMilliseconds
        // Per bound pod too: on a machine with few cores the processes share them, so their sum sets the pace.
        let cpu = [
            ("kube-scheduler", report.schedulerCPUSeconds), ("kube-apiserver", report.apiServerCPUSeconds),
            ("bench client", report.benchCPUSeconds),
        ].map { name, seconds -> String in
            guard let seconds else { return "\(name) ? s" }
            let perPod = phase.bound > 0 ? " (\(format(seconds * 1000 / Double(phase.bound), 2)) ms/pod)" : ""
            return "\(name) \(format(seconds, 1)) s\(perPod)"
        }.joined(separator: ", ")
        note(
            """

            \(report.scenario.rawValue) (upstream \(report.upstreamWorkload)): \(report.nodes) nodes \
            (\(format(report.nodeCreatesPerSecond, 0)) creates/s, before the scheduler started), \
            \(report.initPods) init pods bound in \(format(report.initPodsSeconds, 1)) s, \(phase.pods) measured pods
              API server:     \(phase.created) pods created in \(format(phase.createSeconds, 2)) s = \
            \(format(phase.createsPerSecond, 1)) creates/s\(phase.createErrors > 0 ? " (\(phase.createErrors) failed)" : "")
              scheduling:     \(phase.bound) of \(phase.created) bound in \(format(phase.schedulingSeconds, 2)) s \
            (first create → last bind) = \(format(phase.podsPerSecond, 1)) pods/s\(phase.timedOut ? " (gave up: timed out)" : "")
              create→bound:   p50 \(format(latency.p50, 1)) ms, p90 \(format(latency.p90, 1)) ms, \
            p99 \(format(latency.p99, 1)) ms, max \(format(latency.max, 1)) ms
              CPU (measured): \(cpu) over \(format(phase.schedulingSeconds, 1)) s of wall clock
              RSS after:      kube-scheduler \(report.schedulerMemory), kube-apiserver \(report.apiServerMemory)
            """)
        if let error = phase.firstError { note("  first error: \(error)") }
    }
}

/// One scenario's figures, as printed and as `--json` writes them.
struct SchedulerScenarioReport: Codable, Sendable {
    var scenario: SchedulerScenario
    var upstreamWorkload: String
    var nodes: Int
    var nodeCreatesPerSecond: Double
    var initPods: Int
    /// First init create → last init bind; includes the scheduler's start-up and informer sync.
    var initPodsSeconds: Double
    var measured: PodPhaseResult
    /// CPU each process used during the measured phase; nil without /proc.
    var schedulerCPUSeconds: Double?
    var apiServerCPUSeconds: Double?
    /// This process's (the creates and the pods watch), for the share of the machine the bench itself takes.
    var benchCPUSeconds: Double?
    var schedulerMemory: ResidentMemory
    var apiServerMemory: ResidentMemory
}
