import NIOConcurrencyHelpers

/// Why an indexer operation was refused.
public enum IndexerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `byIndex` named an index nobody added.
    case unknownIndex(String)
    /// `addIndexers` named an index that already exists.
    case indexExists(String)

    public var description: String {
        switch self {
        case .unknownIndex(let name): return "Index with name \(name) does not exist"
        case .indexExists(let name): return "indexer conflict: \(name)"
        }
    }
}

/// client-go's thread-safe store with indices: objects by `ObjectKey`, plus named indices that map an index value
/// (a namespace, a node name, …) to the keys of the objects that produce it.
///
/// Every informer has one; listers read it. The `namespace` index is always present.
public final class Indexer<Object: KubernetesObject>: Sendable {
    /// Computes the index values of one object; an object may produce none or several.
    public typealias IndexFunction = @Sendable (Object) -> [String]

    /// The built-in index of objects by namespace (empty for cluster-scoped objects), as upstream's
    /// `cache.NamespaceIndex`.
    public static var namespaceIndex: String { "namespace" }

    private struct State: Sendable {
        var items: [ObjectKey: CachedObject<Object>] = [:]
        var indexers: [String: IndexFunction] = [:]
        /// index name → index value → keys.
        var indices: [String: [String: Set<ObjectKey>]] = [:]

        mutating func store(_ cached: CachedObject<Object>) -> CachedObject<Object>? {
            let key = cached.value.key
            let old = items.updateValue(cached, forKey: key)
            for (name, function) in indexers {
                if let old { unindex(old.value, key: key, name: name, function: function) }
                for value in Set(function(cached.value)) {
                    indices[name, default: [:]][value, default: []].insert(key)
                }
            }
            return old
        }

        mutating func remove(_ key: ObjectKey) -> CachedObject<Object>? {
            guard let old = items.removeValue(forKey: key) else { return nil }
            for (name, function) in indexers { unindex(old.value, key: key, name: name, function: function) }
            return old
        }

        private mutating func unindex(_ object: Object, key: ObjectKey, name: String, function: IndexFunction) {
            for value in Set(function(object)) {
                indices[name]?[value]?.remove(key)
                if indices[name]?[value]?.isEmpty == true { indices[name]?[value] = nil }
            }
        }
    }

    private let state = NIOLockedValueBox(State())

    /// An empty store with the namespace index and `indexers`.
    public init(indexers: [String: IndexFunction] = [:]) {
        var all = indexers
        all[Self.namespaceIndex] = { [$0.metadata.namespace ?? ""] }
        state.withLockedValue { $0.indexers = all }
    }

    /// Adds indices (`["nodeName": { [$0.spec.nodeName ?? ""] }]`), indexing the objects already stored.
    public func addIndexers(_ indexers: [String: IndexFunction]) throws(IndexerError) {
        let conflict: String? = state.withLockedValue { state in
            if let name = indexers.keys.sorted().first(where: { state.indexers[$0] != nil }) { return name }
            for (name, function) in indexers {
                state.indexers[name] = function
                var index: [String: Set<ObjectKey>] = [:]
                for (key, cached) in state.items {
                    for value in Set(function(cached.value)) { index[value, default: []].insert(key) }
                }
                state.indices[name] = index
            }
            return nil
        }
        if let conflict { throw .indexExists(conflict) }
    }

    /// Every object, in no particular order.
    public func list() -> [Object] { state.withLockedValue { $0.items.values.map(\.value) } }

    /// Every object in its shared box, for an informer to hand its handlers without copying.
    func listCached() -> [CachedObject<Object>] { state.withLockedValue { Array($0.items.values) } }

    /// The boxes of the objects in `namespace`, or of every object when nil, for a lister to filter and sort
    /// before it copies out only the objects it returns.
    func listCached(namespace: String?) -> [CachedObject<Object>] {
        state.withLockedValue { state in
            guard let namespace else { return Array(state.items.values) }
            return (state.indices[Self.namespaceIndex]?[namespace] ?? []).compactMap { state.items[$0] }
        }
    }

    /// Every key, in no particular order.
    public func listKeys() -> [ObjectKey] { state.withLockedValue { Array($0.items.keys) } }

    /// The object stored under `key`.
    public func get(_ key: ObjectKey) -> Object? { state.withLockedValue { $0.items[key]?.value } }

    /// How many objects are stored.
    public var count: Int { state.withLockedValue { $0.items.count } }

    /// The objects whose index `name` produced `value`.
    public func byIndex(_ name: String, _ value: String) throws(IndexerError) -> [Object] {
        try byIndexCached(name, value).map(\.value)
    }

    /// The boxes of the objects whose index `name` produced `value`.
    func byIndexCached(_ name: String, _ value: String) throws(IndexerError) -> [CachedObject<Object>] {
        let objects: [CachedObject<Object>]? = state.withLockedValue { state in
            guard state.indexers[name] != nil else { return nil }
            return (state.indices[name]?[value] ?? []).compactMap { state.items[$0] }
        }
        guard let objects else { throw .unknownIndex(name) }
        return objects
    }

    /// The keys of the objects whose index `name` produced `value`.
    public func indexKeys(_ name: String, _ value: String) throws(IndexerError) -> [ObjectKey] {
        let keys: [ObjectKey]? = state.withLockedValue { state in
            guard state.indexers[name] != nil else { return nil }
            return Array(state.indices[name]?[value] ?? [])
        }
        guard let keys else { throw .unknownIndex(name) }
        return keys
    }

    /// The values index `name` holds, as upstream's `ListIndexFuncValues`.
    public func indexValues(_ name: String) -> [String] {
        state.withLockedValue { Array(($0.indices[name] ?? [:]).keys) }
    }

    /// Stores `object` under its key and returns what it replaced.
    @discardableResult
    public func upsert(_ object: Object) -> Object? {
        upsert(CachedObject(object))?.value
    }

    /// Removes the object under `key` and returns it.
    @discardableResult
    public func delete(_ key: ObjectKey) -> Object? {
        removeCached(key)?.value
    }

    /// Replaces the whole contents with `objects` and returns what was stored before.
    @discardableResult
    public func replace(_ objects: [Object]) -> [ObjectKey: Object] {
        replace(objects.map(CachedObject.init)).mapValues(\.value)
    }

    /// Stores `cached` and returns the box it replaced.
    func upsert(_ cached: CachedObject<Object>) -> CachedObject<Object>? {
        state.withLockedValue { $0.store(cached) }
    }

    /// Removes the box under `key` and returns it.
    func removeCached(_ key: ObjectKey) -> CachedObject<Object>? {
        state.withLockedValue { $0.remove(key) }
    }

    /// Replaces the whole contents with `objects` and returns the boxes stored before.
    func replace(_ objects: [CachedObject<Object>]) -> [ObjectKey: CachedObject<Object>] {
        state.withLockedValue { state in
            let old = state.items
            state.items = [:]
            state.indices = [:]
            state.items.reserveCapacity(objects.count)
            for object in objects { _ = state.store(object) }
            return old
        }
    }
}

/// One cached object behind a shared, immutable reference: the store's dictionary and every handler's buffer
/// then hold a pointer where they would hold the model inline (a `Pod` is over a kilobyte of inline fields,
/// most of them empty), and the informer hands the same box to every handler instead of a copy each.
final class CachedObject<Object: KubernetesObject>: Sendable {
    let value: Object

    init(_ value: Object) { self.value = value }
}
