import APIMachinery
import Storage

/// One page of a list: the items, the revision it was read at, and the token for the next page.
struct ListPage: Sendable {
    var items: [JSON]
    /// The items as response bytes, filled instead of `items` when the caller asked for raw output.
    var rawItems: [[UInt8]] = []
    /// The watch cache's entries of `items`, when the cache answered: they keep encodings to reuse.
    var cachedItems: [CachedObject] = []
    var revision: Int64
    var continueToken: String?
}

extension RegistryStore {
    /// The options with the field selector in the stored shape's labels (upstream's field label conversion);
    /// 400 for a field selector naming a field this kind cannot be selected by.
    func storageOptions(_ options: ListOptions) throws(APIError) -> ListOptions {
        var converted = options
        if let conversion = definition.conversion {
            for index in converted.fieldSelector.terms.indices {
                let label = converted.fieldSelector.terms[index].field
                converted.fieldSelector.terms[index].field = try conversion.storageFieldLabel(label)
            }
        }
        let supported = Set(strategy.selectableFields(JSON.object(JSONObject())).keys).union([
            "metadata.name", "metadata.namespace",
        ])
        for term in converted.fieldSelector.terms where !supported.contains(term.field) {
            throw APIError.badRequest("field label not supported: \(term.field)")
        }
        return converted
    }

    func matches(_ object: JSON, _ options: ListOptions) -> Bool {
        if options.labelSelector.isEverything, options.fieldSelector.isEverything { return true }
        return definition.selectorFields(object).matches(options)
    }

    /// Lists objects at one revision, page by page: from the watch cache when it can answer as storage
    /// would (`listCached`), else from storage. With `raw`, items are JSON bytes with their resourceVersion.
    func list(namespace: String?, options: ListOptions, raw: Bool = false) async throws -> ListPage {
        let stored = try storageOptions(options)
        if let page = try await listCached(namespace: namespace, options: stored, raw: raw) { return page }
        return try await listStored(namespace: namespace, options: stored, raw: raw)
    }

    /// `list` with options already in the stored shape (`storageOptions`).
    func listStored(namespace: String?, options: ListOptions, raw: Bool) async throws -> ListPage {
        let scope = rangePrefix(namespace: namespace)
        let end = Self.prefixEnd(scope)
        var start = scope
        var revision: Int64?
        if let token = options.continueToken {
            revision = token.revision
            start = prefix + token.startKey
            guard start.hasPrefix(scope) else {
                throw APIError.badRequest("continue key is not valid for this request")
            }
        } else if let text = options.resourceVersion, text != "0" {
            let requested = try ListOptions.revision(text)
            let current = try await storage.currentRevision()
            if options.resourceVersionMatch == "Exact" {
                revision = requested
            } else if requested > current {
                throw APIError(
                    code: 504, reason: .timeout,
                    message: "Too large resource version: \(requested), current: \(current)")
            }
        }
        var items: [JSON] = []
        var rawItems: [[UInt8]] = []
        let filtered = !options.labelSelector.isEverything || !options.fieldSelector.isEverything
        let rawOutput = raw && !filtered
        var count: Int { rawOutput ? rawItems.count : items.count }
        while true {
            let want = options.limit > 0 ? max(options.limit - count, filtered ? 100 : 0) : 0
            let result: RangeResult
            do {
                result = try await storage.range(start: start, end: end, limit: want, revision: revision)
            } catch StorageError.compacted(let requested, let compactedAt) {
                if options.continueToken != nil {
                    throw APIError.gone(
                        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue value from the response to continue from the latest resource version."
                    )
                }
                throw APIError.gone("too old resource version: \(requested) (\(compactedAt))")
            } catch StorageError.futureRevision(let requested, let current) {
                throw APIError(
                    code: 504, reason: .timeout,
                    message: "Too large resource version: \(requested), current: \(current)")
            }
            revision = result.revision
            for value in result.items {
                if rawOutput, let bytes = rawObject(value) {
                    rawItems.append(bytes)
                } else {
                    let object = try decode(value)
                    if rawOutput {
                        rawItems.append(object.encoded())
                    } else if matches(object, options) {
                        items.append(object)
                    }
                }
                if options.limit > 0, count == options.limit {
                    let last = value.key
                    let moreAfter = result.more || value.key != result.items.last?.key
                    if moreAfter {
                        let token = ContinueToken(
                            revision: result.revision, startKey: String(last.dropFirst(prefix.count)) + "\u{0}")
                        return ListPage(
                            items: items, rawItems: rawItems, revision: result.revision, continueToken: token.encoded)
                    }
                    return ListPage(items: items, rawItems: rawItems, revision: result.revision, continueToken: nil)
                }
            }
            guard result.more, let last = result.items.last else {
                return ListPage(items: items, rawItems: rawItems, revision: result.revision, continueToken: nil)
            }
            start = last.key + "\u{0}"
        }
    }

    static func prefixEnd(_ prefix: String) -> String {
        var bytes = Array(prefix.utf8)
        if let last = bytes.last { bytes[bytes.count - 1] = last + 1 }
        return String(decoding: bytes, as: UTF8.self)
    }
}
