import ArgumentParser
import Client
import Foundation
import Operations

/// A bench's own kube-apiserver: a temporary directory with the guide's certificates, the server on a loopback
/// address and a free port, on SQLite or on a local etcd member, an admin kubeconfig, and a client that has
/// seen /readyz answer 200. `stop()` ends the processes and removes the directory.
final class BenchAPIServer {
    /// Where the bench's files live: `pki/`, `data/`, `etcd/`, `admin.kubeconfig`.
    let directory: String
    let address: String
    let certificates: GuideCertificates
    let apiServer: BenchProcess
    private let etcd: BenchProcess?
    /// `https://ADDRESS:PORT`.
    let server: String
    /// An admin client without client-side rate limits, on one HTTP/2 connection.
    let client: RESTClient

    var pki: String { directory + "/pki" }
    var kubeconfig: String { directory + "/admin.kubeconfig" }
    /// "SQLite" or "etcd", for the bench's header.
    var storage: String { etcd == nil ? "SQLite" : "etcd" }

    /// Starts the server (and first, with `etcd`, an etcd member on `address` ports 2379 and 2380) with the
    /// bench flags plus `arguments`, and waits until it is ready. `name` names the temporary directory.
    static func start(
        name: String, apiServerPath: String, address: String, etcd useEtcd: Bool = false, arguments: [String] = []
    ) async throws -> BenchAPIServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kubeswift-bench-\(name)-\(BenchObjects.runID())"
        ).path
        let pki = directory + "/pki"
        var processes: [BenchProcess] = []
        do {
            try FileManager.default.createDirectory(atPath: pki, withIntermediateDirectories: true)
            var options = GuideCertificates.Options()
            options.apiServerIPAddresses = [address, "10.254.0.1"]
            let certificates = try GuideCertificates.write(directory: pki, options: options)
            var flags = arguments
            var etcd: BenchProcess?
            if useEtcd {
                let member = try await startEtcd(address: address, directory: directory)
                processes.append(member.process)
                etcd = member.process
                flags.append("--etcd-servers=\(member.url)")
            }
            let apiServer = try BenchProcess.launch(
                name: "kube-apiserver", executable: apiServerPath,
                arguments: Self.flags(address: address, pki: pki, dataDirectory: directory + "/data") + flags)
            processes.append(apiServer)
            let port = try await apiServer.waitForServingPort(within: .seconds(30))
            let server = "https://\(address):\(port)"
            try Kubeconfig.admin(
                server: server, certificateAuthority: certificates.certificateAuthority, admin: certificates.admin
            ).write(toFile: directory + "/admin.kubeconfig")
            let client = try RESTClient(
                configuration: try ClientConfiguration.load(kubeconfigPath: directory + "/admin.kubeconfig").unthrottled
            )
            do {
                try await waitForStatus(client, "/readyz", process: apiServer)
            } catch {
                await client.shutdown()
                throw error
            }
            return BenchAPIServer(
                directory: directory, address: address, certificates: certificates, apiServer: apiServer, etcd: etcd,
                server: server, client: client)
        } catch {
            for process in processes.reversed() { process.stop() }
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    /// A bench server's flags: on `address` with a port of its own choosing, the guide's certificates from `pki`,
    /// clients trusted by certificate and allowed everything, quiet logs.
    static func flags(address: String, pki: String, dataDirectory: String) -> [String] {
        [
            "--bind-address=\(address)", "--advertise-address=\(address)", "--secure-port=0",
            "--tls-cert-file=\(pki)/kubernetes.pem", "--tls-private-key-file=\(pki)/kubernetes-key.pem",
            "--client-ca-file=\(pki)/ca.pem", "--data-dir=\(dataDirectory)",
            "--service-cluster-ip-range=10.254.0.0/16", "--anonymous-auth=false", "--authorization-mode=AlwaysAllow",
            "--logtostderr=true", "--v=0",
        ]
    }

    private init(
        directory: String, address: String, certificates: GuideCertificates, apiServer: BenchProcess,
        etcd: BenchProcess?, server: String, client: RESTClient
    ) {
        self.directory = directory
        self.address = address
        self.certificates = certificates
        self.apiServer = apiServer
        self.etcd = etcd
        self.server = server
        self.client = client
    }

    /// The admin kubeconfig's configuration without client-side rate limits, for the bench's own clients.
    func clientConfiguration() throws -> ClientConfiguration {
        try ClientConfiguration.load(kubeconfigPath: kubeconfig).unthrottled
    }

    /// Stops the server and the etcd member, closes the client and removes the directory.
    func stop() async {
        await client.shutdown()
        apiServer.stop()
        etcd?.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Polls `path` until it answers 200, for at most 30 s; fails at once if the server exits.
    func waitForStatus(_ path: String) async throws {
        try await Self.waitForStatus(client, path, process: apiServer)
    }

    private static func waitForStatus(_ client: RESTClient, _ path: String, process: BenchProcess) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let response = try? await client.send(Request(method: .get, path: path)), response.status == 200 {
                return
            }
            guard process.process.isRunning else {
                throw ValidationError("kube-apiserver exited before \(path) answered 200:\n\(process.tail(20))")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw ValidationError("\(path) did not answer 200 within 30 s")
    }

    /// One etcd member on `address` (ports 2379 and 2380 there), once it serves clients.
    private static func startEtcd(address: String, directory: String) async throws -> (
        process: BenchProcess, url: String
    ) {
        let client = "http://\(address):2379"
        let peer = "http://\(address):2380"
        let process = try BenchProcess.launch(
            name: "etcd", executable: "/usr/bin/etcd",
            arguments: [
                "--name", "bench", "--data-dir", directory + "/etcd", "--listen-client-urls", client,
                "--advertise-client-urls", client, "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", "bench=\(peer)", "--initial-cluster-state", "new",
            ])
        let deadline = ContinuousClock.now + .seconds(20)
        // etcd 3.4's default logger says "ready to serve client requests", 3.5's "serving client traffic".
        while !["ready to serve client requests", "serving client traffic"].contains(where: process.log.text.contains) {
            guard process.process.isRunning, ContinuousClock.now < deadline else {
                process.stop()
                throw ValidationError("etcd did not start:\n\(process.tail(20))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return (process, client)
    }
}
