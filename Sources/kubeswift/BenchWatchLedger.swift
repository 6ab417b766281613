/// The watch bench's bookkeeping, a pure value: when each create was sent and acknowledged, which watcher has
/// seen which object, and one latency sample per delivery, measured from the create's acknowledgement (the
/// moment a client may expect its watchers to hear of it) to the event's arrival. An event can arrive before
/// its create's response does; it is held until the acknowledgement comes and then counts as zero latency
/// (the watcher already had it) and as `beforeAcknowledgement`.
struct BenchWatchLedger: Sendable {
    typealias Instant = ContinuousClock.Instant

    let creates: Int
    let watchers: Int
    private var sentAt: [Instant?]
    private var acknowledgedAt: [Instant?]
    private var failedCreates: [Bool]
    /// `seen[watcher * creates + create]`.
    private var seen: [Bool]
    /// Arrivals of events whose create was not acknowledged yet, by create.
    private var waiting: [Int: [Instant]] = [:]
    private var stopping = false

    /// Milliseconds from acknowledgement to arrival, one per delivery of an acknowledged create.
    private(set) var samples: [Double] = []
    /// Milliseconds from sending the create to arrival, one per delivery of an acknowledged create.
    private(set) var sentSamples: [Double] = []
    private(set) var beforeAcknowledgement = 0
    /// The same object delivered to the same watcher again.
    private(set) var duplicates = 0
    /// Events naming a create that was never sent, or whose create failed.
    private(set) var unexpected = 0
    /// Events that were not ADDED events of bench objects (bookmarks, errors).
    private(set) var otherEvents = 0
    /// Watches that ended before the bench stopped them, and the first one's reason.
    private(set) var endedWatches = 0
    private(set) var firstWatchEnd: String?
    /// When the latest delivery arrived.
    private(set) var lastArrival: Instant?

    init(creates: Int, watchers: Int) {
        self.creates = creates
        self.watchers = watchers
        sentAt = Array(repeating: nil, count: creates)
        acknowledgedAt = Array(repeating: nil, count: creates)
        failedCreates = Array(repeating: false, count: creates)
        seen = Array(repeating: false, count: creates * watchers)
        samples.reserveCapacity(creates * watchers)
        sentSamples.reserveCapacity(creates * watchers)
    }

    mutating func sent(_ create: Int, at instant: Instant) {
        guard sentAt.indices.contains(create) else { return }
        sentAt[create] = instant
    }

    /// The create's response arrived: its deliveries that were waiting are counted now.
    mutating func acknowledged(_ create: Int, at instant: Instant) {
        guard acknowledgedAt.indices.contains(create), acknowledgedAt[create] == nil else { return }
        acknowledgedAt[create] = instant
        for arrival in waiting.removeValue(forKey: create) ?? [] {
            record(create, arrival: arrival, acknowledged: instant)
        }
    }

    /// The create failed; an event already seen for it was not expected.
    mutating func failed(_ create: Int) {
        guard failedCreates.indices.contains(create) else { return }
        failedCreates[create] = true
        unexpected += waiting.removeValue(forKey: create)?.count ?? 0
    }

    /// `watcher` received the ADDED event of `create` at `instant`.
    mutating func received(_ create: Int, watcher: Int, at instant: Instant) {
        guard sentAt.indices.contains(create), (0..<watchers).contains(watcher), sentAt[create] != nil,
            !failedCreates[create]
        else {
            unexpected += 1
            return
        }
        let slot = watcher * creates + create
        guard !seen[slot] else {
            duplicates += 1
            return
        }
        seen[slot] = true
        if let acknowledged = acknowledgedAt[create] {
            record(create, arrival: instant, acknowledged: acknowledged)
        } else {
            waiting[create, default: []].append(instant)
        }
    }

    /// Events of a watch that the bench does not time.
    mutating func receivedOther(_ count: Int) { otherEvents += count }

    /// The bench is about to cancel its watches: endings from now on are its own doing.
    mutating func stopWatching() { stopping = true }

    /// A watch ended; counted unless the bench was stopping them.
    mutating func watchEnded(reason: String) {
        guard !stopping else { return }
        endedWatches += 1
        if firstWatchEnd == nil { firstWatchEnd = reason }
    }

    private mutating func record(_ create: Int, arrival: Instant, acknowledged: Instant) {
        if arrival < acknowledged { beforeAcknowledgement += 1 }
        if lastArrival.map({ $0 < arrival }) ?? true { lastArrival = arrival }
        samples.append(max(0, milliseconds(arrival - acknowledged)))
        if let sent = sentAt[create] { sentSamples.append(max(0, milliseconds(arrival - sent))) }
    }

    /// Creates whose response said they succeeded.
    var acknowledgedCreates: Int { acknowledgedAt.lazy.filter { $0 != nil }.count }
    /// Deliveries counted so far (acknowledged creates only).
    var delivered: Int { samples.count }
    /// Deliveries every watcher owes: one per acknowledged create.
    var expected: Int { acknowledgedCreates * watchers }
    /// Deliveries of acknowledged creates that have not arrived.
    var missed: Int { expected - delivered }
}
