import APIMachinery
import Foundation
public import Logging
import NIOConcurrencyHelpers

/// An event's type, as `events.k8s.io/v1` allows them.
public enum EventType: String, Sendable, Hashable {
    case normal = "Normal"
    case warning = "Warning"
}

/// Records `events.k8s.io/v1` Events as upstream's `tools/events` recorder and broadcaster do: the
/// caller never waits (events queue in a bounded buffer, dropped with a log line when it is full),
/// repeats of one event become an `EventSeries` on it, and a (source, object) spam filter caps the rest.
/// `run()` does the writing.
public final class EventRecorder: Sendable {
    /// Upstream's `maxQueuedEvents`.
    public static let defaultBufferSize = 1000
    /// How often `run()` retries unreachable writes and flushes series (upstream's retry sleep).
    static let tick: Duration = .seconds(10)
    /// Writes in flight at most; upstream bounds them only by the client's rate limit.
    static let maximumWritesInFlight = 128
    /// The events API limits a note to 1 kB.
    static let noteLimit = 1024

    /// The controller writing the events (`kube-scheduler`, `deployment-controller`, …).
    public let reportingController: String
    /// This instance of it (upstream components use their leader-election identity).
    public let reportingInstance: String
    let client: RESTClient
    private let timeSource: any TimeSource
    let logger: Logger
    private let bufferSize: Int
    private let events: AsyncStream<Command>
    private let continuation: AsyncStream<Command>.Continuation
    /// Events handed to `eventf` and not yet dealt with by `run()`.
    private let backlog = NIOLockedValueBox(0)
    /// Writes that could not reach the server, tried again on the next tick.
    let retries: NIOLockedValueBox<WriteRetries>
    /// The last name's timestamp, so two events in one clock tick still get distinct names.
    private let lastNameTime = NIOLockedValueBox<Int64>(0)

    private enum Command: Sendable {
        case record(JSON)
        case flush
    }

    /// A recorder writing through `client`; nothing is written until `run()` is running.
    public init(
        client: RESTClient, reportingController: String, reportingInstance: String,
        bufferSize: Int = defaultBufferSize, timeSource: any TimeSource = SystemTime(),
        logger: Logger = Logger(label: "kubeswift.events")
    ) {
        self.client = client
        self.reportingController = reportingController
        self.reportingInstance = reportingInstance
        self.timeSource = timeSource
        self.logger = logger
        self.bufferSize = bufferSize
        retries = NIOLockedValueBox(WriteRetries(limit: bufferSize))
        (events, continuation) = AsyncStream.makeStream(of: Command.self, bufferingPolicy: .bufferingOldest(bufferSize))
    }

    /// Records that `action` was taken about `regarding` (and `related`) for `reason`, with a
    /// human-readable `note`. Returns at once; the write happens on `run()`'s task.
    public func eventf(
        regarding: ObjectReference, related: ObjectReference? = nil, type: EventType, reason: String,
        action: String, note: String
    ) {
        let event = makeEvent(
            regarding: regarding, related: related, type: type, reason: reason, action: action, note: note)
        backlog.withLockedValue { $0 += 1 }
        if case .dropped = continuation.yield(.record(event)) {
            backlog.withLockedValue { $0 -= 1 }
            logger.error(
                "Unable to record event: the queue of \(bufferSize) is full, dropping event with reason \(reason) about \(regarding.kind ?? "")/\(regarding.name ?? "")"
            )
        }
    }

    /// Writes the queued events until the calling task is cancelled; call it once, for the recorder's life.
    /// Writes go out concurrently, as upstream's broadcaster sends each on a goroutine of its own: one at a
    /// time, a busy API server's latency capped the rate so far below a scheduler's bindings that the queue
    /// filled and most `Scheduled` events were dropped. Aggregation and the spam filter stay on this task.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            let continuation = self.continuation
            let timeSource = self.timeSource
            group.addTask {
                while (try? await timeSource.sleep(for: Self.tick)) != nil {
                    continuation.yield(.flush)
                }
            }
            var aggregator = EventAggregator()
            // Children added and not yet awaited (the ticker included), so finished ones are reaped.
            var children = 1
            for await command in events {
                var writes: [(write: EventAggregator.Write, tries: Int)] = []
                switch command {
                case .record(let event):
                    if let write = aggregator.record(event, now: timeSource.now, wallNow: timeSource.wallNow) {
                        writes.append((write, 0))
                    }
                case .flush:
                    writes = retries.withLockedValue { $0.takeAll() }
                    writes += aggregator.flush(now: timeSource.now).map { (write: $0, tries: 0) }
                }
                // A recorded event counts as queued until its write is done (`queued`, which tests wait on).
                var recorded = false
                if case .record = command { recorded = true }
                if recorded && writes.isEmpty { backlog.withLockedValue { $0 -= 1 } }
                for (index, write) in writes.enumerated() {
                    while children > Self.maximumWritesInFlight, await group.next() != nil { children -= 1 }
                    children += 1
                    let counted = recorded && index == 0
                    group.addTask {
                        await self.perform(write.write, tries: write.tries)
                        if counted { self.backlog.withLockedValue { $0 -= 1 } }
                    }
                }
            }
            group.cancelAll()
        }
    }

    /// Events queued and not yet written or dropped.
    var queued: Int { backlog.withLockedValue { $0 } }

    /// Writes waiting to be tried again after the server could not be reached.
    var retrying: Int { retries.withLockedValue { $0.count } }

    private func makeEvent(
        regarding: ObjectReference, related: ObjectReference?, type: EventType, reason: String, action: String,
        note: String
    ) -> JSON {
        let wallNow = timeSource.wallNow
        let nanoseconds = Int64((wallNow.timeIntervalSince1970 * 1e9).rounded(.down))
        let nameTime = lastNameTime.withLockedValue { last in
            last = max(last + 1, nanoseconds)
            return last
        }
        var namespace = regarding.namespace ?? ""
        if namespace.isEmpty { namespace = "default" }
        var event: JSON = [
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": [
                "name": .string("\(regarding.name ?? "").\(String(nameTime, radix: 16))"),
                "namespace": .string(namespace),
            ],
            "eventTime": .string(MicroTimestamp.format(wallNow)),
            "reportingController": .string(reportingController), "reportingInstance": .string(reportingInstance),
            "action": .string(action), "reason": .string(reason), "regarding": regarding.toJSON(),
            "note": .string(Self.truncated(note)), "type": .string(type.rawValue),
        ]
        if let related { event["related"] = related.toJSON() }
        return event
    }

    /// `note` cut to the API's limit at a character boundary.
    static func truncated(_ note: String) -> String {
        guard note.utf8.count > noteLimit else { return note }
        var cut = ""
        for character in note {
            guard cut.utf8.count + character.utf8.count <= noteLimit else { break }
            cut.append(character)
        }
        return cut
    }

    static func collection(_ event: JSON) -> String {
        ResourcePath.path(
            group: "events.k8s.io", version: "v1", namespace: event[path: "metadata", "namespace"]?.stringValue,
            resource: "events")
    }
}
