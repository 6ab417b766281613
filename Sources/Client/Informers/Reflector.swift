public import Logging
import NIOConcurrencyHelpers

/// Where a reflector puts what it lists and watches: an `Indexer`, or an informer that also tells its handlers.
public protocol ReflectorStore<Object>: Sendable {
    associatedtype Object: KubernetesObject
    /// Replaces the contents with a complete list taken at `resourceVersion`.
    func replace(_ objects: [Object], resourceVersion: String)
    func add(_ object: Object)
    func update(_ object: Object)
    func delete(_ object: Object)
}

extension Indexer: ReflectorStore {
    public func replace(_ objects: [Object], resourceVersion: String) { replace(objects) }
    public func add(_ object: Object) { upsert(object) }
    public func update(_ object: Object) { upsert(object) }
    public func delete(_ object: Object) { delete(object.key) }
}

/// client-go's reflector: keeps a store equal to the server's collection by listing it in pages and then
/// watching from the list's resourceVersion, resuming, relisting and backing off as `ReflectorStateMachine`
/// decides. `run()` performs its actions until the task is cancelled.
public final class Reflector<Object: KubernetesObject>: Sendable {
    /// Counters for tests and metrics: how often the reflector listed and watched.
    public struct Statistics: Sendable, Hashable {
        /// Complete lists (each of one or more pages) started.
        public var lists = 0
        /// Watch requests started.
        public var watches = 0

        public init(lists: Int = 0, watches: Int = 0) {
            self.lists = lists
            self.watches = watches
        }
    }

    /// Upstream's list page size.
    public static var pageSize: Int { 500 }
    /// Upstream's shortest watch timeout; each watch asks for between one and two times this.
    public static var minWatchTimeout: Duration { .seconds(300) }

    let listWatch: any ListWatch<Object>
    let store: any ReflectorStore<Object>
    let time: any TimeSource
    let logger: Logger
    /// A random number in [0, 1) for jitter; tests pin it.
    let random: @Sendable () -> Double
    private let machine = NIOLockedValueBox(ReflectorStateMachine())
    private let counters = NIOLockedValueBox(Statistics())

    public init(
        listWatch: any ListWatch<Object>, store: any ReflectorStore<Object>, time: any TimeSource = SystemTime(),
        logger: Logger = Logger(label: "kubeswift.reflector"),
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.listWatch = listWatch
        self.store = store
        self.time = time
        self.logger = logger
        self.random = random
    }

    /// The newest resourceVersion the store reflects; empty before the first list.
    public var lastSyncResourceVersion: String { machine.withLockedValue { $0.lastSyncResourceVersion } }

    /// Lists and watches so far.
    public var statistics: Statistics { counters.withLockedValue { $0 } }

    /// Lists, watches and recovers until the calling task is cancelled.
    public func run() async {
        var action = machine.withLockedValue { $0.start() }
        while !Task.isCancelled {
            switch action {
            case .list(let resourceVersion):
                action = await list(from: resourceVersion)
            case .watch(let resourceVersion):
                action = await watch(from: resourceVersion)
            case .backOff(let delay):
                do {
                    try await time.sleep(for: delay)
                    action = machine.withLockedValue { $0.backoffElapsed() }
                } catch {
                    action = .stop
                }
            case .stop:
                return
            }
        }
        _ = machine.withLockedValue { $0.stop() }
    }

    private func list(from resourceVersion: String) async -> ReflectorStateMachine.Action {
        counters.withLockedValue { $0.lists += 1 }
        var objects: [Object] = []
        var listVersion = ""
        var continueToken: String?
        do {
            repeat {
                let page = try await listWatch.list(
                    limit: Self.pageSize, continueToken: continueToken, resourceVersion: resourceVersion)
                objects.append(contentsOf: page.items)
                listVersion = page.resourceVersion
                continueToken = page.continueToken.flatMap { $0.isEmpty ? nil : $0 }
            } while continueToken != nil
        } catch {
            if Task.isCancelled { return .stop }
            logger.warning(
                "failed to list", metadata: ["resource": "\(Object.resource)", "error": "\(error)"])
            let failure = Self.failure(error)
            return machine.withLockedValue { $0.listFailed(failure, now: time.now, jitter: random()) }
        }
        store.replace(objects, resourceVersion: listVersion)
        return machine.withLockedValue { $0.listed(resourceVersion: listVersion) }
    }

    private func watch(from resourceVersion: String) async -> ReflectorStateMachine.Action {
        counters.withLockedValue { $0.watches += 1 }
        let timeout = Self.minWatchTimeout * (1 + random())
        let changes: WatchChanges<Object>
        do {
            changes = try await listWatch.watch(resourceVersion: resourceVersion, timeout: timeout)
        } catch {
            if Task.isCancelled { return .stop }
            logger.warning(
                "failed to watch", metadata: ["resource": "\(Object.resource)", "error": "\(error)"])
            let failure = Self.failure(error)
            return machine.withLockedValue { $0.watchFailedToStart(failure, now: time.now, jitter: random()) }
        }
        let started = time.now
        machine.withLockedValue { $0.watchStarted(now: started) }
        var end = ReflectorStateMachine.WatchEnd.closed
        do {
            loop: for try await change in changes {
                switch change {
                case .added(let object):
                    store.add(object)
                    observed(object.metadata.resourceVersion)
                case .modified(let object):
                    store.update(object)
                    observed(object.metadata.resourceVersion)
                case .deleted(let object):
                    store.delete(object)
                    observed(object.metadata.resourceVersion)
                case .bookmark(let resourceVersion):
                    observed(resourceVersion)
                case .error(let status):
                    logger.info(
                        "watch ended with an error event",
                        metadata: ["resource": "\(Object.resource)", "code": "\(status.code)", "error": "\(status)"])
                    end = .failed(Self.failure(status))
                    break loop
                }
            }
        } catch {
            // A broken stream is resumed like one that timed out; only the log line differs.
            if !Task.isCancelled {
                logger.info("watch broke", metadata: ["resource": "\(Object.resource)", "error": "\(error)"])
            }
        }
        if Task.isCancelled { return .stop }
        return machine.withLockedValue { $0.watchEnded(end, now: time.now, jitter: random()) }
    }

    private func observed(_ resourceVersion: String?) {
        machine.withLockedValue { $0.observed(resourceVersion: resourceVersion ?? "") }
    }

    /// 410 (Gone, or Expired in a watch's ERROR event) means the resourceVersion is compacted away.
    static func failure(_ error: any Error) -> ReflectorStateMachine.Failure {
        guard let status = error as? StatusError else { return .other }
        return status.code == 410 || status.statusReason == .expired || status.statusReason == .gone
            ? .expired : .other
    }
}
