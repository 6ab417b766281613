import APIServer
import ArgumentParser
import Client
import Component
import ControllerManager
import Foundation
import Logging
import NodeSimulator
import Operations
import Scheduler

/// `kubeswift up`: a local control plane on loopback in the foreground, with the embedded store.
struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start a local control plane on loopback and print how to point kubectl at it.")

    @Option(help: "Directory for certificates, kubeconfigs and data (reused on the next run).")
    var stateDir: String = Up.defaultStateDirectory

    @Option(help: "Address the API server listens on; must be a loopback address.")
    var address: String = "127.0.0.1"

    @Option(help: "The API server's secure port.")
    var port: Int = 6443

    @Option(help: "The scheduler's secure port for /healthz and /metrics.")
    var schedulerPort: Int = 10259

    @Option(help: "The controller-manager's secure port for /healthz and /metrics.")
    var controllerManagerPort: Int = 10257

    @Option(
        help: """
            Masters; above 1, the guide's HA cluster: that many masters (2-5) of separate kube-apiserver, \
            kube-scheduler and kube-controller-manager processes on 127.0.0.11 and up, three etcd members over TLS \
            and nginx on 127.0.0.10:6443 (state in <state-dir>/ha by default).
            """)
    var masters: Int = 1

    @Option(
        help: """
            With --masters: the schedulers' and controller-managers' lease duration, renew deadline and retry \
            period, such as 4s,2s,1s; empty keeps the rendered (upstream's 15s,10s,2s).
            """)
    var leaderElectTimings: String = ""

    @Option(help: "Simulated nodes (kubelets without containers) to run beside the control plane; 0 for none.")
    var nodes: Int = 3

    @Option(
        help: "per-node: simulated nodes join with a bootstrap token and their own certificates; shared: one identity.")
    var nodeIdentity: NodeIdentity = .perNode

    @Option(help: "Service cluster IP range, as the guide sets it.")
    var serviceClusterIPRange: String = "10.254.0.0/16"

    @Option(help: "Pod address range; the controller-manager gives each node a /24 of it.")
    var clusterCIDR: String = "10.64.0.0/16"

    /// Writes a line straight to standard output: it may be a pipe (a supervisor, a test), where
    /// `print` would leave the line in a buffer.
    static func say(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static var defaultStateDirectory: String {
        (ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()) + "/.kubeswift"
    }

    func run() async throws {
        if masters > 1 { return try await UpHA(up: self, masters: masters).run() }
        guard address.hasPrefix("127.") || address == "::1" else {
            throw ValidationError("--address must be a loopback address (127.0.0.0/8 or ::1)")
        }
        let pki = stateDir + "/pki"
        try FileManager.default.createDirectory(atPath: pki, withIntermediateDirectories: true)
        let kubeconfigPath = stateDir + "/admin.kubeconfig"
        guard let range = IPv4Range(cidr: serviceClusterIPRange) else {
            throw ValidationError("--service-cluster-ip-range must be an IPv4 CIDR such as 10.254.0.0/16")
        }
        let serviceIP = IPv4Range.format(range.first)
        if !FileManager.default.fileExists(atPath: pki + "/admin.pem")
            || !FileManager.default.fileExists(atPath: kubeconfigPath)
        {
            var options = GuideCertificates.Options()
            options.apiServerIPAddresses = Array(Set(["127.0.0.1", address, serviceIP]))
            let certificates = try GuideCertificates.write(directory: pki, options: options)
            try Kubeconfig.admin(
                server: "https://\(address):\(port)", certificateAuthority: certificates.certificateAuthority,
                admin: certificates.admin
            ).write(toFile: kubeconfigPath)
        }
        // kubeadm's front-proxy pair, so that aggregated API servers work out of the box.
        try FrontProxyCertificates.write(directory: pki)
        // The components act as upstream's do, each as its own user under its bootstrap RBAC roles.
        let schedulerKubeconfig = try componentKubeconfig("kube-scheduler", pki: pki)
        let controllerManagerKubeconfig = try componentKubeconfig("kube-controller-manager", pki: pki)
        LogSink.bootstrap(component: "kubeswift", toStderr: true, logDirectory: "", verbosity: 0)
        var flags = FlagSet(APIServerCommand.flags)
        try flags.parse([
            "--bind-address=\(address)", "--advertise-address=\(address)", "--secure-port=\(port)",
            "--tls-cert-file=\(pki)/kubernetes.pem", "--tls-private-key-file=\(pki)/kubernetes-key.pem",
            "--client-ca-file=\(pki)/ca.pem", "--data-dir=\(stateDir)/data",
            "--service-cluster-ip-range=\(serviceClusterIPRange)", "--anonymous-auth=false",
            // As the guide secures its masters: Node and RBAC (the admin certificate is in system:masters),
            // NodeRestriction on top of the default plugins, bootstrap tokens, and service-account tokens
            // signed with the CA key.
            "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
            "--experimental-bootstrap-token-auth",
            "--service-account-key-file=\(pki)/ca-key.pem",
            // The guide's flag: the API explorer at /swagger-ui/ and the cluster overview at /ui/.
            "--enable-swagger-ui=true",
        ] + FrontProxyCertificates.apiServerFlags(directory: pki))
        let logger = Logger(label: "kubeswift")
        let running = try await APIServerCommand.start(flags, logger: logger)
        let scheduler = Task {
            await SchedulerCommand.run(
                arguments: [
                    "--kubeconfig=\(schedulerKubeconfig)", "--bind-address=\(address)",
                    "--secure-port=\(schedulerPort)",
                    "--leader-elect=true",
                ], logger: Logger(label: "kube-scheduler"))
        }
        let controllerManager = Task {
            await ControllerManagerCommand.run(
                arguments: [
                    "--kubeconfig=\(controllerManagerKubeconfig)", "--bind-address=\(address)",
                    "--secure-port=\(controllerManagerPort)", "--leader-elect=true",
                    "--service-account-private-key-file=\(pki)/ca-key.pem", "--root-ca-file=\(pki)/ca.pem",
                    "--cluster-signing-cert-file=\(pki)/ca.pem", "--cluster-signing-key-file=\(pki)/ca-key.pem",
                    "--service-cluster-ip-range=\(serviceClusterIPRange)", "--use-service-account-credentials",
                    "--allocate-node-cidrs=true", "--cluster-cidr=\(clusterCIDR)",
                ], logger: Logger(label: "kube-controller-manager"))
        }
        let simulatedNodes = try await startNodes(kubeconfig: kubeconfigPath, pki: pki)
        Self.say(
            """

            KubeSwift control plane is up at https://\(address):\(port) (state in \(stateDir)),
            with kube-scheduler (health on https://\(address):\(schedulerPort)/healthz), kube-controller-manager
            (health on https://\(address):\(controllerManagerPort)/healthz)\(simulatedNodes.summary).
            Point kubectl at it with:

                export KUBECONFIG=\(kubeconfigPath)
                kubectl get namespaces

            Look at it in a browser: run `kubectl proxy --port=8001`, then open http://127.0.0.1:8001/ui/
            (the API explorer is at http://127.0.0.1:8001/swagger-ui/).

            Press Ctrl-C to stop.
            """)
        let (interrupts, interrupted) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let signals = SignalWatcher { interrupted.yield() }
        for await _ in interrupts { break }
        // The components first, so they release their leases and end their watches while the API server still
        // answers; then the executable's graceful path: /readyz fails, watches end cleanly, requests in flight
        // finish, the listeners close.
        scheduler.cancel()
        controllerManager.cancel()
        simulatedNodes.task?.cancel()
        _ = await scheduler.value
        _ = await controllerManager.value
        _ = await simulatedNodes.task?.value
        await running.shutdown(logger: logger)
        signals.cancel()
        Self.say("KubeSwift control plane stopped.")
    }

    /// The kubeconfig `component` runs with, as the user of its name with a certificate from the cluster CA;
    /// written once and reused.
    func componentKubeconfig(_ component: String, pki: String) throws -> String {
        let path = stateDir + "/\(component).kubeconfig"
        guard !FileManager.default.fileExists(atPath: path) else { return path }
        try Kubeconfig.issued(
            forUser: "system:\(component)", server: "https://\(address):\(port)",
            authority: try CertificateAuthority.load(directory: pki)
        ).write(toFile: path)
        return path
    }

    /// Starts `--nodes` simulated nodes in-process: they read with the admin credential and, per node, join
    /// through the TLS bootstrap with the state directory's bootstrap token (made once); the task runs until
    /// cancelled.
    func startNodes(kubeconfig: String, pki: String) async throws -> (task: Task<Void, Never>?, summary: String) {
        guard nodes > 0 else { return (nil, "") }
        let configuration = NodeSimulatorConfiguration(count: nodes, prefix: "sim-")
        let problems = configuration.validate()
        guard problems.isEmpty else { throw ValidationError(problems.joined(separator: "; ")) }
        var clientConfiguration = try ClientConfiguration.load(kubeconfigPath: kubeconfig)
        clientConfiguration.qps = RunNodes.defaultQPS(nodes: nodes)
        clientConfiguration.burst = Int(clientConfiguration.qps * 2)
        clientConfiguration.userAgent = "kubeswift-nodes/v1.32.0 (linux/amd64) kubeswift"
        let client = try RESTClient(configuration: clientConfiguration)
        let logger = Logger(label: "node-simulator")
        let bootstrapKubeconfig = stateDir + "/bootstrap.kubeconfig"
        if nodeIdentity == .perNode && !FileManager.default.fileExists(atPath: bootstrapKubeconfig) {
            let authority = try String(contentsOfFile: pki + "/ca.pem", encoding: .utf8)
            try Kubeconfig.bootstrap(
                server: "https://\(address):\(port)", certificateAuthorityPEM: authority,
                token: BootstrapToken.random().description
            ).write(toFile: bootstrapKubeconfig)
        }
        let credentials = try await nodeIdentity.credentials(
            bootstrapKubeconfig: bootstrapKubeconfig, readClient: client, logger: logger)
        let simulator = NodeSimulator(
            configuration: configuration, client: client, credentials: credentials, logger: logger)
        let task = Task { await simulator.run() }
        let identity = nodeIdentity == .perNode ? "joining with their own certificates" : "sharing one identity"
        return (task, " and \(nodes) simulated nodes (\(configuration.nodeName(0)) …, \(identity))")
    }
}
