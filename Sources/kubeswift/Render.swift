import ArgumentParser
import Foundation
import Operations

/// `kubeswift render`: every host's units, EnvironmentFiles, certificates and nginx configuration, or a check of one.
struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render each host's systemd units, /etc/kubernetes files and nginx, or check a host's files.")

    @Option(help: "Masters as name=address,….")
    var masters: String?

    @Option(help: "etcd members as name=address,….")
    var etcd: String?

    @Option(help: "The host name running nginx in front of the API servers.")
    var lb: String?

    @Option(help: "The port nginx listens on.")
    var lbPort: Int = 8443

    @Option(help: "The Service network.")
    var serviceClusterIPRange: String = "10.254.0.0/16"

    @Option(help: "A directory written by `kubeswift pki`, copied into each master's /etc/kubernetes.")
    var pki: String?

    @Option(help: "Output directory: one folder per host, holding the host's absolute paths.")
    var out: String?

    @Option(help: "Check a host's folder (as --out writes it) instead of rendering.")
    var check: String?

    @Option(help: "With --check: the host the folder belongs to, to compare every flag with the rendering.")
    var host: String?

    /// The ssl files each master and etcd member needs.
    static let sslFiles = [
        "ca.pem", "ca-key.pem", "kubernetes.pem", "kubernetes-key.pem", "etcd-server.pem", "etcd-server-key.pem",
        "etcd-peer.pem", "etcd-peer-key.pem", "etcd-client.pem", "etcd-client-key.pem",
    ]

    func layout() throws -> ClusterLayout? {
        guard let masters else { return nil }
        guard let masterHosts = ClusterLayout.Host.list(masters) else {
            throw ValidationError("--masters must be name=address,…")
        }
        let etcdHosts = try etcd.map {
            guard let hosts = ClusterLayout.Host.list($0) else {
                throw ValidationError("--etcd must be name=address,…")
            }
            return hosts
        }
        var layout = ClusterLayout(
            masters: masterHosts, etcd: etcdHosts ?? masterHosts, loadBalancer: lb ?? masterHosts[0].name)
        layout.loadBalancerPort = lbPort
        layout.serviceClusterIPRange = serviceClusterIPRange
        return layout
    }

    func run() throws {
        if let check {
            try runCheck(check)
            return
        }
        guard let layout = try layout(), let out else {
            throw ValidationError("render needs --masters and --out (or --check DIR)")
        }
        let rendered = ClusterRenderer.render(layout)
        for (host, files) in rendered.sorted(by: { $0.key < $1.key }) {
            for (path, text) in files { try write(text, to: out + "/" + host + path) }
            if let pki { try copyPKI(from: pki, to: out + "/" + host, layout: layout, host: host) }
            print("\(out)/\(host): \(files.count) files")
        }
    }

    func copyPKI(from pki: String, to root: String, layout: ClusterLayout, host: String) throws {
        let master = layout.masters.contains { $0.name == host }
        // An etcd-only host gets its member's certificates and the CA's public half, never a signing key.
        let names =
            master
            ? Self.sslFiles
            : ["ca.pem", "etcd-server.pem", "etcd-server-key.pem", "etcd-peer.pem", "etcd-peer-key.pem"]
        var files = names.map { ("\(pki)/\($0)", "\(root)\(layout.sslDirectory)/\($0)") }
        if master {
            for name in ["token.csv", "kube-scheduler.kubeconfig", "kube-controller-manager.kubeconfig"] {
                files.append(("\(pki)/\(name)", "\(root)/etc/kubernetes/\(name)"))
            }
        }
        let fileManager = FileManager.default
        for (source, destination) in files where fileManager.fileExists(atPath: source) {
            try fileManager.createDirectory(
                atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if fileManager.fileExists(atPath: destination) { try fileManager.removeItem(atPath: destination) }
            try fileManager.copyItem(atPath: source, toPath: destination)
        }
    }

    func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    func runCheck(_ root: String) throws {
        var files: [String: String] = [:]
        let fileManager = FileManager.default
        let candidates =
            [
                "/etc/kubernetes/config", "/etc/kubernetes/apiserver", "/etc/kubernetes/scheduler",
                "/etc/kubernetes/controller-manager", "/usr/lib/systemd/system/etcd.service", "/etc/nginx/nginx.conf",
            ] + ClusterRenderer.Component.allCases.map { "/usr/lib/systemd/system/\($0.rawValue).service" }
        for path in candidates where fileManager.fileExists(atPath: root + path) {
            files[path] = try String(contentsOfFile: root + path, encoding: .utf8)
        }
        guard !files.isEmpty else { throw ValidationError("\(root) holds none of the rendered files") }
        var expected: [String: String]?
        if let layout = try layout() {
            let name = host ?? (root as NSString).lastPathComponent
            expected = ClusterRenderer.files(for: name, in: layout)
        }
        let findings = RenderCheck.check(files: files, expected: expected)
        for finding in findings { print(finding) }
        guard findings.isEmpty else { throw ExitCode(1) }
        print("\(root): no findings")
    }
}
