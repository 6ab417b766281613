import APIMachinery
import Storage

/// What the server serves at one moment: the built-in catalog plus the custom resources of established
/// definitions, one `RegistryStore` each, and the discovery and OpenAPI documents made from them. Routing,
/// discovery and OpenAPI read the current table; a change of definitions builds a new one and swaps it in
/// whole, so a request sees one consistent table from start to end.
final class ResourceTable: Sendable {
    let definitions: [ResourceDefinition]
    /// Stores by `APIServer.storeKey(group, version, resource)`.
    let stores: [String: RegistryStore]
    let discovery: Discovery
    let openAPI: OpenAPICache

    init(definitions: [ResourceDefinition], stores: [String: RegistryStore]) {
        self.definitions = definitions
        self.stores = stores
        discovery = Discovery(resources: definitions)
        openAPI = OpenAPICache(resources: definitions)
    }

    /// The watch caches in use, by the key prefix they watch.
    var watchCaches: [String: WatchCache] {
        var caches: [String: WatchCache] = [:]
        for store in stores.values {
            if let cache = store.watchCache { caches[store.prefix] = cache }
        }
        return caches
    }
}

extension APIServer {
    /// Stores for `definitions`: versions of one stored kind share one watch cache (the first one's, or one
    /// of `caches` already running for that prefix), and `reusing` gives stores to keep as they are.
    static func makeStores(
        _ definitions: [ResourceDefinition], storage: any KeyValueStore, context: RegistryContext, prefix: String,
        watchCache: WatchCacheConfiguration?, caches: inout [String: WatchCache],
        reusing: (ResourceDefinition) -> RegistryStore? = { _ in nil }
    ) -> [String: RegistryStore] {
        var stores: [String: RegistryStore] = [:]
        for definition in definitions {
            let keyPrefix = RegistryStore.prefix(of: definition, storagePrefix: prefix)
            let store =
                reusing(definition)
                ?? RegistryStore(
                    definition: definition, storage: storage, context: context, storagePrefix: prefix,
                    watchCache: watchCache?.resource(definition.resource, group: definition.group),
                    sharedWatchCache: caches[keyPrefix])
            if caches[keyPrefix] == nil { caches[keyPrefix] = store.watchCache }
            stores[Self.storeKey(definition.group, definition.version, definition.resource)] = store
        }
        return stores
    }

    /// Serves the built-in resources plus `custom` from now on. Stores of custom resources whose definition
    /// did not change are kept, watch caches of prefixes still served carry on, new ones start from storage's
    /// current revision, and the caches of resources no longer served end their watchers.
    func serveCustomResources(_ custom: [ResourceDefinition]) async {
        let current = resourceTable.withLockedValue { $0 }
        var caches: [String: WatchCache] = [:]
        let running = current.watchCaches
        let customPrefixes = Set(custom.map { RegistryStore.prefix(of: $0, storagePrefix: context.storagePrefix) })
        for (prefix, cache) in running where customPrefixes.contains(prefix) { caches[prefix] = cache }
        let builtInPrefixes = Set(
            builtInResources.map { RegistryStore.prefix(of: $0, storagePrefix: context.storagePrefix) })
        var customStores = Self.makeStores(
            custom, storage: storage, context: context, prefix: context.storagePrefix,
            watchCache: watchCacheConfiguration, caches: &caches
        ) { definition in
            let key = Self.storeKey(definition.group, definition.version, definition.resource)
            guard let existing = current.stores[key],
                let old = existing.definition.strategy as? CustomResourceStrategy,
                let new = definition.strategy as? CustomResourceStrategy, old.fingerprint == new.fingerprint
            else { return nil }
            return existing
        }
        var stores: [String: RegistryStore] = [:]
        for definition in builtInResources {
            let key = Self.storeKey(definition.group, definition.version, definition.resource)
            stores[key] = current.stores[key]
        }
        // A custom resource never takes the place of a built-in one.
        customStores = customStores.filter { stores[$0.key] == nil }
        stores.merge(customStores) { builtIn, _ in builtIn }
        let served =
            builtInResources + custom.filter { customStores[Self.storeKey($0.group, $0.version, $0.resource)] != nil }
        let table = ResourceTable(definitions: served, stores: stores)
        for (prefix, cache) in caches where running[prefix] == nil { await cache.start() }
        resourceTable.withLockedValue { $0 = table }
        for (prefix, cache) in running where !builtInPrefixes.contains(prefix) && caches[prefix] == nil {
            cache.shutdown()
        }
    }
}
