import APIMachinery
import Storage

/// A GET's answer: the watch cache's object, or storage's value when the cache could not answer.
struct StoredRead: Sendable {
    enum Source: Sendable {
        case cached(CachedObject)
        case stored(KeyValue)
    }

    let source: Source

    /// The object's JSON with its resourceVersion, when it is at hand without parsing.
    var raw: [UInt8]? {
        switch source {
        case .cached(let cached): cached.encoded
        case .stored(let value): RegistryStore.rawObject(value)
        }
    }

    /// The object in the stored shape, with its resourceVersion.
    func object() throws(APIError) -> JSON {
        switch source {
        case .cached(let cached): cached.object
        case .stored(let value): try RegistryStore.decode(value)
        }
    }
}

extension RegistryStore {
    /// GET as upstream's cacher serves it with consistent reads from cache: with no resourceVersion once
    /// the cache has reached storage's current revision, with "0" at once, with N once it reached N;
    /// storage answers whenever the cache cannot.
    func read(namespace: String?, name: String, resourceVersion: String?) async throws -> StoredRead {
        var requirement = CacheReadRequirement.consistent
        if let resourceVersion, !resourceVersion.isEmpty {
            let revision = try ListOptions.revision(resourceVersion)
            requirement = revision == 0 ? .any : .atLeast(revision)
        }
        if let watchCache, let view = await watchCache.view(requirement) {
            guard let object = view.objects[key(namespace: namespace, name: name)] else {
                throw APIError.notFound(groupResource, name: name)
            }
            return StoredRead(source: .cached(object))
        }
        return StoredRead(source: .stored(try await getValue(namespace: namespace, name: name)))
    }

    /// What a list with these options needs from the cache (upstream's resourceVersion and
    /// resourceVersionMatch rules; a continue token pins its first page's revision).
    static func cacheRequirement(_ options: ListOptions) throws(APIError) -> CacheReadRequirement {
        if let token = options.continueToken { return .exactly(token.revision) }
        guard let text = options.resourceVersion else { return .consistent }
        let revision = try ListOptions.revision(text)
        switch options.resourceVersionMatch {
        case "Exact": return .exactly(revision)
        case "NotOlderThan": return revision == 0 ? .any : .atLeast(revision)
        default:
            // Without a match, a limit with a resourceVersion other than 0 is upstream's legacy exact read.
            if revision == 0 { return .any }
            return options.limit > 0 ? .exactly(revision) : .atLeast(revision)
        }
    }

    /// One page of a list from the watch cache, or nil when storage must answer. Pages after the first
    /// come from the first page's snapshot; once it is gone, storage serves them at its revision.
    func listCached(namespace: String?, options: ListOptions, raw: Bool) async throws -> ListPage? {
        guard let watchCache, let view = await watchCache.view(try Self.cacheRequirement(options)) else {
            return nil
        }
        let scope = rangePrefix(namespace: namespace)
        var start: String?
        if let token = options.continueToken {
            start = prefix + token.startKey
            guard start?.hasPrefix(scope) == true else {
                throw APIError.badRequest("continue key is not valid for this request")
            }
        }
        let selecting = !options.labelSelector.isEverything || !options.fieldSelector.isEverything
        let (objects, more) = view.objects.page(scope: scope, from: start, limit: options.limit) {
            !selecting || $0.fields.matches(options)
        }
        var page = ListPage(items: [], revision: view.revision)
        if raw {
            page.rawItems = objects.map(\.encoded)
        } else {
            page.items = objects.map(\.object)
            page.cachedItems = objects
        }
        if more, let last = objects.last {
            let token = ContinueToken(
                revision: view.revision, startKey: String(last.key.dropFirst(prefix.count)) + "\u{0}")
            page.continueToken = token.encoded
            watchCache.keepSnapshot(view)
        }
        return page
    }
}
