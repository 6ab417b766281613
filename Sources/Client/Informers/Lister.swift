public import APIMachinery

/// A read-only view of an informer's cache, as client-go's generated listers: answers come from memory, never
/// from the API server, and are only as fresh as the cache.
public struct Lister<Object: KubernetesObject>: Sendable {
    let indexer: Indexer<Object>

    public init(indexer: Indexer<Object>) {
        self.indexer = indexer
    }

    /// The objects in `namespace` (every namespace when nil) whose labels match `selector`, sorted by key.
    /// Filtered and sorted as the cache's boxes, so each returned object is copied once (a `Pod` is hundreds of
    /// bytes inline; a sync listing a namespace of 10,000 pods made three copies of each).
    public func list(namespace: String? = nil, selector: LabelSelector = .everything) -> [Object] {
        Self.sortedByKey(indexer.listCached(namespace: namespace).filter { selector.matches($0.value.metadata.labels) })
    }

    /// The object named `name` in `namespace` ("" for cluster-scoped kinds), if cached.
    public func get(namespace: String = "", name: String) -> Object? {
        indexer.get(ObjectKey(namespace: namespace, name: name))
    }

    /// The objects whose index `indexName` produced `value`, sorted by key.
    public func byIndex(_ indexName: String, _ value: String) throws(IndexerError) -> [Object] {
        Self.sortedByKey(try indexer.byIndexCached(indexName, value))
    }

    /// The boxed objects copied out in key order, each key computed once.
    private static func sortedByKey(_ boxes: [CachedObject<Object>]) -> [Object] {
        boxes.map { (key: $0.value.key, cached: $0) }.sorted { $0.key < $1.key }.map(\.cached.value)
    }
}
