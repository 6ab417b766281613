public import Client
import Foundation
public import Logging
import NIOConcurrencyHelpers
import Operations

/// Each simulated node's own identity through the TLS bootstrap, as a kubelet's certificate manager gets it: a
/// new P-256 key, a `kubernetes.io/kube-apiserver-client-kubelet` request filed with the bootstrap credential,
/// the wait for the approver and signer, then a client that presents the node's certificate and so writes as
/// `system:node:<name>`. At 70–90 % of the certificate's life (jittered per node) the node files a new request
/// with its current certificate and swaps to the new one.
///
/// One informer over the requests serves every waiting node (no watch or poll per node); each node holds one
/// HTTP/2 connection, the least a TLS identity of its own needs, on the process's shared event loops.
public final class BootstrapNodeCredentials: NodeCredentials {
    /// A node's current certificate and the client that presents it.
    struct Identity: Sendable {
        var client: RESTClient
        var notBefore: Date
        var notAfter: Date
    }

    /// What the nodes share: the bootstrap credential and the identity of the server.
    public struct Configuration: Sendable {
        /// The bootstrap kubeconfig's connection: server, trusted CA and the bootstrap token.
        public var bootstrap: ClientConfiguration
        /// Each node's client-side rate limit, the kubelet's `kubeAPIQPS` and `kubeAPIBurst` defaults.
        public var nodeQPS: Double = 50
        public var nodeBurst = 100
        /// The bootstrap client's rate limit, which spreads the joins of many nodes over time.
        public var joinQPS: Double = 50
        public var userAgent = "kubelet/v1.32.0 (linux/amd64) kubeswift"

        public init(bootstrap: ClientConfiguration) { self.bootstrap = bootstrap }
    }

    private struct State: Sendable {
        var identities: [String: Identity] = [:]
        /// Nodes waiting for their request, by request name.
        var waiters: [String: CheckedContinuation<NodeCertificateRequests.Outcome, any Error>] = [:]
    }

    public let configuration: Configuration
    let bootstrapClient: RESTClient
    let informers: SharedInformerFactory
    let requests: SharedIndexInformer<CertificateSigningRequest>
    /// Node names whose certificate is due for renewal.
    let renewals: RateLimitingQueue<String>
    let time: any TimeSource
    let logger: Logger
    let jitter: @Sendable () -> Double
    private let state = NIOLockedValueBox(State())

    /// Credentials that join through `configuration.bootstrap` and watch requests through `watchClient` (the
    /// simulator's shared read client). `jitter` picks each renewal's point in the 70–90 % window.
    public init(
        configuration: Configuration, watchClient: RESTClient, time: any TimeSource = SystemTime(),
        logger: Logger = Logger(label: "kubeswift.node-credentials"),
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }
    ) throws {
        self.configuration = configuration
        var bootstrap = configuration.bootstrap
        bootstrap.connections = 1
        bootstrap.qps = configuration.joinQPS
        bootstrap.burst = max(1, Int(configuration.joinQPS))
        bootstrap.userAgent = configuration.userAgent
        bootstrapClient = try RESTClient(configuration: bootstrap)
        informers = SharedInformerFactory(
            client: watchClient, time: time, logger: logger, transform: StripManagedFields())
        requests = informers.informer(for: CertificateSigningRequest.self)
        renewals = RateLimitingQueue(
            name: "node-certificate-renewal",
            rateLimiter: ItemExponentialFailureRateLimiter<String>(base: .seconds(5), maximum: .seconds(300)),
            time: time)
        self.time = time
        self.logger = logger
        self.jitter = jitter
        requests.addEventHandler(
            ResourceEventHandler(
                onAdd: { [weak self] request, _ in self?.observe(request) },
                onUpdate: { [weak self] _, request in self?.observe(request) }))
        informers.start()
    }

    public func client(forNode name: String) async throws -> RESTClient {
        guard let identity = state.withLockedValue({ $0.identities[name] }) else {
            throw NodeSimulatorError("node \(name) has not joined the cluster yet")
        }
        return identity.client
    }

    /// Files node `name`'s first request with the bootstrap credential and waits for its certificate; at once
    /// when the node already has one.
    public func join(node name: String) async throws {
        guard state.withLockedValue({ $0.identities[name] }) == nil else { return }
        let identity = try await requestIdentity(for: name, filingWith: bootstrapClient)
        state.withLockedValue { $0.identities[name] = identity }
        logger.info(
            "node joined with its own certificate",
            metadata: ["node": "\(name)", "notAfter": "\(identity.notAfter)"])
        scheduleRenewal(name, identity)
    }

    /// Renews certificates as they come due, until the task is cancelled.
    public func run() async {
        await withTaskCancellationHandler {
            while let name = await renewals.get() {
                do {
                    try await renew(name)
                    renewals.forget(name)
                } catch {
                    if !Task.isCancelled {
                        logger.warning(
                            "certificate renewal failed", metadata: ["node": "\(name)", "error": "\(error)"])
                        renewals.addRateLimited(name)
                    }
                }
                renewals.done(name)
            }
        } onCancel: {
            renewals.shutDown()
        }
    }

    public func shutdown() async {
        renewals.shutDown()
        await informers.shutdown()
        let clients = state.withLockedValue { state in
            defer { state.identities = [:] }
            return state.identities.values.map(\.client)
        }
        for client in clients { await client.shutdown() }
        await bootstrapClient.shutdown()
    }

    /// Nodes that have an identity, for benches and tests.
    public var joinedNodes: Int { state.withLockedValue { $0.identities.count } }

    /// A new key and certificate for node `name`, filed with its current certificate, then swapped in; the old
    /// client closes once requests already on it have had time to finish.
    func renew(_ name: String) async throws {
        guard let current = state.withLockedValue({ $0.identities[name] }) else { return }
        let renewed = try await requestIdentity(for: name, filingWith: current.client)
        state.withLockedValue { $0.identities[name] = renewed }
        logger.info("node certificate renewed", metadata: ["node": "\(name)", "notAfter": "\(renewed.notAfter)"])
        scheduleRenewal(name, renewed)
        let time = self.time
        Task {
            try? await time.sleep(for: .seconds(60))
            await current.client.shutdown()
        }
    }

    private func scheduleRenewal(_ name: String, _ identity: Identity) {
        renewals.add(
            name,
            after: NodeCertificateRequests.renewalDelay(
                notBefore: identity.notBefore, notAfter: identity.notAfter, jitter: jitter(), now: time.wallNow))
    }

    /// Makes a key, files its request through `client`, waits for the outcome and builds the node's client.
    private func requestIdentity(for name: String, filingWith client: RESTClient) async throws -> Identity {
        let request = try NodeCertificateRequest(nodeName: name)
        let object = try NodeCertificateRequests.object(for: request, nodeName: name)
        let requestName = object.metadata.name ?? ""
        do {
            _ = try await ResourceClient<CertificateSigningRequest>(client: client, logger: logger).create(object)
        } catch let error as StatusError where error.statusReason == .alreadyExists {
            // The same key asked before (a retry after a lost answer): wait for that request.
        }
        let certificatePEM: String
        switch try await outcome(of: requestName) {
        case .issued(let pem): certificatePEM = pem
        case .refused(let message): throw NodeJoinRefused(message)
        case .pending: throw NodeSimulatorError("certificate signing request \(requestName) is still pending")
        }
        guard let leaf = try PEM.certificates(from: certificatePEM, source: requestName).first else {
            throw NodeSimulatorError("certificate signing request \(requestName) was issued without a certificate")
        }
        var node = configuration.bootstrap
        node.bearerToken = nil
        node.bearerTokenFile = nil
        node.dynamicToken = nil
        node.basicAuthUser = nil
        node.basicAuthPassword = nil
        node.clientCertificatePEM = Array(certificatePEM.utf8)
        node.clientKeyPEM = Array(request.keyPEM.utf8)
        node.connections = 1
        node.qps = configuration.nodeQPS
        node.burst = configuration.nodeBurst
        node.userAgent = configuration.userAgent
        return Identity(
            client: try RESTClient(configuration: node), notBefore: leaf.notValidBefore, notAfter: leaf.notValidAfter)
    }

    /// Waits, through the shared informer, until request `name` is issued or refused.
    private func outcome(of name: String) async throws -> NodeCertificateRequests.Outcome {
        guard await requests.waitForSync() else { throw CancellationError() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                state.withLockedValue { $0.waiters[name] = continuation }
                // The request may have been settled before the waiter was in place.
                if let request = requests.lister.get(name: name) { observe(request) }
                if Task.isCancelled {
                    state.withLockedValue { $0.waiters.removeValue(forKey: name) }?.resume(
                        throwing: CancellationError())
                }
            }
        } onCancel: {
            state.withLockedValue { $0.waiters.removeValue(forKey: name) }?.resume(throwing: CancellationError())
        }
    }

    /// Hands a settled request to the node waiting for it.
    private func observe(_ request: CertificateSigningRequest) {
        let outcome = NodeCertificateRequests.outcome(of: request)
        guard outcome != NodeCertificateRequests.Outcome.pending, let name = request.metadata.name else { return }
        state.withLockedValue { $0.waiters.removeValue(forKey: name) }?.resume(returning: outcome)
    }
}
