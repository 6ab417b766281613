import APIMachinery
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Storage

/// `--watch-cache`, `--default-watch-cache-size` and `--watch-cache-sizes`, and what a watcher may fall behind by.
public struct WatchCacheConfiguration: Sendable {
    /// Recent changes kept per resource for watchers that start behind the newest one, at first and at least
    /// (upstream's `--default-watch-cache-size`, 100); 0 turns off the caches of resources without a size of
    /// their own.
    public var windowCapacity = 100
    /// The most changes a window grows to: as upstream's, a full window whose oldest change is younger than
    /// `eventFreshDuration` doubles, so a watcher that lists and then watches under a burst of writes is still
    /// served from the cache rather than by a storage watch of its own that parses every change again.
    /// Sizes given on the command line fix the window (see `APIServerCommand.watchCache`).
    public var windowUpperBound = 100 * 1024
    /// How much history a window tries to keep: upstream's 75 s, a bookmark interval and then some.
    public var eventFreshDuration = Duration.seconds(75)
    /// `--watch-cache-sizes`: windows by `resource` (core group) or `resource.group`; 0 turns that cache off.
    public var sizes: [String: Int] = [:]
    /// Changes a watcher may fall behind by before its watch is ended, as upstream ends unresponsive
    /// watchers; the client watches again from the last resourceVersion it got.
    public var watcherBacklog = 10_000
    /// How often a watcher that allows bookmarks hears the revision it has reached, as upstream's ~1 minute.
    public var bookmarkInterval = Duration.seconds(60)
    /// How long a read waits for the cache to reach the revision it needs before storage answers it
    /// instead, as upstream's 3 s.
    public var freshnessTimeout = Duration.seconds(3)
    /// Snapshots kept for paged lists served from the cache; a later page whose snapshot is gone reads
    /// storage at the list's revision.
    public var pagedListSnapshots = 16

    public init() {}

    /// The configuration of one resource's cache, or nil when its size is 0.
    func resource(_ resource: String, group: String) -> WatchCacheConfiguration? {
        var configuration = self
        if let size = sizes[group.isEmpty ? resource : "\(resource).\(group)"] {
            configuration.windowCapacity = size
            configuration.windowUpperBound = size
        }
        configuration.windowUpperBound = max(configuration.windowUpperBound, configuration.windowCapacity)
        return configuration.windowCapacity > 0 ? configuration : nil
    }
}

/// The watch cache of one resource: one storage watch over the resource's whole prefix, shared by every
/// watcher of the resource, each change decoded and encoded once, and a window of recent changes from
/// which a watcher starting at a recent resourceVersion is served without reading storage. It also keeps
/// the resource's current objects, listed once when it starts and then kept by the same watch, so gets
/// and lists are answered without storage (`WatchCache+Reads.swift`).
///
/// The API server starts every cache at once, from storage's revision then, as upstream's cachers start; a
/// cache that stopped starts again with its next watcher. A watcher whose revision is older than the window
/// is not served here (`register` returns nil) and reads storage itself.
///
/// Events, progress and bookmarks are handed out under one lock, so a watcher sees events in revision order
/// and a bookmark never names a revision older than an event it was sent.
final class WatchCache: Sendable {
    struct Watcher {
        /// The key prefix watched: one namespace or the whole resource.
        let scope: String
        let options: ListOptions
        /// Changes up to this revision are not sent.
        var after: Revision
        let queue: WatchQueue
        var lastBookmark: ContinuousClock.Instant
    }

    enum Phase {
        case idle
        case running(Task<Void, Never>)
    }

    struct State {
        var phase = Phase.idle
        /// Whether `objects` holds the resource as of `revision`: false until the first list is in.
        var ready = false
        var objects = CachedObjects()
        /// `objects` at past revisions, kept for the later pages of paged lists; oldest first.
        var snapshots: [(revision: Revision, objects: CachedObjects)] = []
        /// Reads waiting for `revision` to reach theirs.
        var waiters:
            [Int: (
                revision: Revision, deadline: ContinuousClock.Instant, continuation: CheckedContinuation<Bool, Never>
            )] =
                [:]
        /// Whether a task is timing out `waiters`.
        var sweeping = false
        /// Storage said it cannot answer progress requests: consistent reads go to storage.
        var progressUnsupported = false
        /// The cache holds every change after `windowStart`.
        var windowStart: Revision = 0
        /// The newest revision the cache knows complete: its last change or storage's last progress notification.
        var revision: Revision = 0
        var window = CircularBuffer<CachedEvent>()
        /// When each event of `window` came, for its resizing.
        var arrivals = CircularBuffer<ContinuousClock.Instant>()
        /// How many events `window` keeps now, between the configuration's capacity and upper bound.
        var capacity = 0
        var watchers: [Int: Watcher] = [:]
        var nextID = 0
    }

    let definition: ResourceDefinition
    let prefix: String
    let storage: any KeyValueStore
    let configuration: WatchCacheConfiguration
    let state = NIOLockedValueBox(State())
    /// Storage's current revision for consistent reads, one request for every read waiting at once.
    let revisions: RevisionCoalescer
    /// What this server just wrote, so the events of its own writes need no parsing.
    let written = WrittenObjects()
    private static let logger = Logger(label: "kube-apiserver.watch-cache")

    /// The cache of `definition`'s objects stored under `prefix`.
    init(
        definition: ResourceDefinition, prefix: String, storage: any KeyValueStore,
        configuration: WatchCacheConfiguration = WatchCacheConfiguration()
    ) {
        self.definition = definition
        self.prefix = prefix
        self.storage = storage
        self.configuration = configuration
        state.withLockedValue { $0.capacity = configuration.windowCapacity }
        revisions = RevisionCoalescer(storage: storage)
    }

    deinit {
        if case .running(let task) = state.withLockedValue({ $0.phase }) { task.cancel() }
    }

    /// Sends `queue` the changes in `scope` after `after` that pass the options' selectors, from the window
    /// first and then as they come; returns the watcher's ID for `remove`, or nil when `after` is older than
    /// the window (the caller must then read storage's history).
    func register(_ queue: WatchQueue, scope: String, after: Revision, options: ListOptions) -> Int? {
        var fellBehind = false
        let id = state.withLockedValue { state -> Int? in
            guard case .running = state.phase, after >= state.windowStart else { return nil }
            let id = state.nextID
            state.nextID += 1
            var watcher = Watcher(scope: scope, options: options, after: after, queue: queue, lastBookmark: .now)
            // A grown window holds up to 102,400 changes: find the first one after `after` by halving.
            for event in state.window[state.firstEvent(after: after)...] {
                guard Self.send(event, to: &watcher) else {
                    fellBehind = true
                    return id
                }
            }
            state.watchers[id] = watcher
            return id
        }
        // Finishing runs the watch's termination, which takes the lock: never call it while holding it.
        if fellBehind { queue.finish() }
        return id
    }

    /// Starts the cache, unless it runs, from storage's current revision: a cache never starts from a
    /// revision that may be compacted, so only a watcher that asks for older history reads storage itself.
    func start() async {
        guard case .idle = state.withLockedValue({ $0.phase }),
            let current = try? await storage.currentRevision()
        else { return }
        start(from: current)
    }

    /// Starts the cache from `revision`, unless it runs; the API server starts every cache at once this way.
    func start(from revision: Revision) {
        state.withLockedValue { state in
            guard case .idle = state.phase else { return }
            state.windowStart = revision
            state.revision = revision
            state.phase = .running(startWatching(after: revision))
        }
    }

    /// Stops the storage watch and ends every watcher: the resource is no longer served (its custom resource
    /// definition went away). A later `start` would begin afresh.
    func shutdown() {
        let task = state.withLockedValue { state -> Task<Void, Never>? in
            guard case .running(let task) = state.phase else { return nil }
            return task
        }
        task?.cancel()
        stop(with: nil)
    }

    /// Forgets a watcher that went away.
    func remove(_ id: Int) { _ = state.withLockedValue { $0.watchers.removeValue(forKey: id) } }

    var bookmarkInterval: Duration { configuration.bookmarkInterval }

    /// The buffer a watcher needs beyond its initial list: the window it may be sent at once, then its backlog.
    var watcherBuffer: Int { state.withLockedValue { $0.capacity } + configuration.watcherBacklog }

    /// Sends `event` if the watcher sees it and has not had it yet; false when the watcher has to go (it left or
    /// fell too far behind), and then the caller finishes its queue once the lock is released.
    private static func send(_ event: CachedEvent, to watcher: inout Watcher) -> Bool {
        guard watcher.after < event.revision,
            let output = event.output(scope: watcher.scope, options: watcher.options)
        else { return true }
        watcher.after = event.revision
        return watcher.queue.push(output) == .queued
    }

    /// The one storage watch of the resource, and the bookmark ticker, until storage ends the watch.
    private func startWatching(after start: Revision) -> Task<Void, Never> {
        let prefix = prefix
        let updates = storage.watch(
            start: prefix, end: RegistryStore.prefixEnd(prefix), afterRevision: start, progressNotify: true)
        let bookmarks = configuration.bookmarkInterval
        let definition = definition
        let storage = storage
        return Task { [weak self] in
            // The objects as of `start`; the watch's events from `start` on wait in its stream meanwhile.
            do {
                let objects = try await Self.load(storage: storage, prefix: prefix, at: start, definition: definition)
                self?.state.withLockedValue { state in
                    state.objects = objects
                    state.ready = true
                }
                self?.wakeWaiters()
            } catch {
                Self.logger.info("watch cache of \(prefix) could not list: \(error)")
                self?.stop(with: nil)
                return
            }
            let ticker = Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: min(bookmarks, .seconds(1)))
                    self?.sendBookmarks(every: bookmarks)
                }
            }
            defer { ticker.cancel() }
            do {
                for try await update in updates {
                    guard let self else { return }
                    switch update {
                    case .event(let event):
                        // Only this task changes `objects` once loaded, so this is the object before the event.
                        let before = self.state.withLockedValue { $0.objects[event.current.key] }
                        let object = event.kind == .put ? self.written.take(event.current) : nil
                        guard
                            let cached = CachedEvent(
                                event, definition: self.definition, cached: before, written: object)
                        else { continue }
                        self.publish(cached)
                    case .progress(let revision):
                        self.state.withLockedValue { $0.revision = max($0.revision, revision) }
                        self.wakeWaiters()
                    }
                }
            } catch StorageError.compacted(let requested, let compactedAt) {
                // The cache fell behind storage's history: its watchers must relist, as upstream's do.
                self?.stop(with: .gone("too old resource version: \(requested) (\(compactedAt))"))
                return
            } catch {
                Self.logger.info("watch cache of \(prefix) stopped: \(error)")
            }
            self?.stop(with: nil)
        }
    }

    private func publish(_ event: CachedEvent) {
        let gone = state.withLockedValue { state -> [WatchQueue] in
            let now = ContinuousClock.now
            state.resizeWindow(now: now, configuration: configuration)
            while state.window.count >= state.capacity, let evicted = state.window.popFirst() {
                state.arrivals.removeFirst()
                state.windowStart = evicted.revision
            }
            state.window.append(event)
            state.arrivals.append(now)
            state.revision = max(state.revision, event.revision)
            if let object = event.cachedObject {
                state.objects.put(object)
            } else {
                state.objects.remove(event.key)
            }
            var gone: [Int] = []
            // Indices stay valid while values change in place; iterating `keys` would copy the dictionary. Each
            // watcher is touched only through `send`'s inout access: reading a field through the subscript's
            // getter would copy the whole `Watcher` (its selectors, scope and queue retained and released), and
            // with a thousand watchers those copies were most of this loop's time.
            var index = state.watchers.startIndex
            while index != state.watchers.endIndex {
                if !Self.send(event, to: &state.watchers.values[index]) {
                    gone.append(state.watchers.keys[index])
                }
                index = state.watchers.index(after: index)
            }
            return gone.compactMap { state.watchers.removeValue(forKey: $0)?.queue }
        }
        for queue in gone { queue.finish() }
        wakeWaiters()
    }

    /// Lists the resource at `revision` in pages, each object decoded once.
    private static func load(
        storage: any KeyValueStore, prefix: String, at revision: Revision, definition: ResourceDefinition
    ) async throws -> CachedObjects {
        var objects = CachedObjects()
        var start = prefix
        let end = RegistryStore.prefixEnd(prefix)
        while true {
            let page = try await storage.range(start: start, end: end, limit: 5_000, revision: revision)
            for value in page.items {
                guard let object = try? RegistryStore.decode(value) else { continue }
                objects.put(
                    CachedObject(
                        key: value.key, object: object, encoded: RegistryStore.rawObject(value) ?? object.encoded(),
                        fields: definition.selectorFields(object), revision: value.modRevision))
            }
            guard page.more, let last = page.items.last else { return objects }
            start = last.key + "\u{0}"
        }
    }

    private func sendBookmarks(every interval: Duration) {
        let now = ContinuousClock.now
        state.withLockedValue { state in
            var index = state.watchers.startIndex
            while index != state.watchers.endIndex {
                defer { index = state.watchers.index(after: index) }
                guard state.watchers.values[index].options.allowWatchBookmarks,
                    now - state.watchers.values[index].lastBookmark >= interval
                else { continue }
                let revision = max(state.revision, state.watchers.values[index].after)
                state.watchers.values[index].lastBookmark = now
                state.watchers.values[index].after = revision
                state.watchers.values[index].queue.push(.bookmark(revision: revision))
            }
        }
    }

    /// Ends every watcher (with `error` first, if any) and lets the next watcher start the cache afresh.
    private func stop(with error: APIError?) {
        let (watchers, waiters) = state.withLockedValue { state in
            defer {
                state.phase = .idle
                state.window.removeAll()
                state.arrivals.removeAll()
                state.capacity = configuration.windowCapacity
                state.watchers = [:]
                state.ready = false
                state.objects = CachedObjects()
                state.snapshots = []
                state.waiters = [:]
            }
            return (Array(state.watchers.values), Array(state.waiters.values))
        }
        // Reads waiting for a revision go to storage.
        for waiter in waiters { waiter.continuation.resume(returning: false) }
        for watcher in watchers {
            if let error { watcher.queue.push(.error(error)) }
            watcher.queue.finish()
        }
    }
}

extension WatchCache.State {
    /// The index of the window's first event with a revision above `after`; the window is in revision order.
    func firstEvent(after: Revision) -> CircularBuffer<CachedEvent>.Index {
        var low = 0
        var high = window.count
        while low < high {
            let middle = (low + high) / 2
            if window[window.index(window.startIndex, offsetBy: middle)].revision > after {
                high = middle
            } else {
                low = middle + 1
            }
        }
        return window.index(window.startIndex, offsetBy: low)
    }

    /// Upstream's resizing, before an event joins a full window: double while the oldest event is fresh, halve
    /// once even the newest quarter is stale, within the configured bounds.
    mutating func resizeWindow(now: ContinuousClock.Instant, configuration: WatchCacheConfiguration) {
        guard window.count >= capacity, let oldest = arrivals.first else { return }
        if now - oldest < configuration.eventFreshDuration {
            capacity = min(capacity * 2, configuration.windowUpperBound)
        } else if capacity / 4 > 0, capacity > configuration.windowCapacity,
            now - arrivals[arrivals.index(arrivals.endIndex, offsetBy: -(capacity / 4))]
                > configuration.eventFreshDuration
        {
            capacity = max(capacity / 2, configuration.windowCapacity)
        }
    }
}
