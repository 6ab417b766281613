import Component
import EtcdStore
import Logging
import Storage

extension APIServerCommand {
    /// `--etcd-servers` and its TLS files; `--etcd-prefix` and `--etcd-compaction-interval` are read by `start`.
    static let etcdFlags: [FlagDefinition] = [
        FlagDefinition(
            "etcd-servers", usage: "comma-separated etcd client URLs; without it the embedded store is used"),
        FlagDefinition("etcd-cafile", usage: "CA that signed the etcd members' serving certificates"),
        FlagDefinition("etcd-certfile", usage: "client certificate presented to etcd"),
        FlagDefinition("etcd-keyfile", usage: "key of --etcd-certfile"),
    ]

    /// The etcd store when `--etcd-servers` is given, else nil. Connecting is lazy: the server starts
    /// while etcd is down and becomes ready when it is up.
    static func openEtcd(_ flags: FlagSet, logger: Logger) throws -> EtcdStore? {
        let backend = flags.string("storage-backend")
        guard backend.isEmpty || backend == "etcd3" else { throw fail("unknown storage type: \(backend)") }
        guard flags.isSet("etcd-servers") else { return nil }
        let endpoints: [GRPCEndpoint]
        do { endpoints = try EtcdConfiguration.parseServers(flags.string("etcd-servers")) } catch {
            throw fail(error.description)
        }
        let configuration = EtcdConfiguration(
            endpoints: endpoints, caFile: flags.string("etcd-cafile"), certificateFile: flags.string("etcd-certfile"),
            keyFile: flags.string("etcd-keyfile"))
        logger.info("Using etcd at \(endpoints.map(\.description).joined(separator: ","))")
        return try EtcdStore(configuration: configuration, logger: Logger(label: "etcd"))
    }

    /// Bootstrap data (namespaces, the `kubernetes` Service) is written as soon as storage answers; the
    /// Service's endpoints are the endpoint reconciler's. With etcd down at start, the server serves anyway and
    /// keeps trying in the background.
    static func bootstrapWhenReachable(_ apiServer: APIServer, securePort: Int, logger: Logger) async throws
        -> Task<Void, Never>?
    {
        do {
            try await apiServer.bootstrap(advertiseAddress: nil, securePort: securePort)
            return nil
        } catch  where apiServer.storage is EtcdStore {
            logger.warning("etcd is not reachable (\(error)); serving, and bootstrapping once it is")
            return Task {
                while !Task.isCancelled {
                    do { try await Task.sleep(for: .seconds(1)) } catch { return }
                    do {
                        try await apiServer.bootstrap(advertiseAddress: nil, securePort: securePort)
                        logger.info("etcd is reachable; bootstrap data written")
                        return
                    } catch {
                        logger.debug("bootstrap is waiting for etcd: \(error)")
                    }
                }
            }
        }
    }

    /// Compaction: upstream's shared compactor on etcd, the store's own loop otherwise.
    static func startCompaction(_ apiServer: APIServer, every interval: Duration) {
        if let etcd = apiServer.storage as? EtcdStore {
            Task { await etcd.runCompactor(every: interval) }
        } else {
            Task { await apiServer.runCompaction(every: interval) }
        }
    }
}
