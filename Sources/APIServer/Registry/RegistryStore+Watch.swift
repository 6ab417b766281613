import APIMachinery
import NIOConcurrencyHelpers
import Storage

/// One item of a watch stream, before encoding.
enum WatchOutput: Sendable {
    case event(type: String, object: JSON)
    case bookmark(revision: Int64)
    case error(APIError)
}

extension RegistryStore {
    /// Streams changes as upstream does: with no resourceVersion (or "0") the current objects come first as
    /// ADDED, then every change after them; with one, every change after it, or a 410 ERROR event when it
    /// is compacted away. Selectors turn transitions across their boundary into ADDED and DELETED.
    func watch(namespace: String?, options: ListOptions) async throws -> AsyncStream<WatchOutput> {
        try checkFieldSelector(options.fieldSelector)
        let scope = rangePrefix(namespace: namespace)
        let end = Self.prefixEnd(scope)
        var initial: [JSON] = []
        let startRevision: Int64
        if let text = options.resourceVersion, text != "0", options.sendInitialEvents != true {
            startRevision = try ListOptions.revision(text)
        } else {
            var page = ListOptions()
            page.labelSelector = options.labelSelector
            page.fieldSelector = options.fieldSelector
            let snapshot = try await list(namespace: namespace, options: page)
            initial = snapshot.items
            startRevision = snapshot.revision
        }
        let events = storage.watch(start: scope, end: end, afterRevision: startRevision)
        let sendInitialBookmark = options.sendInitialEvents == true && options.allowWatchBookmarks
        let bookmarkInterval = options.allowWatchBookmarks ? Self.bookmarkInterval : nil
        let initialObjects = initial
        return AsyncStream(bufferingPolicy: .unbounded) { continuation in
            // Events and bookmarks are yielded under one lock, so a bookmark never names a revision
            // older than an event already sent.
            let lastSent = NIOLockedValueBox<Int64>(startRevision)
            let task = Task {
                for object in initialObjects { continuation.yield(.event(type: "ADDED", object: object)) }
                if sendInitialBookmark { continuation.yield(.bookmark(revision: startRevision)) }
                do {
                    for try await event in events {
                        guard let output = self.transform(event, options: options) else { continue }
                        lastSent.withLockedValue { revision in
                            revision = event.revision
                            _ = continuation.yield(output)
                        }
                    }
                } catch StorageError.compacted(let requested, let compactedAt) {
                    continuation.yield(.error(.gone("too old resource version: \(requested) (\(compactedAt))")))
                } catch is CancellationError {
                } catch {
                    continuation.yield(.error(.internalError("watch ended: \(error)")))
                }
                continuation.finish()
            }
            let ticker = Task {
                guard let bookmarkInterval else { return }
                while !Task.isCancelled {
                    try? await Task.sleep(for: bookmarkInterval)
                    lastSent.withLockedValue { _ = continuation.yield(.bookmark(revision: $0)) }
                }
            }
            continuation.onTermination = { _ in
                task.cancel()
                ticker.cancel()
            }
        }
    }

    /// How often a watcher that allows bookmarks hears the revision it has reached, as upstream's ~1 minute.
    static let bookmarkInterval = Duration.seconds(60)

    /// Maps a storage event to the API event this watcher sees, or nil when its selectors hide it.
    func transform(_ event: WatchEvent, options: ListOptions) -> WatchOutput? {
        let revision = String(event.revision)
        switch event.kind {
        case .put:
            guard var object = try? decode(event.current) else { return nil }
            let isNew = event.current.createRevision == event.current.modRevision
            let nowMatches = matches(object, options)
            var before: JSON?
            if !isNew, let previous = event.previous { before = try? decode(previous) }
            let wasMatching = isNew ? false : before.map { matches($0, options) } ?? nowMatches
            switch (wasMatching, nowMatches) {
            case (false, true): return .event(type: "ADDED", object: object)
            case (true, true): return .event(type: isNew ? "ADDED" : "MODIFIED", object: object)
            case (true, false):
                object.setMeta("resourceVersion", .string(revision))
                return .event(type: "DELETED", object: object)
            case (false, false): return nil
            }
        case .delete:
            guard let previous = event.previous, var object = try? decode(previous) else { return nil }
            guard matches(object, options) else { return nil }
            object.setMeta("resourceVersion", .string(revision))
            return .event(type: "DELETED", object: object)
        }
    }
}
