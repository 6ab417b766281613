import APIMachinery
import Storage

/// One item of a watch stream, before encoding.
enum WatchOutput: Sendable {
    /// `object` is the stored object; `encoded` its JSON when it was encoded once for every watcher
    /// (sent only by resources stored as served); `protobuf` keeps its enveloped protobuf once the first
    /// protobuf watcher made it, for every other one.
    case event(type: String, object: JSON, encoded: [UInt8]?, protobuf: EncodedOnce? = nil)
    case bookmark(revision: Int64)
    case error(APIError)
}

extension RegistryStore {
    /// Streams changes as upstream does: with no resourceVersion (or "0") the current objects come first as
    /// ADDED, then every change after them; with one, every change after it, or a 410 ERROR event when it
    /// is compacted away. Selectors turn transitions across their boundary into ADDED and DELETED.
    ///
    /// The watch cache serves every watcher it can; one older than its window reads storage's history.
    /// Events carry stored objects; the response converts them to the served shape.
    func watch(namespace: String?, options served: ListOptions) async throws -> WatchQueue {
        let options = try storageOptions(served)
        let scope = rangePrefix(namespace: namespace)
        var initial: [WatchOutput] = []
        let startRevision: Int64
        if let text = options.resourceVersion, text != "0", options.sendInitialEvents != true {
            startRevision = try ListOptions.revision(text)
        } else {
            var page = ListOptions()
            page.labelSelector = options.labelSelector
            page.fieldSelector = options.fieldSelector
            let snapshot = try await listStored(namespace: namespace, options: page, raw: false)
            initial = snapshot.items.map { .event(type: "ADDED", object: $0, encoded: nil) }
            startRevision = snapshot.revision
            if options.sendInitialEvents == true, options.allowWatchBookmarks {
                initial.append(.bookmark(revision: startRevision))
            }
        }
        let buffer = watchCache?.watcherBuffer ?? WatchCacheConfiguration().watcherBacklog
        let queue = WatchQueue(capacity: initial.count + buffer)
        for output in initial { queue.push(output) }
        // Upstream ends a watch after `timeoutSeconds`, or a random 30 to 60 minutes so clients spread their
        // re-watches.
        let timeout = options.timeoutSeconds ?? Int.random(in: 1800...3600)
        let timer = Task {
            try? await Task.sleep(for: .seconds(timeout))
            queue.finish()
        }
        await watchCache?.start()
        if let watchCache, let id = watchCache.register(queue, scope: scope, after: startRevision, options: options) {
            queue.onTermination {
                watchCache.remove(id)
                timer.cancel()
            }
        } else {
            let task = storageWatch(queue, scope: scope, after: startRevision, options: options)
            queue.onTermination {
                task.cancel()
                timer.cancel()
            }
        }
        return queue
    }

    /// A watch of its own on storage, for a watcher the cache cannot serve (or with the cache off).
    private func storageWatch(_ queue: WatchQueue, scope: String, after startRevision: Int64, options: ListOptions)
        -> Task<Void, Never>
    {
        let updates = storage.watch(
            start: scope, end: Self.prefixEnd(scope), afterRevision: startRevision,
            progressNotify: options.allowWatchBookmarks)
        let bookmarkInterval = watchCache?.bookmarkInterval ?? WatchCacheConfiguration().bookmarkInterval
        let definition = definition
        return Task {
            // Every change up to `reached` was sent, or hidden by the selectors.
            var reached = startRevision
            var lastBookmark = ContinuousClock.now
            do {
                delivery: for try await update in updates {
                    switch update {
                    case .event(let event):
                        reached = event.revision
                        if let output = CachedEvent(event, definition: definition)?.output(
                            scope: scope, options: options),
                            queue.push(output) != .queued
                        {
                            break delivery
                        }
                    case .progress(let revision):
                        reached = max(reached, revision)
                    }
                    // Bookmarks ride on events and storage's progress notifications: this rare path (a watcher
                    // behind the cache's window, or the cache off) keeps no timer of its own.
                    if options.allowWatchBookmarks, ContinuousClock.now - lastBookmark >= bookmarkInterval {
                        queue.push(.bookmark(revision: reached))
                        lastBookmark = .now
                    }
                }
            } catch StorageError.compacted(let requested, let compactedAt) {
                queue.push(.error(.gone("too old resource version: \(requested) (\(compactedAt))")))
            } catch is CancellationError {
            } catch {
                queue.push(.error(.internalError("watch ended: \(error)")))
            }
            queue.finish()
        }
    }
}
