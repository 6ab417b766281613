import APIMachinery
import Storage

/// The labels and selectable fields of one object: all a watcher's selectors look at.
struct SelectorFields: Sendable {
    var labels: [String: String]
    var fields: [String: String]

    func matches(_ options: ListOptions) -> Bool {
        (options.labelSelector.isEverything || options.labelSelector.matches(labels))
            && (options.fieldSelector.isEverything || options.fieldSelector.matches { fields[$0] })
    }
}

/// One storage change as every watcher of a resource shares it: decoded once, with the bytes watchers
/// send encoded once and the selector fields of the object before and after the change.
struct CachedEvent: Sendable {
    enum Change: Sendable {
        case created
        case updated
        case deleted
    }

    let revision: Revision
    let key: String
    let change: Change
    /// The object after the change, or for a delete the last state with the delete's resourceVersion.
    let object: JSON
    /// `object` as JSON, shared by every watcher that is sent it.
    let encoded: [UInt8]
    let fields: SelectorFields
    /// For an update, the fields before it; nil when storage did not say.
    let previousFields: SelectorFields?
    /// `object` as enveloped protobuf, made by the first protobuf watcher sent it.
    let protobuf = EncodedOnce()

    /// Nil when the stored bytes are not an object this store can read; such a change is skipped, as lists skip it.
    /// `cached` is the cache's copy of the object before the change: when it is the event's previous value,
    /// its selector fields and parsed object are reused rather than parsed again. `written` is the object
    /// as this server wrote it in this put (`WrittenObjects`), the stored bytes parsed.
    init?(_ event: WatchEvent, definition: ResourceDefinition, cached: CachedObject? = nil, written: JSON? = nil) {
        let before = cached.flatMap { $0.revision == event.previous?.modRevision ? $0 : nil }
        revision = event.revision
        key = event.current.key
        switch event.kind {
        case .put:
            guard let object = written ?? (try? RegistryStore.decode(event.current)) else { return nil }
            self.object = object
            encoded = RegistryStore.rawObject(event.current) ?? object.encoded()
            fields = definition.selectorFields(object)
            if event.current.createRevision == event.current.modRevision {
                change = .created
                previousFields = nil
            } else {
                change = .updated
                previousFields =
                    before?.fields
                    ?? event.previous.flatMap { try? RegistryStore.decode($0) }.map(definition.selectorFields)
            }
        case .delete:
            // Upstream sends the last state with the resourceVersion of the delete.
            guard var last = event.previous else { return nil }
            last.modRevision = event.revision
            if let before {
                var object = before.object
                object.setMeta("resourceVersion", .string(String(event.revision)))
                self.object = object
                fields = before.fields
            } else {
                guard let object = try? RegistryStore.decode(last) else { return nil }
                self.object = object
                fields = definition.selectorFields(object)
            }
            encoded = RegistryStore.rawObject(last) ?? object.encoded()
            change = .deleted
            previousFields = nil
        }
    }

    /// The object as the cache keeps it after the change; nil for a delete.
    var cachedObject: CachedObject? {
        if case .deleted = change { return nil }
        return CachedObject(key: key, object: object, encoded: encoded, fields: fields, revision: revision)
    }

    /// What a watcher of `scope` (a key prefix) with these selectors sees: selectors turn changes across
    /// their boundary into ADDED and DELETED, as upstream's cacher does; nil when the change is hidden.
    func output(scope: String, options: ListOptions) -> WatchOutput? {
        guard key.hasPrefix(scope) else { return nil }
        let selecting = !options.labelSelector.isEverything || !options.fieldSelector.isEverything
        let nowMatches = !selecting || fields.matches(options)
        switch change {
        case .created:
            return nowMatches ? .event(type: "ADDED", object: object, encoded: encoded, protobuf: protobuf) : nil
        case .deleted:
            return nowMatches ? .event(type: "DELETED", object: object, encoded: encoded, protobuf: protobuf) : nil
        case .updated:
            let wasMatching = !selecting || (previousFields.map { $0.matches(options) } ?? nowMatches)
            switch (wasMatching, nowMatches) {
            case (false, true): return .event(type: "ADDED", object: object, encoded: encoded, protobuf: protobuf)
            case (true, true): return .event(type: "MODIFIED", object: object, encoded: encoded, protobuf: protobuf)
            case (true, false): return .event(type: "DELETED", object: object, encoded: encoded, protobuf: protobuf)
            case (false, false): return nil
            }
        }
    }
}
