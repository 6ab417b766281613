extension ClusterRenderer {
    /// The guide's unit for `component`: Type=notify, its EnvironmentFiles optional (the `-`), restarted on failure.
    static func unit(_ component: Component, _ layout: ClusterLayout) -> String {
        let arguments = component.variables.map { "$" + $0 }.joined(separator: " \\\n")
        let after =
            component == .apiServer ? "After=network.target\nAfter=etcd.service\n" : "After=kube-apiserver.service\n"
        return """
            [Unit]
            Description=\(component.description)
            Documentation=https://github.com/kubernetes/kubernetes
            \(after)
            [Service]
            EnvironmentFile=-/etc/kubernetes/config
            EnvironmentFile=-\(component.environmentFile)
            ExecStart=\(layout.binDirectory)/\(component.rawValue) \\
            \(arguments)
            Restart=on-failure
            Type=notify
            LimitNOFILE=65536

            [Install]
            WantedBy=multi-user.target

            """
    }

    /// The etcd member's flags: TLS for clients and peers, client certificates required on both.
    static func etcdFlags(_ member: ClusterLayout.Host, _ layout: ClusterLayout) -> [String] {
        let cluster = layout.etcd.map { "\($0.name)=https://\($0.address):2380" }.joined(separator: ",")
        let ca = ssl(layout, "ca.pem")
        return [
            "--name=\(member.name)", "--data-dir=/var/lib/etcd",
            "--listen-client-urls=https://\(member.address):2379,https://127.0.0.1:2379",
            "--advertise-client-urls=https://\(member.address):2379",
            "--listen-peer-urls=https://\(member.address):2380",
            "--initial-advertise-peer-urls=https://\(member.address):2380", "--initial-cluster=\(cluster)",
            "--initial-cluster-token=etcd-cluster", "--initial-cluster-state=new",
            "--cert-file=\(ssl(layout, "etcd-server.pem"))", "--key-file=\(ssl(layout, "etcd-server-key.pem"))",
            "--trusted-ca-file=\(ca)", "--client-cert-auth=true",
            "--peer-cert-file=\(ssl(layout, "etcd-peer.pem"))", "--peer-key-file=\(ssl(layout, "etcd-peer-key.pem"))",
            "--peer-trusted-ca-file=\(ca)", "--peer-client-cert-auth=true",
            // Lets the API servers' watch caches learn the revision on quiet resources, as upstream recommends.
            "--experimental-watch-progress-notify-interval=5s",
        ]
    }

    static func etcdUnit(_ member: ClusterLayout.Host, _ layout: ClusterLayout) -> String {
        let flags = etcdFlags(member, layout).map { "  " + $0 }.joined(separator: " \\\n")
        return """
            [Unit]
            Description=etcd key-value store (\(member.name))
            Documentation=https://github.com/etcd-io/etcd
            After=network-online.target
            Wants=network-online.target

            [Service]
            Type=notify
            ExecStart=\(layout.etcdBinary) \\
            \(flags)
            Restart=on-failure
            RestartSec=5
            LimitNOFILE=65536

            [Install]
            WantedBy=multi-user.target

            """
    }
}

/// The load balancer host's nginx: TCP pass-through (TLS ends at the API servers, so client certificates work).
public enum NginxRenderer {
    /// Where Debian's `libnginx-mod-stream` installs the stream module.
    public static let defaultStreamModule = "/usr/lib/nginx/modules/ngx_stream_module.so"

    /// A whole `nginx.conf`. One failed connect marks a master down for 2 s, a connect that hangs fails after 1 s,
    /// and the connection moves to the next master, so a dead master costs a client at most a second or so.
    public static func configuration(_ layout: ClusterLayout, streamModule: String? = defaultStreamModule) -> String {
        let servers = layout.masters.map {
            "        server \($0.address):\(layout.apiServerPort) max_fails=1 fail_timeout=2s;"
        }.joined(separator: "\n")
        let load = streamModule.map { "load_module \($0);\n" } ?? ""
        return """
            # The API servers behind \(layout.loadBalancer), rendered by kubeswift render.
            \(load)worker_processes auto;
            pid /run/nginx.pid;
            error_log /var/log/nginx/error.log warn;

            events {
                worker_connections 4096;
            }

            stream {
                upstream kube-apiserver {
            \(servers)
                }

                server {
                    listen \(layout.loadBalancerPort);
                    proxy_pass kube-apiserver;
                    proxy_connect_timeout 1s;
                    # Watches stay open for many minutes; the API server ends them itself.
                    proxy_timeout 1h;
                    proxy_next_upstream on;
                    proxy_next_upstream_timeout 3s;
                    proxy_next_upstream_tries \(layout.masters.count);
                }
            }

            """
    }
}
