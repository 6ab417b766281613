import APIMachinery
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOHTTP1
public import Storage

/// The kube-apiserver's request pipeline: authentication → routing → registry → encoding.
/// It owns one `RegistryStore` per served resource, all over one `KeyValueStore`.
public final class APIServer: HTTPResponder {
    public let storage: any KeyValueStore
    public let context: RegistryContext
    /// What is served now: the built-in catalog plus established custom resources, swapped whole on change.
    let resourceTable: NIOLockedValueBox<ResourceTable>
    /// The built-in resources this server was made with; custom resources come and go beside them.
    let builtInResources: [ResourceDefinition]
    let watchCacheConfiguration: WatchCacheConfiguration?
    /// The CustomResourceDefinition controllers, started by `bootstrap`.
    let customResourceDefinitionController = NIOLockedValueBox<Task<Void, Never>?>(nil)
    /// The APIServices' view for routing and discovery, and their controllers, started by `startAggregation`.
    let aggregator = Aggregator()
    let aggregationController = NIOLockedValueBox<Task<Void, Never>?>(nil)
    let metrics = RequestMetrics()
    let authenticator: Authenticator
    let health: HealthChecks
    let auditor: Auditor
    let limits: RequestLimits
    let authorization: ServerAuthorization
    /// The browser pages; nil without `--enable-swagger-ui`, so their paths are unknown like any other.
    let webPages: WebPages?
    let componentStatusTargets: ComponentStatusTargets
    static let logger = Logger(label: "kube-apiserver")
    /// Signalled when a graceful shutdown begins: `/readyz` fails from then on.
    public let shutdown = ShutdownSignal()

    /// Everything the pipeline needs that comes from flags.
    public struct Configuration: Sendable {
        public var storagePrefix = "/registry"
        public var serviceClusterIPRange = IPv4Range(cidr: "10.0.0.0/24")!
        public var serviceNodePortRange = 30000...32767
        /// The authenticators (token file, bootstrap and service-account tokens, anonymous).
        public var authentication = Authenticator.Configuration()
        /// The admission plugins, already in upstream's order.
        public var admission = AdmissionChain()
        /// The audit policy and backend; nil audits nothing (requests still get an `Audit-Id`).
        public var audit: AuditConfiguration?
        /// The in-flight limits and the request timeout.
        public var limits = RequestLimits.Configuration()
        /// The per-resource watch caches; nil (`--watch-cache=false`) gives every watcher its own storage watch.
        public var watchCache: WatchCacheConfiguration? = WatchCacheConfiguration()
        /// `--event-ttl`; nil keeps events until they are deleted.
        public var eventTTL: Duration? = .seconds(3600)
        /// `--authorization-mode`; the RBAC policy is kept whatever the modes, for escalation checks and reviews.
        public var authorizer = AuthorizerConfiguration()
        /// `--enable-swagger-ui`: serve the API explorer at `/swagger-ui/` and the cluster overview at `/ui/`.
        public var enableSwaggerUI = false
        /// What `componentstatuses` probes.
        public var componentStatus = ComponentStatusTargets()
        public init() {}
    }

    public init(
        storage: any KeyValueStore, configuration: Configuration, resources: [ResourceDefinition] = Catalog.resources
    ) {
        self.storage = storage
        let prefix = configuration.storagePrefix
        let authorization = ServerAuthorization(
            configuration: configuration.authorizer,
            additional: configuration.enableSwaggerUI ? [WebPageAuthorizer()] : [])
        self.authorization = authorization
        context = RegistryContext(
            storage: storage, storagePrefix: prefix,
            serviceIPs: ServiceIPAllocator(
                range: configuration.serviceClusterIPRange, storage: storage, storagePrefix: prefix),
            nodePorts: NodePortAllocator(
                range: configuration.serviceNodePortRange, storage: storage, storagePrefix: prefix),
            admission: AdmissionChain(
                plugins: [RBACEscalation(authorization: authorization)]
                    + configuration.admission.authorized(by: authorization.authorizer)
                    .reportingWebhookMetrics(to: metrics.registry).plugins),
            eventLeases: configuration.eventTTL.map { EventLeaseManager(storage: storage, ttl: $0) })
        // Versions of one stored kind share its storage watch: one cache per storage prefix.
        var caches: [String: WatchCache] = [:]
        let stores = Self.makeStores(
            resources, storage: storage, context: context, prefix: prefix, watchCache: configuration.watchCache,
            caches: &caches)
        builtInResources = resources
        watchCacheConfiguration = configuration.watchCache
        resourceTable = NIOLockedValueBox(ResourceTable(definitions: resources, stores: stores))
        self.authenticator = Authenticator(
            configuration: configuration.authentication, storage: storage, storagePrefix: prefix)
        self.health = HealthChecks(storage: storage, shutdown: shutdown)
        let registry = metrics.registry
        let auditMetrics = configuration.audit.map { _ in AuditMetrics(registry: registry) }
        (configuration.audit?.sink as? AuditLogBackend)?.metrics = auditMetrics
        self.auditor = Auditor(configuration: configuration.audit, metrics: auditMetrics)
        self.limits = RequestLimits(configuration: configuration.limits)
        self.webPages = configuration.enableSwaggerUI ? WebPages() : nil
        componentStatusTargets = configuration.componentStatus
    }

    deinit {
        customResourceDefinitionController.withLockedValue { $0?.cancel() }
        aggregationController.withLockedValue { $0?.cancel() }
    }

    /// The stores of the current table, by `storeKey`.
    var stores: [String: RegistryStore] { resourceTable.withLockedValue { $0.stores } }
    var discovery: Discovery { aggregator.discovery(for: resourceTable.withLockedValue { $0 }) }
    var openAPICache: OpenAPICache { resourceTable.withLockedValue { $0.openAPI } }

    static func storeKey(_ group: String, _ version: String, _ resource: String) -> String {
        "\(group)/\(version)/\(resource)"
    }

    /// The store for a resource, for bootstrapping and in-process controllers.
    public func store(group: String = "", version: String = "v1", resource: String) -> RegistryStore? {
        stores[Self.storeKey(group, version, resource)]
    }

    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        let started = ContinuousClock.now
        var request = request
        if request.user == nil {
            guard case .user(let user) = await authenticator.authenticate(request) else {
                return auditor.failedAuthentication(request, response: HTTPResponse.error(.unauthorized()))
            }
            request.user = user
        }
        let info = RequestInfo(method: request.method, path: request.path, query: request.query)
        // Upstream's filter order: authentication → audit → impersonation → in-flight limit and timeout →
        // authorization.
        return await auditor.audit(request, info: info) { [self] request in
            let acting: HTTPRequest
            do throws(APIError) {
                acting = try impersonate(request)
            } catch {
                return .error(error)
            }
            if acting.user != request.user { AuditContext.current?.impersonatedUser = acting.user }
            return await limits.handle(acting, info: info) { [self] request in
                await serve(request, info: info, started: started)
            }
        }
    }

    /// An authenticated, audited request within the limits: authorized, then routed.
    func serve(_ request: HTTPRequest, info: RequestInfo?, started: ContinuousClock.Instant) async -> HTTPResponse {
        var response: HTTPResponse
        do {
            try authorize(request, info: info)
            if let verb = info?.verb, Self.mayRunLong.contains(verb) {
                // A list's encoding (or a collection's deletes) can hold a thread for long: not the event loop's.
                response = try await withTaskExecutorPreference(globalConcurrentExecutor) {
                    try await route(request, info: info)
                }
            } else {
                response = try await route(request, info: info)
            }
        } catch let error as APIError {
            response = .error(error)
            if error.code == 500 { logInternalError(error.message, request: request) }
        } catch StorageError.unavailable(let message) {
            response = .error(.unavailable("storage is unavailable: \(message)"))
        } catch {
            response = .error(.internalError(String(describing: error)))
            logInternalError(String(describing: error), request: request)
        }
        if case .stream = response.body {
            metrics.record(verb: "WATCH", resource: info?.resource ?? "", code: 200, duration: .zero)
        } else {
            metrics.record(
                verb: info?.verb ?? request.method.rawValue.lowercased(), resource: info?.resource ?? "",
                code: Int(response.status.code), duration: ContinuousClock.now - started)
        }
        return response
    }

    /// Verbs served off the request's event loop (`EventLoopTaskExecutor`).
    static let mayRunLong: Set<String> = ["list", "watch", "deletecollection"]

    /// Upstream logs every internal error it answers: without the line a 500 cannot be traced afterwards.
    func logInternalError(_ message: String, request: HTTPRequest) {
        Self.logger.error("internal error answering \(request.method.rawValue) \(request.path): \(message)")
    }

    func route(_ request: HTTPRequest, info: RequestInfo?) async throws -> HTTPResponse {
        if let proxied = await proxyToAggregatedServer(request, info: info) { return proxied }
        if let info, let virtual = virtualResource(info) {
            return try await serveVirtual(request, info: info, resource: virtual)
        }
        if let info, let store = stores[Self.storeKey(info.group, info.version, info.resource)],
            let custom = store.definition.strategy as? CustomResourceStrategy
        {
            return try await serveCustomResource(request, info: info, store: store, strategy: custom)
        }
        if let info { return try await handleResource(request, info: info) }
        if let response = try await handleNonResource(request) { return response }
        throw APIError.resourceNotFound()
    }
}
