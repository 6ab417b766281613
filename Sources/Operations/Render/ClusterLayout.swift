/// The machines of a guide-style cluster and where things live on them: the input of ``ClusterRenderer``.
public struct ClusterLayout: Sendable, Hashable {
    /// A machine: its host name and the address the others reach it at.
    public struct Host: Sendable, Hashable {
        /// Host name, e.g. `k8s-1`.
        public var name: String
        /// IP address.
        public var address: String

        public init(name: String, address: String) {
            self.name = name
            self.address = address
        }

        /// Parses `name=address,…` as the `render` flags take them.
        public static func list(_ text: String) -> [Host]? {
            var hosts: [Host] = []
            for item in text.split(separator: ",") {
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
                hosts.append(Host(name: parts[0], address: parts[1]))
            }
            return hosts.isEmpty ? nil : hosts
        }
    }

    /// Hosts running an API server, a scheduler and a controller-manager.
    public var masters: [Host]
    /// Hosts running an etcd member.
    public var etcd: [Host]
    /// Name of the host running nginx in front of the API servers.
    public var loadBalancer: String
    /// Port nginx listens on; not 6443 by default because the guide's load balancer shares a master.
    public var loadBalancerPort: Int = 8443
    /// The API servers' secure port.
    public var apiServerPort: Int = 6443
    /// The Service network (`--service-cluster-ip-range`).
    public var serviceClusterIPRange: String = "10.254.0.0/16"
    /// Where the Kubernetes executables are, as in the guide.
    public var binDirectory: String = "/usr/local/kubernetes/server/bin"
    /// The etcd executable (Debian's `etcd-server`).
    public var etcdBinary: String = "/usr/bin/etcd"
    /// Certificates and keys on every host.
    public var sslDirectory: String = "/etc/kubernetes/ssl"
    /// Log and audit log directory, as in the guide.
    public var logDirectory: String = "/var/lib/k8s"

    public init(masters: [Host], etcd: [Host], loadBalancer: String) {
        self.masters = masters
        self.etcd = etcd
        self.loadBalancer = loadBalancer
    }

    /// Every host name, masters first, each once.
    public var hostNames: [String] {
        var seen = Set<String>()
        return (masters + etcd).map(\.name).filter { seen.insert($0).inserted }
    }

    /// The load balancer's address, when it is one of the known hosts.
    public var loadBalancerAddress: String? {
        (masters + etcd).first { $0.name == loadBalancer }?.address
    }
}
