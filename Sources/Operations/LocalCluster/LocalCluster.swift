import Foundation

/// The guide's cluster on one machine's loopback addresses: masters `k8s-1…` on 127.0.0.11 and up, three etcd
/// members right after them, nginx on 127.0.0.10. Every host's rendered files are written under
/// `<state>/hosts/<host>`, as `kubeswift render --out` lays them out, and each process runs with the command line
/// its unit and EnvironmentFiles give (``UnitCommandLine``) plus the few changes one shared machine needs
/// (``processes()`` says which and why).
public struct LocalCluster: Sendable, Hashable {
    /// What a process is, for the supervisor, `kubeswift status` and the failover bench.
    public enum Role: String, Sendable, Hashable, Codable, CaseIterable {
        case etcd
        case apiServer = "kube-apiserver"
        case scheduler = "kube-scheduler"
        case controllerManager = "kube-controller-manager"
        case loadBalancer = "nginx"
    }

    /// One process of the cluster: what to run, where it logs, and how long to wait before restarting it.
    public struct Process: Sendable, Hashable, Codable {
        /// Unique name, e.g. `kube-apiserver@k8s-2` or `etcd@etcd-1`.
        public var name: String
        public var role: Role
        /// The host it belongs to.
        public var host: String
        /// The host's address (what it binds).
        public var address: String
        /// Executable, then arguments.
        public var arguments: [String]
        /// Its standard output and error.
        public var logFile: String
        /// systemd's RestartSec= for its unit (Restart=on-failure).
        public var restartDelaySeconds: Double
    }

    /// The state directory: `pki/`, `hosts/`, logs and the admin kubeconfig.
    public var stateDirectory: String
    /// The hosts and settings, as `kubeswift render` takes them.
    public var layout: ClusterLayout
    /// nginx's address; its port is `layout.loadBalancerPort`.
    public var loadBalancerAddress: String
    /// Where kube-apiserver, kube-scheduler and kube-controller-manager are.
    public var binDirectory: String
    /// The schedulers' and controller-managers' lease settings when not the rendered (upstream's) ones.
    public var leaderElection: LeaderElectionTimings?

    /// `--leader-elect-lease-duration`, `--leader-elect-renew-deadline` and `--leader-elect-retry-period`, as Go
    /// durations (`4s`, `1500ms`).
    public struct LeaderElectionTimings: Sendable, Hashable, Codable {
        public var leaseDuration: String
        public var renewDeadline: String
        public var retryPeriod: String

        /// `lease,renew,retry`, e.g. `4s,2s,1s`; nil unless three non-empty values.
        public init?(parsing text: String) {
            let parts = text.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard parts.count == 3, !parts.contains(where: \.isEmpty) else { return nil }
            leaseDuration = parts[0]
            renewDeadline = parts[1]
            retryPeriod = parts[2]
        }

        var flags: [String] {
            [
                "--leader-elect-lease-duration=\(leaseDuration)", "--leader-elect-renew-deadline=\(renewDeadline)",
                "--leader-elect-retry-period=\(retryPeriod)",
            ]
        }
    }

    /// Loopback addresses this layout uses: nginx on .10, masters from .11, etcd members after the masters.
    public static let loadBalancerLoopback = "127.0.0.10"

    /// `masters` masters (2 to 5) and three etcd members on loopback, nginx on 127.0.0.10:6443; `leaderElection`
    /// tunes the schedulers' and controller-managers' leases.
    public static func loopback(
        masters: Int, stateDirectory: String, binDirectory: String, leaderElection: LeaderElectionTimings? = nil
    ) -> LocalCluster {
        let masterHosts = (0..<masters).map { ClusterLayout.Host(name: "k8s-\($0 + 1)", address: "127.0.0.\(11 + $0)") }
        let etcdHosts = (0..<3).map {
            ClusterLayout.Host(name: "etcd-\($0 + 1)", address: "127.0.0.\(11 + masters + $0)")
        }
        var layout = ClusterLayout(masters: masterHosts, etcd: etcdHosts, loadBalancer: "lb")
        // nginx has an address of its own here, so it can take the API port the guide's clients expect.
        layout.loadBalancerPort = 6443
        layout.binDirectory = binDirectory
        var cluster = LocalCluster(
            stateDirectory: stateDirectory, layout: layout, loadBalancerAddress: loadBalancerLoopback,
            binDirectory: binDirectory)
        cluster.leaderElection = leaderElection
        return cluster
    }

    public init(stateDirectory: String, layout: ClusterLayout, loadBalancerAddress: String, binDirectory: String) {
        self.stateDirectory = stateDirectory
        self.layout = layout
        self.loadBalancerAddress = loadBalancerAddress
        self.binDirectory = binDirectory
    }

    /// The certificate set `kubeswift pki` writes.
    public var pkiDirectory: String { stateDirectory + "/pki" }
    /// The admin's kubeconfig, through nginx.
    public var adminKubeconfig: String { stateDirectory + "/admin.kubeconfig" }
    /// nginx's server URL.
    public var loadBalancerURL: String { "https://\(loadBalancerAddress):\(layout.loadBalancerPort)" }
    /// The etcd client URLs, as the API servers' `--etcd-servers`.
    public var etcdURLs: [String] { layout.etcd.map { "https://\($0.address):2379" } }
    /// An API server's URL.
    public func apiServerURL(_ master: ClusterLayout.Host) -> String {
        "https://\(master.address):\(layout.apiServerPort)"
    }

    /// The folder standing for `host`'s root file system.
    public func hostRoot(_ host: String) -> String { stateDirectory + "/hosts/" + host }

    /// The host paths the rendered files name that live under a host's root here; the rest (executables, the
    /// state directory itself) are used as they are.
    static let hostPaths = ["/etc/kubernetes", "/var/lib/k8s", "/var/lib/etcd", "/var/log/nginx", "/run/"]

    /// `value` moved under `host`'s root when it is one of ``hostPaths``.
    func relocated(_ value: String, host: String) -> String {
        Self.hostPaths.contains { value.hasPrefix($0) } ? hostRoot(host) + value : value
    }

    /// Every flag value naming a host path, moved under the host's root.
    func relocated(arguments: [String], host: String) -> [String] {
        arguments.map { argument in
            guard argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") else {
                return relocated(argument, host: host)
            }
            let value = String(argument[argument.index(after: equals)...])
            return argument[...equals] + relocated(value, host: host)
        }
    }

    /// `arguments` with each `--name=` in `values` given the new value.
    static func overriding(_ arguments: [String], _ values: [String: String]) -> [String] {
        arguments.map { argument in
            guard argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") else { return argument }
            let name = String(argument[argument.index(argument.startIndex, offsetBy: 2)..<equals])
            return values[name].map { "--\(name)=\($0)" } ?? argument
        }
    }

    /// The rendered files of `host`, by absolute path on the host.
    public func renderedFiles(_ host: String) -> [String: String] { ClusterRenderer.files(for: host, in: layout) }

    /// nginx's configuration: the rendered one, listening on its own address, with its pid and error log
    /// under its host's root.
    public var nginxConfiguration: String {
        var text = NginxRenderer.configuration(layout)
        text = text.replacing(
            "listen \(layout.loadBalancerPort);", with: "listen \(loadBalancerAddress):\(layout.loadBalancerPort);")
        for path in Self.hostPaths {
            text = text.replacing(" " + path, with: " " + hostRoot(layout.loadBalancer) + path)
        }
        return text
    }

    /// Every process in start order: etcd members, API servers, schedulers, controller-managers, nginx. The
    /// rendered command lines change only where hosts share this machine: host paths live under each host's
    /// root; an etcd member listens on its own address alone (the rendered extra 127.0.0.1:2379 would be
    /// taken three times); the schedulers and controller-managers serve health on their master's address
    /// instead of 127.0.0.1 (one port each per machine); tuned ``leaderElection`` settings come last, so they win.
    public func processes() throws(UnitCommandLineError) -> [Process] {
        var processes: [Process] = []
        for member in layout.etcd {
            let files = renderedFiles(member.name)
            guard let unit = files["/usr/lib/systemd/system/etcd.service"] else {
                throw UnitCommandLineError("no etcd unit rendered for \(member.name)")
            }
            var arguments = try UnitCommandLine.arguments(unit: unit, files: files)
            arguments = Self.overriding(arguments, ["listen-client-urls": "https://\(member.address):2379"])
            processes.append(process(.etcd, member, arguments: arguments, restartDelay: 5))
        }
        for role in [Role.apiServer, .scheduler, .controllerManager] {
            for master in layout.masters {
                let files = renderedFiles(master.name)
                guard let unit = files["/usr/lib/systemd/system/\(role.rawValue).service"] else {
                    throw UnitCommandLineError("no \(role.rawValue) unit rendered for \(master.name)")
                }
                var arguments = try UnitCommandLine.arguments(unit: unit, files: files)
                if role != .apiServer {
                    arguments = Self.overriding(arguments, ["bind-address": master.address])
                    arguments += leaderElection?.flags ?? []
                }
                processes.append(process(role, master, arguments: arguments, restartDelay: 1))
            }
        }
        let balancer = ClusterLayout.Host(name: layout.loadBalancer, address: loadBalancerAddress)
        let root = hostRoot(balancer.name)
        processes.append(
            Process(
                name: "nginx@\(balancer.name)", role: .loadBalancer, host: balancer.name, address: balancer.address,
                arguments: [
                    Self.nginxBinary, "-p", root + "/", "-c", root + "/etc/nginx/nginx.conf", "-e",
                    root + "/var/log/nginx/error.log", "-g", "daemon off;",
                ], logFile: logFile(balancer.name, "nginx"), restartDelaySeconds: 1))
        return processes
    }

    func process(_ role: Role, _ host: ClusterLayout.Host, arguments: [String], restartDelay: Double) -> Process {
        Process(
            name: "\(role.rawValue)@\(host.name)", role: role, host: host.name, address: host.address,
            arguments: relocated(arguments: arguments, host: host.name), logFile: logFile(host.name, role.rawValue),
            restartDelaySeconds: restartDelay)
    }

    func logFile(_ host: String, _ component: String) -> String { stateDirectory + "/logs/\(component)@\(host).log" }

    /// Debian's etcd and nginx.
    public static let etcdBinary = "/usr/bin/etcd"
    public static let nginxBinary = "/usr/sbin/nginx"

    /// What is missing to run the cluster, each with the line that installs it; empty when all is there.
    public func missingPrerequisites() -> [String] {
        let fileManager = FileManager.default
        var missing: [String] = []
        if !fileManager.isExecutableFile(atPath: Self.etcdBinary) {
            missing.append("\(Self.etcdBinary) is missing: apt-get install etcd-server")
        }
        if !fileManager.isExecutableFile(atPath: Self.nginxBinary) {
            missing.append("\(Self.nginxBinary) is missing: apt-get install nginx libnginx-mod-stream")
        } else if !fileManager.fileExists(atPath: NginxRenderer.defaultStreamModule) {
            missing.append(
                "nginx's stream module (\(NginxRenderer.defaultStreamModule)) is missing: "
                    + "apt-get install libnginx-mod-stream")
        }
        for role in [Role.apiServer, .scheduler, .controllerManager]
        where !fileManager.isExecutableFile(atPath: binDirectory + "/" + role.rawValue) {
            missing.append("\(binDirectory)/\(role.rawValue) is missing: swift build")
        }
        return missing
    }
}
