import ArgumentParser
import Client
import Component
import Foundation
import Logging
import NodeSimulator
import Operations

/// `kubeswift up --masters N`: the guide's highly available cluster on loopback. Three etcd members over TLS,
/// N masters each running the real kube-apiserver, kube-scheduler and kube-controller-manager executables with
/// the flags `kubeswift render` writes, nginx in front, and simulated nodes through nginx; every process a child
/// of this one, stopped with it.
struct UpHA {
    let up: Up
    let masters: Int

    /// Where the HA cluster keeps its state when `--state-dir` is left at its default: beside, not over, the
    /// single-master cluster's.
    var stateDirectory: String {
        up.stateDir == Up.defaultStateDirectory ? Up.defaultStateDirectory + "/ha" : up.stateDir
    }

    /// The directory of this executable, where `swift build` also puts the control-plane executables.
    static var binDirectory: String {
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().path
    }

    func run() async throws {
        guard (2...5).contains(masters) else { throw ValidationError("--masters must be between 2 and 5") }
        var timings: LocalCluster.LeaderElectionTimings?
        if !up.leaderElectTimings.isEmpty {
            timings = LocalCluster.LeaderElectionTimings(parsing: up.leaderElectTimings)
            guard timings != nil else {
                throw ValidationError("--leader-elect-timings takes lease,renew,retry durations such as 4s,2s,1s")
            }
        }
        let cluster = LocalCluster.loopback(
            masters: masters, stateDirectory: URL(fileURLWithPath: stateDirectory).standardizedFileURL.path,
            binDirectory: Self.binDirectory, leaderElection: timings)
        let missing = cluster.missingPrerequisites()
        guard missing.isEmpty else { throw ValidationError(missing.joined(separator: "\n")) }
        let processes = try cluster.processes()
        if let running = processes.first(where: { cluster.livePID($0) != nil }) {
            throw ValidationError(
                "\(running.name) of a cluster in \(cluster.stateDirectory) is still running "
                    + "(pid \(cluster.livePID(running) ?? 0)); stop that kubeswift up first")
        }
        try cluster.writeFiles()
        try cluster.save()

        let began = ContinuousClock.now
        let supervisor = ProcessSupervisor(pidDirectory: cluster.stateDirectory + "/run") { Up.say($0) }
        // Ctrl-C during start-up cancels it; after start-up it ends the wait below. Either way everything stops.
        let (interrupts, interrupted) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let signals = SignalWatcher { interrupted.yield() }
        let startup = Task { try await start(cluster, processes, supervisor) }
        let interruption = Task {
            var iterator = interrupts.makeAsyncIterator()
            _ = await iterator.next()
            startup.cancel()
        }
        let outcome = await startup.result
        if case .success(let nodes) = outcome {
            let elapsed = ContinuousClock.now - began
            Up.say(summary(cluster, elapsed: elapsed))
            // For `kubeswift bench failover`'s report.
            try? Data("\(elapsed.secondsText)\n".utf8).write(
                to: URL(fileURLWithPath: cluster.stateDirectory + "/run/startup-seconds"))
            await interruption.value
            nodes?.cancel()
            await nodes?.value
        }
        interruption.cancel()
        signals.cancel()
        supervisor.stopAll()
        Up.say("KubeSwift control plane stopped.")
        if case .failure(let error) = outcome, !(error is CancellationError) { throw error }
    }

    /// Starts the processes in order, waiting for each tier before the next: etcd until every member serves
    /// clients, the API servers until each /readyz answers, then the schedulers, controller-managers and nginx,
    /// and finally the simulated nodes through nginx (their task is returned, to be cancelled on Ctrl-C).
    func start(
        _ cluster: LocalCluster, _ processes: [LocalCluster.Process], _ supervisor: ProcessSupervisor
    ) async throws -> Task<Void, Never>? {
        // A second run appends to the same logs: only what follows this run's start counts.
        var logStart: [String: Int] = [:]
        for process in processes where process.role == .etcd {
            logStart[process.name] = FileManager.default.contents(atPath: process.logFile)?.count ?? 0
            try supervisor.start(process)
        }
        // etcd's own "serving" log line, not a client probe: the etcd client, created and closed while a member
        // still refuses connections, can trip a leaked-promise check in its connect path.
        for process in processes where process.role == .etcd {
            let line = "serving client requests on \(process.address):2379"
            try await wait(process, within: .seconds(60)) {
                let log = FileManager.default.contents(atPath: process.logFile) ?? Data()
                return String(decoding: log.dropFirst(logStart[process.name] ?? 0), as: UTF8.self).contains(line)
            }
        }
        for process in processes where process.role == .apiServer { try supervisor.start(process) }
        for process in processes where process.role == .apiServer {
            let server = "https://\(process.address):\(cluster.layout.apiServerPort)"
            try await wait(process, within: .seconds(120)) {
                await ClusterProbe.readyz(kubeconfig: cluster.adminKubeconfig, server: server) == "ok"
            }
        }
        for process in processes where ![.etcd, .apiServer].contains(process.role) { try supervisor.start(process) }
        guard let balancer = processes.first(where: { $0.role == .loadBalancer }) else { return nil }
        try await wait(balancer, within: .seconds(30)) {
            await ClusterProbe.readyz(kubeconfig: cluster.adminKubeconfig) == "ok"
        }
        return try await startNodes(cluster)
    }

    /// Starts `--nodes` simulated nodes in-process through nginx, as `kubeswift up` does: with `--node-identity
    /// per-node` each joins through the TLS bootstrap with a bootstrap token of the state directory's (the rendered
    /// API servers run `--enable-bootstrap-token-auth`, as kubeadm's), else they share the admin's identity.
    func startNodes(_ cluster: LocalCluster) async throws -> Task<Void, Never>? {
        guard up.nodes > 0 else { return nil }
        let kubeconfig = cluster.adminKubeconfig
        let configuration = NodeSimulatorConfiguration(count: up.nodes, prefix: "sim-")
        let problems = configuration.validate()
        guard problems.isEmpty else { throw ValidationError(problems.joined(separator: "; ")) }
        var clientConfiguration = try ClientConfiguration.load(kubeconfigPath: kubeconfig)
        clientConfiguration.qps = RunNodes.defaultQPS(nodes: up.nodes)
        clientConfiguration.burst = Int(clientConfiguration.qps * 2)
        clientConfiguration.userAgent = "kubeswift-nodes/v1.32.0 (linux/amd64) kubeswift"
        let client = try RESTClient(configuration: clientConfiguration)
        let logger = Logger(label: "node-simulator")
        // Not pki/bootstrap.kubeconfig: that one holds the guide's static token.csv token for real kubelets.
        let bootstrapKubeconfig = cluster.stateDirectory + "/node-bootstrap.kubeconfig"
        if up.nodeIdentity == .perNode && !FileManager.default.fileExists(atPath: bootstrapKubeconfig) {
            try Kubeconfig.bootstrap(
                server: cluster.loadBalancerURL,
                certificateAuthorityPEM: try String(contentsOfFile: cluster.pkiDirectory + "/ca.pem", encoding: .utf8),
                token: BootstrapToken.random().description
            ).write(toFile: bootstrapKubeconfig)
        }
        let credentials = try await up.nodeIdentity.credentials(
            bootstrapKubeconfig: bootstrapKubeconfig, readClient: client, logger: logger)
        let simulator = NodeSimulator(
            configuration: configuration, client: client, credentials: credentials, logger: logger)
        return Task { await simulator.run() }
    }

    /// Waits for `check`, naming the process and its log's tail when it does not come.
    func wait(_ process: LocalCluster.Process, within limit: Duration, _ check: () async -> Bool) async throws {
        do {
            try await ClusterProbe.wait(for: process.name, within: limit, check)
        } catch let error as ClusterProbeError {
            let log = (try? String(contentsOfFile: process.logFile, encoding: .utf8)) ?? ""
            let tail = log.split(separator: "\n").suffix(15).joined(separator: "\n")
            throw ValidationError("\(error); the end of \(process.logFile):\n\(tail)")
        }
    }

    func summary(_ cluster: LocalCluster, elapsed: Duration) -> String {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let masters = cluster.layout.masters.map { "\($0.name) \($0.address)" }.joined(separator: ", ")
        let etcd = cluster.layout.etcd.map { "\($0.name) \($0.address)" }.joined(separator: ", ")
        return """

            KubeSwift HA control plane is up behind nginx at \(cluster.loadBalancerURL) \
            (started in \(String(format: "%.1f", seconds)) s; state in \(cluster.stateDirectory)):
              masters (kube-apiserver, kube-scheduler, kube-controller-manager each): \(masters)
              etcd members over TLS: \(etcd)
              simulated nodes: \(up.nodes) (\(up.nodeIdentity == .perNode ? "each with its own certificate" : "one shared identity")); logs in \(cluster.stateDirectory)/logs
            Point kubectl at it with:

                export KUBECONFIG=\(cluster.adminKubeconfig)
                kubectl get namespaces

            See every member's health with `kubeswift status --state-dir \(cluster.stateDirectory)`.
            Press Ctrl-C to stop.
            """
    }
}
