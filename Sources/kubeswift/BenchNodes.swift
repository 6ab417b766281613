import ArgumentParser
import Client
import Component
import Foundation
import NodeSimulator
import Operations

/// `kubeswift bench nodes`: what idle simulated nodes cost. Starts its own kube-apiserver on a fresh store (and,
/// for per-node identities, a kube-controller-manager that approves and signs the nodes' requests), runs the
/// simulator in this process, waits for every node to register, then measures an idle window: the simulator's
/// RSS and CPU, the API server's RSS and CPU, and the requests the nodes send per second.
struct BenchNodes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodes",
        abstract: "Measure idle simulated nodes: simulator RSS and CPU, API server requests/s per 1,000 nodes.")

    @Option(help: "How many nodes to simulate.")
    var nodes: Int = 1_000

    @Option(help: "Pods to create bound round-robin to the nodes (no scheduler) before the idle window.")
    var pods: Int = 0

    @Option(help: "Seconds to wait after registration before measuring (lets the first heartbeats spread out).")
    var settle: Int = 15

    @Option(help: "Seconds of idle measurement.")
    var window: Int = 60

    @Option(help: "Loopback address the bench's kube-apiserver listens on.")
    var address: String = "127.0.0.1"

    @Option(help: "kube-apiserver binary (default: beside kubeswift).")
    var apiserver: String?

    @Option(help: "kube-controller-manager binary, for per-node identities (default: beside kubeswift).")
    var controllerManager: String?

    @Option(help: "per-node: each node gets its own certificate through a CSR; shared: one client for all nodes.")
    var identity: NodeIdentity = .perNode

    func validate() throws {
        guard nodes > 0, nodes <= SimulatedNetwork.maximumNodes, settle >= 0, window > 0, pods >= 0 else {
            throw ValidationError("--nodes must be 1…\(SimulatedNetwork.maximumNodes), --window positive")
        }
        guard pods <= nodes * 110 else { throw ValidationError("--pods must fit 110 pods per node") }
        guard address.hasPrefix("127.") else { throw ValidationError("--address must be a 127.0.0.0/8 address") }
    }

    func run() async throws {
        let apiServerPath = try BenchScheduler.binary(apiserver, named: "kube-apiserver")
        let controllerManagerPath =
            identity == .perNode ? try BenchScheduler.binary(controllerManager, named: "kube-controller-manager") : nil
        // Ctrl-C cancels the run; the measurement gives up and the API server is stopped.
        let task = Task {
            // No node lifecycle controller runs here to lift the not-ready taint from the bench's nodes.
            let server = try await BenchAPIServer.start(
                name: "nodes", apiServerPath: apiServerPath, address: address,
                arguments: ["--disable-admission-plugins=TaintNodesByCondition"])
            var signer: BenchProcess?
            do {
                if let controllerManagerPath {
                    signer = try startSigner(path: controllerManagerPath, server: server)
                }
                try await measure(server: server)
            } catch {
                signer?.stop()
                await server.stop()
                throw error
            }
            signer?.stop()
            await server.stop()
        }
        let signals = SignalWatcher { task.cancel() }
        defer { signals.cancel() }
        try await task.value
    }

    private func measure(server: BenchAPIServer) async throws {
        var clientConfiguration = try ClientConfiguration.load(kubeconfigPath: server.kubeconfig)
        clientConfiguration.qps = RunNodes.defaultQPS(nodes: nodes)
        clientConfiguration.burst = Int(clientConfiguration.qps * 2)
        let client = try RESTClient(configuration: clientConfiguration)
        var credentials: BootstrapNodeCredentials?
        if identity == .perNode {
            // The bench's server allows everyone, so the admin credential stands in for a bootstrap token.
            credentials = try BootstrapNodeCredentials(
                configuration: BootstrapNodeCredentials.Configuration(
                    bootstrap: try ClientConfiguration.load(kubeconfigPath: server.kubeconfig)),
                watchClient: client)
        }
        let simulator = NodeSimulator(
            configuration: NodeSimulatorConfiguration(count: nodes), client: client, credentials: credentials)
        let simulation = Task { await simulator.run() }
        defer { simulation.cancel() }
        let ownPID = getpid()
        print(
            "KubeSwift node bench: \(nodes) simulated nodes (\(identity.rawValue) identity) against \(server.server)")
        let started = ContinuousClock.now
        while simulator.statistics.registeredNodes < nodes {
            try await Task.sleep(for: .milliseconds(100))
        }
        let registration = ContinuousClock.now - started
        print("  registered:           \(nodes) nodes in \(format(registration.seconds, 2)) s")
        if pods > 0 { try await runPods(on: server, simulator: simulator) }
        try await Task.sleep(for: .seconds(settle))

        let before = simulator.statistics.requests
        let simulatorCPU = ProcessCPU.seconds(pid: ownPID) ?? 0
        let serverCPU = ProcessCPU.seconds(pid: server.apiServer.pid) ?? 0
        try await Task.sleep(for: .seconds(window))
        let after = simulator.statistics.requests
        let simulatorBusy = ((ProcessCPU.seconds(pid: ownPID) ?? 0) - simulatorCPU) / Double(window)
        let serverBusy = ((ProcessCPU.seconds(pid: server.apiServer.pid) ?? 0) - serverCPU) / Double(window)
        let perThousand = 1_000 / Double(nodes)
        print("  idle window:          \(window) s after \(settle) s settling")
        for kind in after.keys.sorted() {
            let rate = Double(after[kind, default: 0] - before[kind, default: 0]) / Double(window)
            print(
                "  \(kind) writes/s:".padding(toLength: 24, withPad: " ", startingAt: 0)
                    + "\(format(rate, 1)) (\(format(rate * perThousand, 1)) per 1,000 nodes)")
        }
        let total = Double(after.values.reduce(0, +) - before.values.reduce(0, +)) / Double(window)
        print("  requests/s:           \(format(total, 1)) (\(format(total * perThousand, 1)) per 1,000 nodes)")
        print("  simulator:            RSS \(ResidentMemory(pid: ownPID)), CPU \(format(simulatorBusy * 100, 1)) %")
        print(
            "  kube-apiserver:       RSS \(ResidentMemory(pid: server.apiServer.pid)), "
                + "CPU \(format(serverBusy * 100, 1)) %")
        simulation.cancel()
        await simulation.value
        await client.shutdown()
    }
}

extension BenchNodes {
    /// Starts kube-controller-manager with only the certificate approver and signer, as the cluster CA.
    fileprivate func startSigner(path: String, server: BenchAPIServer) throws -> BenchProcess {
        try BenchProcess.launch(
            name: "kube-controller-manager", executable: path,
            arguments: [
                "--kubeconfig=\(server.kubeconfig)", "--leader-elect=false", "--secure-port=0",
                "--bind-address=\(address)", "--controllers=csrapproving,csrsigning",
                "--cluster-signing-cert-file=\(server.pki)/ca.pem",
                "--cluster-signing-key-file=\(server.pki)/ca-key.pem",
                "--kube-api-qps=1000", "--kube-api-burst=1000", "--v=0",
            ])
    }

    /// Creates `--pods` pods already bound to the nodes, 64 at a time, and waits until the nodes report them all
    /// Running.
    fileprivate func runPods(on server: BenchAPIServer, simulator: NodeSimulator) async throws {
        let client = ResourceClient<Pod>(client: server.client, namespace: "default")
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<pods {
                if index >= 64 { try await group.next() }
                let pod = Pod(
                    metadata: ObjectMeta(name: "bench-\(index)", namespace: "default"),
                    spec: PodSpec(
                        containers: [Container(name: "c", image: "nginx")], nodeName: "sim-\(index % nodes)"))
                group.addTask { _ = try await client.create(pod) }
            }
            try await group.waitForAll()
        }
        let created = ContinuousClock.now - started
        while simulator.statistics.runningPods < pods {
            try await Task.sleep(for: .milliseconds(100))
        }
        let running = ContinuousClock.now - started
        print(
            "  pods:                 \(pods) created in \(format(created.seconds, 1)) s, all Running after "
                + "\(format(running.seconds, 1)) s (\(format(Double(pods) / running.seconds, 0)) pods/s)")
    }
}

extension Duration {
    fileprivate var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
