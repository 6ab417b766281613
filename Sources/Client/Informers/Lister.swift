public import APIMachinery

/// A read-only view of an informer's cache, as client-go's generated listers: answers come from memory, never
/// from the API server, and are only as fresh as the cache.
public struct Lister<Object: KubernetesObject>: Sendable {
    let indexer: Indexer<Object>

    public init(indexer: Indexer<Object>) {
        self.indexer = indexer
    }

    /// The objects in `namespace` (every namespace when nil) whose labels match `selector`, sorted by key.
    public func list(namespace: String? = nil, selector: LabelSelector = .everything) -> [Object] {
        let candidates: [Object]
        if let namespace {
            candidates = (try? indexer.byIndex(Indexer<Object>.namespaceIndex, namespace)) ?? []
        } else {
            candidates = indexer.list()
        }
        return candidates.filter { selector.matches($0.metadata.labels) }.sorted { $0.key < $1.key }
    }

    /// The object named `name` in `namespace` ("" for cluster-scoped kinds), if cached.
    public func get(namespace: String = "", name: String) -> Object? {
        indexer.get(ObjectKey(namespace: namespace, name: name))
    }

    /// The objects whose index `indexName` produced `value`, sorted by key.
    public func byIndex(_ indexName: String, _ value: String) throws(IndexerError) -> [Object] {
        try indexer.byIndex(indexName, value).sorted { $0.key < $1.key }
    }
}
