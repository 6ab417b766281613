import APIMachinery
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import Operations
import Storage
import TestSupport

@testable import APIServer

/// An API server in this process, served over TLS with the guide's certificates so kubectl can reach it as the
/// admin, made from a configuration the test chooses (targets for component statuses, admission plugins).
final class KubectlTestServer: Sendable {
    let apiServer: APIServer
    let kubeconfig: String
    let directory: String
    private let http: HTTPServer

    init(address: String, configuration: APIServer.Configuration) async throws {
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent(
                "kubeswift-inprocess-\(UUID().uuidString)"
            ).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var options = GuideCertificates.Options()
        options.apiServerIPAddresses = [address]
        let certificates = try GuideCertificates.write(directory: directory, options: options)
        apiServer = APIServer(storage: MemoryStore(), configuration: configuration)
        try await apiServer.bootstrap(advertiseAddress: address, securePort: 443)
        let settings = try TLSSettings(
            certificateChain: [
                try NIOSSLCertificate(bytes: Array(certificates.apiServer.certificatePEM.utf8), format: .pem)
            ],
            privateKey: try NIOSSLPrivateKey(bytes: Array(certificates.apiServer.privateKeyPEM.utf8), format: .pem),
            clientCA: [
                try NIOSSLCertificate(bytes: Array(certificates.certificateAuthority.certificatePEM.utf8), format: .pem)
            ])
        http = try await HTTPServer.start(
            host: address, port: 0, tls: settings, responder: apiServer, group: MultiThreadedEventLoopGroup.singleton)
        kubeconfig = directory + "/admin.kubeconfig"
        try Kubeconfig.admin(
            server: "https://\(address):\(http.localAddress?.port ?? 0)",
            certificateAuthority: certificates.certificateAuthority, admin: certificates.admin
        ).write(toFile: kubeconfig)
    }

    func kubectl(_ arguments: [String], input: String? = nil) throws -> TestCluster.Output {
        try TestCluster.run(TestCluster.kubectlPath, ["--kubeconfig=\(kubeconfig)"] + arguments, input: input)
    }

    func close() async {
        try? await http.close()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// A component's `/healthz` over TLS with a self-signed certificate, healthy (`ok`) until told otherwise.
final class HealthzTestServer: HTTPResponder {
    private let server = NIOLockedValueBox<HTTPServer?>(nil)
    private let failing = NIOLockedValueBox(false)

    var port: Int { server.withLockedValue { $0?.localAddress?.port ?? 0 } }

    init(address: String) async throws {
        let authority = try CertificateAuthority.create(commonName: "healthz-test-ca")
        let pair = try authority.issueServing(commonName: "component", dnsNames: [], ipAddresses: [address])
        let settings = try TLSSettings(
            certificateChain: [try NIOSSLCertificate(bytes: Array(pair.certificatePEM.utf8), format: .pem)],
            privateKey: try NIOSSLPrivateKey(bytes: Array(pair.privateKeyPEM.utf8), format: .pem), clientCA: nil)
        let started = try await HTTPServer.start(
            host: address, port: 0, tls: settings, responder: self, group: MultiThreadedEventLoopGroup.singleton)
        server.withLockedValue { $0 = started }
    }

    func fail(_ value: Bool) { failing.withLockedValue { $0 = value } }

    func respond(to request: HTTPRequest) async -> HTTPResponse {
        guard request.path == "/healthz" else { return .text("not found", status: .notFound) }
        return failing.withLockedValue { $0 }
            ? .text("[-]leaderElection failed", status: .internalServerError) : .text("ok")
    }

    func close() async {
        try? await server.withLockedValue { $0 }?.close()
    }

    /// A port on `address` where nothing listens: bound, then released.
    static func closedPort(address: String) async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: address, port: 0).get()
        let port = channel.localAddress?.port ?? 0
        try await channel.close()
        return port
    }
}
