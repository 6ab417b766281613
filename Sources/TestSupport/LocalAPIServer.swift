import APIMachinery
import APIServer
public import Client
import Component
import Foundation
import Logging
import Operations
import XCTest

/// One API server for the whole test run, in this process on 127.0.0.1 with an ephemeral port, the
/// guide's certificates, an admin kubeconfig and a static token. Tests use their own namespaces.
public actor LocalAPIServer {
    public static let shared = LocalAPIServer()

    /// What a test needs to reach the server.
    public struct Endpoint: Sendable {
        public let kubeconfigPath: String
        public let server: String
        public let caPEM: [UInt8]
        public let token: String
    }

    private var endpoint: Endpoint?
    private var running: APIServerCommand.Running?

    /// Starts the server on first use; every later call returns the same endpoint.
    public func start() async throws -> Endpoint {
        if let endpoint { return endpoint }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kubeswift-client-\(UUID().uuidString)"
        ).path
        let pki = directory + "/pki"
        try FileManager.default.createDirectory(atPath: pki, withIntermediateDirectories: true)
        await MainActor.run {
            XCTestObservationCenter.shared.addTestObserver(DirectoryRemover(path: directory))
        }
        var options = GuideCertificates.Options()
        options.apiServerIPAddresses = ["127.0.0.1", "10.254.0.1"]
        let certificates = try GuideCertificates.write(directory: pki, options: options)
        let token = BootstrapToken.generate()
        try "\(token),bench-user,1001,\"system:masters\"\n".write(
            toFile: directory + "/token.csv", atomically: true, encoding: .utf8)

        var flags = FlagSet(APIServerCommand.flags)
        try flags.parse([
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port=0",
            "--tls-cert-file=\(pki)/kubernetes.pem", "--tls-private-key-file=\(pki)/kubernetes-key.pem",
            "--client-ca-file=\(pki)/ca.pem", "--data-dir=\(directory)/data",
            "--token-auth-file=\(directory)/token.csv", "--service-cluster-ip-range=10.254.0.0/16",
            "--anonymous-auth=false",
        ])
        let logger = Logger(label: "client-tests") { _ in SwiftLogNoOpLogHandler() }
        let running = try await APIServerCommand.start(flags, logger: logger)
        guard let port = running.server.localAddress?.port else {
            throw ClientError.invalidConfiguration("the test server has no port")
        }
        let server = "https://127.0.0.1:\(port)"
        let kubeconfigPath = directory + "/admin.kubeconfig"
        try Kubeconfig.admin(
            server: server, certificateAuthority: certificates.certificateAuthority, admin: certificates.admin
        ).write(toFile: kubeconfigPath)
        let endpoint = Endpoint(
            kubeconfigPath: kubeconfigPath, server: server,
            caPEM: Array(certificates.certificateAuthority.certificatePEM.utf8), token: token)
        self.running = running
        self.endpoint = endpoint
        return endpoint
    }
}

/// A namespace name unique to one test.
public func uniqueNamespace(_ prefix: String) -> String {
    "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
}

extension RESTClient {
    /// Creates namespace `name` for a test.
    public func createNamespace(_ name: String) async throws {
        _ = try await postJSON(
            path: "/api/v1/namespaces",
            ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]])
    }
}

/// Removes the server's directory when the test bundle finishes (the server lives until then).
final class DirectoryRemover: NSObject, XCTestObservation, Sendable {
    let path: String

    init(path: String) { self.path = path }

    func testBundleDidFinish(_ testBundle: Bundle) {
        try? FileManager.default.removeItem(atPath: path)
    }
}
