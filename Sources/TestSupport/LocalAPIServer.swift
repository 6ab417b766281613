import APIMachinery
import APIServer
public import Client
import Component
import ControllerManager
import Foundation
import Logging
import Operations
import XCTest

/// One API server for the whole test run, in this process on 127.0.0.1 with an ephemeral port, the
/// guide's certificates, an admin kubeconfig and a static token, beside the controller-manager's
/// `TestCluster.defaultControllers`, also in this process. Tests use their own namespaces.
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
    private var controllerManager: Task<Int32, Never>?

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
            // The controllers here leave out the node lifecycle controller that lifts the not-ready taint.
            "--disable-admission-plugins=TaintNodesByCondition",
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
        controllerManager = try await Self.startControllerManager(kubeconfigPath: kubeconfigPath, pki: pki)
        self.endpoint = endpoint
        return endpoint
    }

    /// Runs the controllers through the controller-manager's own command (its registry and flags) until the
    /// test run ends, returning once their caches have synced.
    private static func startControllerManager(kubeconfigPath: String, pki: String) async throws -> Task<Int32, Never> {
        let (synced, signal) = AsyncStream.makeStream(of: Void.self)
        let logger = Logger(label: "kube-controller-manager") { _ in SyncedSignal(signal: signal) }
        let manager = Task {
            let code = await ControllerManagerCommand.run(
                arguments: [
                    "--kubeconfig=\(kubeconfigPath)", "--bind-address=127.0.0.1", "--secure-port=0",
                    "--leader-elect=false", "--controllers=\(TestCluster.defaultControllers.joined(separator: ","))",
                    "--service-account-private-key-file=\(pki)/kubernetes-key.pem", "--root-ca-file=\(pki)/ca.pem",
                ], logger: logger)
            signal.finish()
            return code
        }
        let timeout = Task {
            try await Task.sleep(for: .seconds(30))
            signal.finish()
        }
        defer { timeout.cancel() }
        var iterator = synced.makeAsyncIterator()
        guard await iterator.next() != nil else {
            manager.cancel()
            throw ClientError.invalidConfiguration("the test controller-manager did not sync its caches")
        }
        return manager
    }
}

/// A log handler that drops every message but signals when the controller-manager's caches have synced.
struct SyncedSignal: LogHandler {
    let signal: AsyncStream<Void>.Continuation
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        if event.message.description.hasPrefix("Caches are synced") { signal.yield() }
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
