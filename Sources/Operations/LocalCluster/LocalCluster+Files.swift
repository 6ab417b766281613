import Foundation

extension LocalCluster {
    /// Writes what the processes read, keeping what a previous run left (CA, certificates, token, etcd data):
    /// the certificate set in `pki/`, each host's rendered files under its root (its `/etc/kubernetes/ssl` a link
    /// to `pki/`), the masters' token file and component kubeconfigs (each pointing at its own master, as the
    /// guide's point at 127.0.0.1), nginx's configuration, and the admin kubeconfig through nginx.
    public func writeFiles() throws {
        let fileManager = FileManager.default
        for directory in [stateDirectory, stateDirectory + "/logs", stateDirectory + "/run"] {
            try fileManager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let serviceIP = try ServiceNetwork.firstAddress(ofCIDR: layout.serviceClusterIPRange)
        var certificates = GuideCertificates.Options()
        certificates.apiServerIPAddresses = unique(
            ["127.0.0.1"] + layout.masters.map(\.address) + [loadBalancerAddress, serviceIP])
        let options = GuideCertificates.FileSetOptions(
            certificates: certificates, etcdIPAddresses: layout.etcd.map(\.address), clusterServer: loadBalancerURL,
            localServer: apiServerURL(layout.masters[0]))
        try GuideCertificates.writeFileSet(directory: pkiDirectory, options: options)
        try replace(adminKubeconfig, withCopyOf: pkiDirectory + "/admin.kubeconfig")

        for host in layout.hostNames {
            let root = hostRoot(host)
            for (path, text) in renderedFiles(host) { try write(text, to: root + path) }
            for directory in ["/var/lib/k8s", "/var/lib", "/etc/kubernetes"] {
                try fileManager.createDirectory(atPath: root + directory, withIntermediateDirectories: true)
            }
            let ssl = root + layout.sslDirectory
            if (try? fileManager.destinationOfSymbolicLink(atPath: ssl)) != pkiDirectory {
                try? fileManager.removeItem(atPath: ssl)
                try fileManager.createSymbolicLink(atPath: ssl, withDestinationPath: pkiDirectory)
            }
        }
        for master in layout.masters {
            let root = hostRoot(master.name)
            try replace(root + "/etc/kubernetes/token.csv", withCopyOf: pkiDirectory + "/token.csv")
            for component in ["kube-scheduler", "kube-controller-manager"] {
                var kubeconfig = try Kubeconfig.load(fromFile: "\(pkiDirectory)/\(component).kubeconfig")
                for index in kubeconfig.clusters.indices {
                    kubeconfig.clusters[index].value.server = apiServerURL(master)
                }
                try kubeconfig.write(toFile: "\(root)/etc/kubernetes/\(component).kubeconfig")
            }
        }
        let balancer = hostRoot(layout.loadBalancer)
        try write(nginxConfiguration, to: balancer + "/etc/nginx/nginx.conf")
        for directory in ["/var/log/nginx", "/run"] {
            try fileManager.createDirectory(atPath: balancer + directory, withIntermediateDirectories: true)
        }
    }

    private func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Copies `source` over `destination`, keeping the source's permissions (the token file is private).
    private func replace(_ destination: String, withCopyOf source: String) throws {
        let fileManager = FileManager.default
        try fileManager.createDirectory(
            atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if fileManager.fileExists(atPath: destination) { try fileManager.removeItem(atPath: destination) }
        try fileManager.copyItem(atPath: source, toPath: destination)
    }

    private func unique(_ values: [String]) -> [String] {
        var seen = Set<String>()
        return values.filter { seen.insert($0).inserted }
    }
}
