import APIMachinery
import Logging
import Storage

/// Keeps the `kubernetes` Service's Endpoints and EndpointSlice listing the live API servers, as upstream's
/// kubernetes service controller does with its endpoint reconciler. Every ``Configuration/interval`` this
/// server renews its master lease and reconciles; with the lease reconciler it also reconciles as soon as
/// another server's lease appears or expires, so a dead server is dropped within the lease's TTL. On a graceful
/// shutdown ``removeEndpoints()`` takes this server out at once.
actor KubernetesServiceController {
    /// The reconciler's settings; the intervals are upstream's, which no flag changes.
    struct Configuration: Sendable {
        var type: EndpointReconcilerType
        /// `--advertise-address`: what the endpoints list for this server.
        var advertiseAddress: String
        /// `--secure-port`.
        var port: Int
        /// `--apiserver-count`, for the master-count reconciler.
        var masterCount = 1
        /// Upstream's `DefaultEndpointReconcilerInterval`.
        var interval = Duration.seconds(10)
        /// Upstream's `DefaultEndpointReconcilerTTL`: a master lease outlives its last renewal this long.
        var leaseTTLSeconds: Int64 = 15
    }

    let configuration: Configuration
    private let apiServer: APIServer
    private let leases: MasterLeases
    private let logger: Logger
    /// Set by ``removeEndpoints()``: this server no longer lists itself.
    private var stopped = false

    init(apiServer: APIServer, configuration: Configuration, logger: Logger) {
        self.apiServer = apiServer
        self.configuration = configuration
        self.leases = MasterLeases(
            storage: apiServer.storage, storagePrefix: apiServer.context.storagePrefix,
            ttlSeconds: configuration.leaseTTLSeconds)
        self.logger = logger
    }

    /// Renews and reconciles every interval (and, for leases, on every lease change) until cancelled or stopped.
    func run() async {
        guard configuration.type != .none else { return }
        await withDiscardingTaskGroup { group in
            if configuration.type == .lease { group.addTask { await self.followLeases() } }
            while !Task.isCancelled, !stopped {
                do {
                    try await renewAndReconcile()
                } catch {
                    logger.warning("Unable to reconcile the kubernetes service endpoints: \(error)")
                }
                do { try await Task.sleep(for: configuration.interval) } catch { break }
            }
            group.cancelAll()
        }
    }

    /// Renews this server's master lease, then makes the endpoints list the live servers.
    func renewAndReconcile() async throws {
        guard !stopped else { return }
        if configuration.type == .lease { try await leases.renew(configuration.advertiseAddress) }
        try await reconcile()
    }

    /// Makes the endpoints what the reconciler type says they should be.
    func reconcile() async throws {
        let ours = configuration.advertiseAddress
        switch configuration.type {
        case .none:
            return
        case .masterCount:
            let count = configuration.masterCount
            let stopped = self.stopped
            try await write { existing in
                var addresses = KubernetesEndpoints.addresses(of: existing)
                if stopped {
                    addresses.removeAll { $0 == ours }
                } else {
                    addresses = KubernetesEndpoints.masterCount(existing: addresses, ours: ours, count: count)
                }
                return addresses
            }
        case .lease:
            var addresses = try await leases.addresses()
            // Ours may not be listed yet when storage was just unreachable; it is alive, since it is here.
            if !stopped, !addresses.contains(ours) { addresses.append(ours) }
            guard !addresses.isEmpty else {
                throw APIError.internalError(
                    "no API server IP addresses were listed in storage, refusing to erase all endpoints for the kubernetes Service"
                )
            }
            let live = addresses
            try await write { _ in live }
        }
    }

    /// Takes this server out of the endpoints at once and stops renewing, as upstream's pre-shutdown hook does.
    func removeEndpoints() async {
        guard configuration.type != .none, !stopped else { return }
        stopped = true
        do {
            if configuration.type == .lease { try await leases.remove(configuration.advertiseAddress) }
            try await reconcile()
            logger.info("Removed \(configuration.advertiseAddress) from the kubernetes service endpoints")
        } catch {
            logger.warning("Unable to remove this server from the kubernetes service endpoints: \(error)")
        }
    }

    /// Reconciles on every change under the master leases' folder: a server starting, or a lease expiring.
    private func followLeases() async {
        let storage = apiServer.storage
        let prefix = leases.keyPrefix
        while !Task.isCancelled {
            do {
                let revision = try await storage.currentRevision()
                for try await _ in storage.watch(
                    start: prefix, end: RegistryStore.prefixEnd(prefix), afterRevision: revision)
                {
                    guard !stopped else { return }
                    do {
                        try await reconcile()
                    } catch {
                        logger.warning("Unable to reconcile the kubernetes service endpoints: \(error)")
                    }
                }
            } catch {
                logger.debug("master lease watch ended: \(error)")
            }
            do { try await Task.sleep(for: .seconds(1)) } catch { return }
        }
    }

    /// Writes the Endpoints with the addresses `choose` picks from the stored ones, then the EndpointSlice to
    /// match; neither is written when it already says the same.
    private func write(_ choose: @escaping @Sendable (JSON?) -> [String]) async throws {
        guard let endpointsStore = apiServer.store(resource: "endpoints") else { return }
        let namespace = KubernetesEndpoints.namespace
        let name = KubernetesEndpoints.name
        let port = configuration.port
        let (written, _) = try await endpointsStore.update(
            namespace: namespace, name: name, options: WriteOptions(), createIfMissing: true
        ) { old in
            // Not a ternary: its literal nil would become JSON's null rather than "no object yet".
            let existing: JSON? = old.name.map { _ in old }
            let desired = KubernetesEndpoints(addresses: choose(existing), port: port)
            return desired.matches(endpoints: existing) ? old : desired.endpoints(from: existing)
        }
        let desired = KubernetesEndpoints(addresses: KubernetesEndpoints.addresses(of: written), port: port)
        guard let slices = apiServer.store(group: "discovery.k8s.io", version: "v1", resource: "endpointslices")
        else { return }
        do {
            _ = try await slices.update(namespace: namespace, name: name, options: WriteOptions()) { old in
                desired.matches(slice: old) ? old : desired.endpointSlice(from: old)
            }
        } catch let error as APIError where error.code == 404 {
            do {
                _ = try await slices.create(
                    namespace: namespace, object: desired.endpointSlice(from: nil), options: WriteOptions())
            } catch let error as APIError where error.reason == .alreadyExists {
                // Another server created it just now; the next round compares against it.
            }
        }
    }
}
