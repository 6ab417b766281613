import APIMachinery
import ArgumentParser
import Client
import Component
import Foundation
import Logging
import NodeSimulator

/// `kubeswift nodes`: simulated kubelets without containers, and failures on command.
struct Nodes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulated nodes: kubelets without containers, so pods go Running.",
        subcommands: [RunNodes.self, StopNode.self, StartNode.self, KillPod.self])
}

/// Which cluster a `nodes` command talks to: a kubeconfig, else `kubeswift up`'s state directory.
struct NodesCluster: ParsableArguments {
    @Option(help: "Kubeconfig of the cluster (default: <state-dir>/admin.kubeconfig).")
    var kubeconfig: String?

    @Option(help: "The state directory of `kubeswift up`.")
    var stateDir: String = Up.defaultStateDirectory

    /// A client for the cluster, with `qps`/`burst` as its rate limit.
    func client(qps: Double = ClientConfiguration.defaultQPS, burst: Int = ClientConfiguration.defaultBurst) throws
        -> RESTClient
    {
        var configuration = try ClientConfiguration.load(kubeconfigPath: kubeconfig ?? stateDir + "/admin.kubeconfig")
        configuration.qps = qps
        configuration.burst = burst
        configuration.userAgent = "kubeswift-nodes/v1.32.0 (linux/amd64) kubeswift"
        return try RESTClient(configuration: configuration)
    }
}

/// `kubeswift nodes run`: the simulator in the foreground until Ctrl-C.
struct RunNodes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run simulated nodes in the foreground until Ctrl-C.")

    @OptionGroup var cluster: NodesCluster

    @Option(help: "How many nodes to simulate.")
    var count: Int = 3

    @Option(help: "Node names are this prefix and the node's index.")
    var prefix: String = "sim-"

    @Option(help: "Labels added to each node, as --node-labels: key=value,….")
    var nodeLabels: String = ""

    @Option(help: "Taints each node registers with, as the kubelet's flag: key=value:Effect,….")
    var registerWithTaints: String = ""

    @Option(help: "Each node's cpu capacity.")
    var cpu: String = "32"

    @Option(help: "Each node's memory capacity.")
    var memory: String = "256Gi"

    @Option(help: "Each node's pod capacity.")
    var pods: String = "110"

    @Option(help: "Requests per second to the API server for all nodes' reads (default: 20 per node, at least 50).")
    var kubeAPIQPS: Double?

    @Option(
        help: """
            per-node: each node joins through the TLS bootstrap and writes as system:node:<name>; \
            shared: every node writes with --kubeconfig's credential (a scale option).
            """)
    var identity: NodeIdentity = .perNode

    @Option(
        help: """
            Bootstrap kubeconfig the nodes join with (the guide's kubelet-bootstrap token or a bootstrap token; \
            default: <state-dir>/bootstrap.kubeconfig).
            """)
    var bootstrapKubeconfig: String?

    func run() async throws {
        var configuration = NodeSimulatorConfiguration(count: count, prefix: prefix)
        configuration.labels = try NodeSimulatorConfiguration.parseLabels(nodeLabels)
        configuration.taints = try NodeSimulatorConfiguration.parseTaints(registerWithTaints)
        configuration.capacity["cpu"] = cpu
        configuration.capacity["memory"] = memory
        configuration.capacity["pods"] = pods
        let problems = configuration.validate()
        guard problems.isEmpty else { throw ValidationError(problems.joined(separator: "; ")) }
        LogSink.bootstrap(component: "kubeswift-nodes", toStderr: true, logDirectory: "", verbosity: 0)
        let qps = kubeAPIQPS ?? Self.defaultQPS(nodes: count)
        let client = try cluster.client(qps: qps, burst: Int(qps * 2))
        let credentials = try await identity.credentials(
            bootstrapKubeconfig: bootstrapKubeconfig ?? cluster.stateDir + "/bootstrap.kubeconfig", readClient: client,
            logger: Logger(label: "kubeswift.nodes"))
        let simulator = NodeSimulator(configuration: configuration, client: client, credentials: credentials)
        let task = Task { await simulator.run() }
        let signals = SignalWatcher { task.cancel() }
        Up.say("Simulating \(count) nodes (\(configuration.nodeName(0)) …). Press Ctrl-C to stop.")
        await task.value
        signals.cancel()
        await client.shutdown()
        let statistics = simulator.statistics
        Up.say("Stopped \(statistics.registeredNodes) nodes; writes: \(statistics.requests.sorted { $0.key < $1.key })")
    }

    /// A kubelet may send 50 requests/s of its own; idle nodes need far less, so 20 per node is ample.
    static func defaultQPS(nodes: Int) -> Double { Double(max(50, nodes * 20)) }
}

/// Whose identity simulated nodes write with.
enum NodeIdentity: String, ExpressibleByArgument, CaseIterable {
    case perNode = "per-node"
    case shared

    /// The nodes' credentials: nil for the shared read client; for per-node, the TLS bootstrap through
    /// `bootstrapKubeconfig`, after making sure (through `readClient`, an administrator's) that its bootstrap
    /// token's Secret and the bootstrap bindings exist.
    func credentials(bootstrapKubeconfig: String, readClient: RESTClient, logger: Logger) async throws
        -> (any NodeCredentials)?
    {
        guard self == .perNode else { return nil }
        var bootstrap: ClientConfiguration
        do {
            bootstrap = try ClientConfiguration.load(kubeconfigPath: bootstrapKubeconfig)
        } catch {
            throw ValidationError(
                "cannot read the bootstrap kubeconfig \(bootstrapKubeconfig) (\(error)); "
                    + "pass --bootstrap-kubeconfig, or --identity=shared")
        }
        bootstrap.qps = ClientConfiguration.defaultQPS
        do {
            try await NodeBootstrapSetup.ensure(
                client: readClient, token: bootstrap.bearerToken.flatMap(BootstrapToken.init(parsing:)),
                logger: logger)
        } catch let error as StatusError where error.statusReason == .forbidden {
            // Not an administrator: the cluster's operator made the token and bindings, or joins will say why not.
            logger.warning("cannot check the bootstrap token and bindings", metadata: ["error": "\(error)"])
        }
        return try BootstrapNodeCredentials(
            configuration: BootstrapNodeCredentials.Configuration(bootstrap: bootstrap), watchClient: readClient,
            logger: logger)
    }
}

/// `kubeswift nodes stop NAME`: the node's kubelet goes silent (no heartbeats, no status).
struct StopNode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop", abstract: "Stop a simulated node's heartbeats and status updates.")

    @OptionGroup var cluster: NodesCluster

    @Argument(help: "The node's name.")
    var name: String

    func run() async throws {
        try await NodeControl.mark(name, stopped: true, cluster: cluster)
        Up.say("node/\(name) stopped")
    }
}

/// `kubeswift nodes start NAME`: the node's kubelet resumes.
struct StartNode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start", abstract: "Resume a stopped simulated node.")

    @OptionGroup var cluster: NodesCluster

    @Argument(help: "The node's name.")
    var name: String

    func run() async throws {
        try await NodeControl.mark(name, stopped: false, cluster: cluster)
        Up.say("node/\(name) started")
    }
}

/// `kubeswift nodes kill-pod NS/NAME`: a container of the pod exits with 137.
struct KillPod: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kill-pod", abstract: "Kill a container of a pod on a simulated node (it exits with 137).")

    @OptionGroup var cluster: NodesCluster

    @Argument(help: "The pod, as NAMESPACE/NAME (or NAME in default).")
    var pod: String

    @Option(help: "The container to kill (default: the first running one).")
    var container: String = ""

    func run() async throws {
        guard let key = ObjectKey(parsing: pod), !key.name.isEmpty else {
            throw ValidationError("the pod must be NAMESPACE/NAME")
        }
        let namespace = key.namespace.isEmpty ? "default" : key.namespace
        // A fresh nonce makes every request a change the simulator sees, even for the same container.
        let request = "\(container)@\(UInt64(Date().timeIntervalSince1970 * 1_000_000))"
        try await NodeControl.annotate(
            ResourceClient<Pod>.self, namespace: namespace, name: key.name, SimulatorAnnotations.kill,
            .string(request), cluster: cluster)
        Up.say("pod/\(key.name) killed")
    }
}

/// The annotation writes through which `stop`, `start` and `kill-pod` reach a running simulator.
enum NodeControl {
    static func mark(_ name: String, stopped: Bool, cluster: NodesCluster) async throws {
        let value: JSON = stopped ? .string(SimulatorAnnotations.stopped) : .null
        try await annotate(
            ResourceClient<Node>.self, namespace: nil, name: name, SimulatorAnnotations.state, value, cluster: cluster)
    }

    /// Sets (or with null removes) one annotation of an object with a merge patch.
    static func annotate<Object: KubernetesObject>(
        _ kind: ResourceClient<Object>.Type, namespace: String?, name: String, _ annotation: String, _ value: JSON,
        cluster: NodesCluster
    ) async throws {
        let client = try cluster.client()
        do {
            _ = try await kind.init(client: client, namespace: namespace).patch(
                name, ["metadata": ["annotations": .object(JSONObject([(key: annotation, value: value)]))]])
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
    }
}
