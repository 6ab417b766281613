import APIMachinery
import APIServer
import Client
import Component
import ControllerManager
import Foundation
import Logging
import Operations
import XCTest

/// An API server in this process as a joining node meets it: bootstrap-token authentication and RBAC, so the
/// approver's SubjectAccessReviews and the requester's permissions are real. The shared `LocalAPIServer` has
/// neither, and keeps its CA key to itself.
actor CertificatesTestServer {
    static let shared = CertificatesTestServer()

    struct Endpoint: Sendable {
        let server: String
        let pki: String
        let kubeconfigPath: String
        let authority: CertificateAuthority
    }

    private var endpoint: Endpoint?
    private var running: APIServerCommand.Running?

    func start() async throws -> Endpoint {
        if let endpoint { return endpoint }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kubeswift-certificates-\(UUID().uuidString)"
        ).path
        let pki = directory + "/pki"
        try FileManager.default.createDirectory(atPath: pki, withIntermediateDirectories: true)
        let certificates = try GuideCertificates.write(directory: pki)
        var flags = FlagSet(APIServerCommand.flags)
        try flags.parse([
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port=0",
            "--tls-cert-file=\(pki)/kubernetes.pem", "--tls-private-key-file=\(pki)/kubernetes-key.pem",
            "--client-ca-file=\(pki)/ca.pem", "--data-dir=\(directory)/data",
            "--service-cluster-ip-range=10.254.0.0/16",
            "--anonymous-auth=false", "--enable-bootstrap-token-auth", "--authorization-mode=RBAC",
        ])
        let running = try await APIServerCommand.start(
            flags, logger: Logger(label: "certificates-tests") { _ in SwiftLogNoOpLogHandler() })
        guard let port = running.server.localAddress?.port else {
            throw ClientError.invalidConfiguration("the test server has no port")
        }
        let server = "https://127.0.0.1:\(port)"
        let kubeconfigPath = directory + "/admin.kubeconfig"
        try Kubeconfig.admin(
            server: server, certificateAuthority: certificates.certificateAuthority, admin: certificates.admin
        ).write(toFile: kubeconfigPath)
        let endpoint = Endpoint(
            server: server, pki: pki, kubeconfigPath: kubeconfigPath, authority: certificates.certificateAuthority)
        self.running = running
        self.endpoint = endpoint
        return endpoint
    }
}

/// Runs controllers from their descriptors, as the manager does, on one admin client and shared informers.
struct RunningControllers {
    let informers: SharedInformerFactory
    let controllers: [any Controller]
    let task: Task<Void, Never>

    static func start(
        _ descriptors: [ControllerDescriptor], arguments: [String] = [], client: RESTClient,
        time: any TimeSource = SystemTime()
    ) async throws -> RunningControllers {
        var flags = FlagSet(ControllerManagerCommand.flags)
        try flags.parse(arguments)
        let logger = Logger(label: "certificates-tests") { _ in SwiftLogNoOpLogHandler() }
        let informers = SharedInformerFactory(client: client, logger: logger)
        var controllers: [any Controller] = []
        var recorders: [EventRecorder] = []
        for descriptor in descriptors {
            let recorder = EventRecorder(
                client: client, reportingController: descriptor.name, reportingInstance: "test", logger: logger)
            let context = ControllerContext(
                client: client, informers: informers, flags: flags, recorder: recorder, time: time, logger: logger)
            if let controller = try descriptor.make(context) {
                controllers.append(controller)
                recorders.append(recorder)
            }
        }
        informers.start()
        guard await informers.waitForCacheSync() else { throw CancellationError() }
        let running = controllers
        let task = Task {
            await withTaskGroup(of: Void.self) { group in
                for recorder in recorders { group.addTask { await recorder.run() } }
                for controller in running { group.addTask { await controller.run(workers: 2) } }
            }
        }
        return RunningControllers(informers: informers, controllers: controllers, task: task)
    }

    func stop() async {
        task.cancel()
        await task.value
        await informers.shutdown()
    }
}

/// Polls `condition` until it gives a value or `timeout` passes.
func eventually<T>(
    timeout: Duration = .seconds(30), _ what: String, _ condition: () async throws -> T?
) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if let value = try await condition() { return value }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TimedOut(what: what)
}

/// A condition a test waited for never came.
struct TimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}
