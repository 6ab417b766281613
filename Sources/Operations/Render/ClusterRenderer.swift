/// Renders what the guide writes by hand on each host, as pure functions of a ``ClusterLayout``: host name to
/// absolute path to contents. The flags are the guide's, made secure where the CIS Kubernetes Benchmark asks.
public enum ClusterRenderer {
    /// Every host's files.
    public static func render(_ layout: ClusterLayout) -> [String: [String: String]] {
        var hosts: [String: [String: String]] = [:]
        for name in layout.hostNames { hosts[name] = files(for: name, in: layout) }
        return hosts
    }

    /// One host's files: the masters' components, an etcd member, nginx, as the host's roles ask.
    public static func files(for host: String, in layout: ClusterLayout) -> [String: String] {
        var files: [String: String] = [:]
        if let master = layout.masters.first(where: { $0.name == host }) {
            files["/etc/kubernetes/config"] = sharedConfig(layout)
            files["/etc/kubernetes/apiserver"] = apiServerConfig(master, layout)
            files["/etc/kubernetes/scheduler"] = schedulerConfig(layout)
            files["/etc/kubernetes/controller-manager"] = controllerManagerConfig(layout)
            for component in Component.allCases {
                files["/usr/lib/systemd/system/\(component.rawValue).service"] = unit(component, layout)
            }
        }
        if let member = layout.etcd.first(where: { $0.name == host }) {
            files["/usr/lib/systemd/system/etcd.service"] = etcdUnit(member, layout)
        }
        if host == layout.loadBalancer {
            files["/etc/nginx/nginx.conf"] = NginxRenderer.configuration(layout)
        }
        return files
    }

    /// The three control-plane components the guide runs under systemd.
    public enum Component: String, CaseIterable, Sendable {
        case apiServer = "kube-apiserver"
        case scheduler = "kube-scheduler"
        case controllerManager = "kube-controller-manager"

        /// The component's own EnvironmentFile, next to the shared `/etc/kubernetes/config`.
        public var environmentFile: String {
            switch self {
            case .apiServer: "/etc/kubernetes/apiserver"
            case .scheduler: "/etc/kubernetes/scheduler"
            case .controllerManager: "/etc/kubernetes/controller-manager"
            }
        }

        /// The variables its ExecStart expands, in the guide's order.
        var variables: [String] {
            let shared = ["KUBE_LOGTOSTDERR", "KUBE_LOG_LEVEL"]
            switch self {
            case .apiServer:
                return shared + [
                    "KUBE_ETCD_SERVERS", "KUBE_API_ADDRESS", "KUBE_API_PORT", "KUBE_SERVICE_ADDRESSES",
                    "KUBE_ADMISSION_CONTROL", "KUBE_API_ARGS",
                ]
            case .scheduler: return shared + ["KUBE_SCHEDULER_ARGS"]
            case .controllerManager: return shared + ["KUBE_CONTROLLER_MANAGER_ARGS"]
            }
        }

        var description: String {
            switch self {
            case .apiServer: "Kubernetes API Server"
            case .scheduler: "Kubernetes Scheduler"
            case .controllerManager: "Kubernetes Controller Manager"
            }
        }
    }

    static func ssl(_ layout: ClusterLayout, _ file: String) -> String { layout.sslDirectory + "/" + file }

    static func sharedConfig(_ layout: ClusterLayout) -> String {
        environmentFile(
            header: "Shared by kube-apiserver, kube-scheduler and kube-controller-manager.",
            [
                ("KUBE_LOGTOSTDERR", ["--logtostderr=false", "--log-dir=\(layout.logDirectory)"]),
                ("KUBE_LOG_LEVEL", ["--v=0"]),
            ])
    }

    /// The API server flags (variable name to flags) for `master`.
    static func apiServerVariables(_ master: ClusterLayout.Host, _ layout: ClusterLayout) -> [(String, [String])] {
        let etcd = layout.etcd.map { "https://\($0.address):2379" }.joined(separator: ",")
        let ca = ssl(layout, "ca.pem")
        return [
            ("KUBE_API_ADDRESS", ["--advertise-address=\(master.address)", "--bind-address=\(master.address)"]),
            ("KUBE_API_PORT", ["--secure-port=\(layout.apiServerPort)"]),
            ("KUBE_ETCD_SERVERS", ["--etcd-servers=\(etcd)"]),
            ("KUBE_SERVICE_ADDRESSES", ["--service-cluster-ip-range=\(layout.serviceClusterIPRange)"]),
            (
                "KUBE_ADMISSION_CONTROL",
                [
                    "--enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,ResourceQuota,NodeRestriction"
                ]
            ),
            (
                "KUBE_API_ARGS",
                [
                    "--authorization-mode=Node,RBAC", "--anonymous-auth=false", "--profiling=false",
                    "--token-auth-file=/etc/kubernetes/token.csv", "--enable-bootstrap-token-auth=true",
                    "--tls-cert-file=\(ssl(layout, "kubernetes.pem"))",
                    "--tls-private-key-file=\(ssl(layout, "kubernetes-key.pem"))", "--client-ca-file=\(ca)",
                    "--kubelet-client-certificate=\(ssl(layout, "kubernetes.pem"))",
                    "--kubelet-client-key=\(ssl(layout, "kubernetes-key.pem"))",
                    "--service-account-key-file=\(ssl(layout, "ca-key.pem"))",
                    "--service-account-signing-key-file=\(ssl(layout, "ca-key.pem"))",
                    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                    "--service-account-lookup=true", "--etcd-cafile=\(ca)",
                    "--etcd-certfile=\(ssl(layout, "etcd-client.pem"))",
                    "--etcd-keyfile=\(ssl(layout, "etcd-client-key.pem"))",
                    "--apiserver-count=\(layout.masters.count)", "--audit-log-path=\(layout.logDirectory)/audit.log",
                    "--audit-log-maxage=30", "--audit-log-maxbackup=10", "--audit-log-maxsize=100", "--event-ttl=1h",
                ]
            ),
        ]
    }

    static func apiServerConfig(_ master: ClusterLayout.Host, _ layout: ClusterLayout) -> String {
        environmentFile(header: "kube-apiserver on \(master.name).", apiServerVariables(master, layout))
    }

    static func schedulerVariables(_ layout: ClusterLayout) -> [(String, [String])] {
        let kubeconfig = "/etc/kubernetes/kube-scheduler.kubeconfig"
        return [
            (
                "KUBE_SCHEDULER_ARGS",
                [
                    "--kubeconfig=\(kubeconfig)", "--authentication-kubeconfig=\(kubeconfig)",
                    "--authorization-kubeconfig=\(kubeconfig)", "--leader-elect=true", "--profiling=false",
                    "--bind-address=127.0.0.1",
                ]
            )
        ]
    }

    static func schedulerConfig(_ layout: ClusterLayout) -> String {
        environmentFile(header: "kube-scheduler.", schedulerVariables(layout))
    }

    static func controllerManagerVariables(_ layout: ClusterLayout) -> [(String, [String])] {
        let kubeconfig = "/etc/kubernetes/kube-controller-manager.kubeconfig"
        return [
            (
                "KUBE_CONTROLLER_MANAGER_ARGS",
                [
                    "--kubeconfig=\(kubeconfig)", "--authentication-kubeconfig=\(kubeconfig)",
                    "--authorization-kubeconfig=\(kubeconfig)", "--leader-elect=true",
                    "--use-service-account-credentials=true",
                    "--service-account-private-key-file=\(ssl(layout, "ca-key.pem"))",
                    "--root-ca-file=\(ssl(layout, "ca.pem"))",
                    "--cluster-signing-cert-file=\(ssl(layout, "ca.pem"))",
                    "--cluster-signing-key-file=\(ssl(layout, "ca-key.pem"))",
                    "--service-cluster-ip-range=\(layout.serviceClusterIPRange)", "--cluster-name=kubernetes",
                    "--terminated-pod-gc-threshold=12500", "--profiling=false", "--bind-address=127.0.0.1",
                ]
            )
        ]
    }

    static func controllerManagerConfig(_ layout: ClusterLayout) -> String {
        environmentFile(header: "kube-controller-manager.", controllerManagerVariables(layout))
    }

    /// `NAME="flags"` lines, the format systemd's EnvironmentFile= reads.
    static func environmentFile(header: String, _ variables: [(String, [String])]) -> String {
        var text = "###\n# \(header) Rendered by kubeswift render.\n"
        for (name, flags) in variables { text += "\(name)=\"\(flags.joined(separator: " "))\"\n" }
        return text
    }
}
