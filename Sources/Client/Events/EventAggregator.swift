import APIMachinery
import Foundation

/// What the event recorder decides before writing, free of I/O: the spam filter, and the folding of
/// repeats into an `EventSeries`, as upstream's `tools/events` broadcaster and `EventSourceObjectSpamFilter`.
struct EventAggregator: Sendable {
    /// A series ends when its event has not recurred for this long (upstream's `finishTime`).
    static let seriesWindow: Duration = .seconds(6 * 60)
    /// The most often one series' count is written.
    static let seriesHeartbeat: Duration = .seconds(30)
    /// Events one source may record about one object at once (upstream's `defaultSpamBurst`).
    static let spamBurst = 25
    /// Then one more every five minutes (upstream's `defaultSpamQPS`).
    static let spamQPS = 1.0 / 300

    /// A write for the recorder to send.
    enum Write: Equatable, Sendable {
        /// Create this event.
        case create(JSON)
        /// Bring this event's `series` up to date on the server; the whole event, so that it can be
        /// created again if it is gone.
        case updateSeries(JSON)
    }

    /// Identifies "the same event": upstream's isomorphic-event key plus the type.
    private struct Key: Hashable {
        var regarding: JSON?
        var related: JSON?
        var reason: String?
        var action: String?
        var type: String?
        var note: String?
        var reportingController: String?

        init(_ event: JSON) {
            regarding = event["regarding"]
            related = event["related"]
            reason = event["reason"]?.stringValue
            action = event["action"]?.stringValue
            type = event["type"]?.stringValue
            note = event["note"]?.stringValue
            reportingController = event["reportingController"]?.stringValue
        }
    }

    /// An event written, and how far its series has got.
    private struct Entry {
        var event: JSON
        var count = 1
        var sentCount = 1
        var lastObserved: ContinuousClock.Instant
        var lastSent: ContinuousClock.Instant
    }

    private var events: [Key: Entry] = [:]
    /// One bucket per source and object; the source is the recorder's, so the object identifies it.
    private var spamBuckets: [JSON: TokenBucket] = [:]

    /// Events being aggregated; for tests and metrics.
    var cachedEvents: Int { events.count }

    /// Takes a new occurrence of `event`: nil when the spam filter drops it or it joins a series whose
    /// count goes out later; otherwise the write to send now.
    mutating func record(_ event: JSON, now: ContinuousClock.Instant, wallNow: Date) -> Write? {
        guard admit(event, now: now) else { return nil }
        let key = Key(event)
        guard var entry = events[key], now - entry.lastObserved < Self.seriesWindow else {
            events[key] = Entry(event: event, lastObserved: now, lastSent: now)
            return .create(event)
        }
        entry.count += 1
        entry.lastObserved = now
        entry.event["series"] = [
            "count": .int(Int64(entry.count)), "lastObservedTime": .string(MicroTimestamp.format(wallNow)),
        ]
        let write = now - entry.lastSent >= Self.seriesHeartbeat ? send(&entry, now: now) : nil
        events[key] = entry
        return write
    }

    /// The series counts due now (at most one write per series per heartbeat, and a final one when a
    /// series ends); forgets events that have not recurred within the series window, and spam buckets
    /// that have filled up again.
    mutating func flush(now: ContinuousClock.Instant) -> [Write] {
        var writes: [Write] = []
        for (key, var entry) in events {
            let ended = now - entry.lastObserved >= Self.seriesWindow
            if entry.count > entry.sentCount, ended || now - entry.lastSent >= Self.seriesHeartbeat {
                writes.append(send(&entry, now: now))
            }
            events[key] = ended ? nil : entry
        }
        spamBuckets = spamBuckets.filter { !$0.value.isFull(now: now) }
        return writes
    }

    private func send(_ entry: inout Entry, now: ContinuousClock.Instant) -> Write {
        entry.sentCount = entry.count
        entry.lastSent = now
        return .updateSeries(entry.event)
    }

    /// upstream's spam filter: a token per event from the (source, object) bucket.
    private mutating func admit(_ event: JSON, now: ContinuousClock.Instant) -> Bool {
        // The object, not its version: an object that changes on every event is still one object.
        var object = event["regarding"] ?? .null
        object["resourceVersion"] = nil
        object["fieldPath"] = nil
        var bucket =
            spamBuckets[object] ?? TokenBucket(qps: Self.spamQPS, burst: Self.spamBurst, now: now)
        defer { spamBuckets[object] = bucket }
        return bucket.tryTake(now: now)
    }
}
