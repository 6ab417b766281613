/// A point-in-time reading of one work queue's metrics, named as upstream's `workqueue_*` Prometheus series
/// (label `name`), so a component can publish them on /metrics as kube-controller-manager does.
public struct WorkQueueMetrics: Sendable, Hashable {
    /// The queue's name (`name` label); empty for unnamed queues.
    public var name: String
    /// `workqueue_depth`: keys waiting to be taken.
    public var depth: Int
    /// `workqueue_adds_total`: adds that queued a key (a duplicate add of a waiting key is not counted).
    public var adds: UInt64
    /// `workqueue_retries_total`: rate-limited re-adds.
    public var retries: UInt64
    /// `workqueue_queue_duration_seconds`: how long keys waited between add and get.
    public var queueDuration: DurationHistogram
    /// `workqueue_work_duration_seconds`: how long keys were processed between get and done.
    public var workDuration: DurationHistogram
    /// `workqueue_unfinished_work_seconds`: summed age of the work in progress; a large value with a small
    /// `workDuration` count points at stuck workers.
    public var unfinishedWorkSeconds: Double
    /// `workqueue_longest_running_processor_seconds`: age of the oldest work in progress.
    public var longestRunningProcessorSeconds: Double
}

/// A Prometheus-style histogram of durations in seconds: cumulative counts per upper bound, total count and sum.
public struct DurationHistogram: Sendable, Hashable {
    /// Upstream's work queue buckets: 10 ns to 10 s, a factor of 10 apart.
    public static let workQueueBuckets: [Double] = (0..<10).map { 1e-8 * pow10($0) }

    /// Upper bounds in seconds, ascending; `+Inf` is implied by `count`.
    public private(set) var upperBounds: [Double]
    /// Observations at or below each upper bound (cumulative, as Prometheus exposes them).
    public private(set) var cumulativeCounts: [UInt64]
    public private(set) var count: UInt64 = 0
    /// Sum of all observations in seconds.
    public private(set) var sum: Double = 0

    public init(upperBounds: [Double] = Self.workQueueBuckets) {
        self.upperBounds = upperBounds
        cumulativeCounts = Array(repeating: 0, count: upperBounds.count)
    }

    /// Records one observation.
    public mutating func observe(_ duration: Duration) {
        let seconds = duration.seconds
        count += 1
        sum += seconds
        for index in upperBounds.indices where seconds <= upperBounds[index] {
            cumulativeCounts[index] += 1
        }
    }

    private static func pow10(_ exponent: Int) -> Double {
        (0..<exponent).reduce(1.0) { value, _ in value * 10 }
    }
}

extension Duration {
    /// The duration in (fractional) seconds.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// The duration in (fractional) nanoseconds; exact for whole nanoseconds below 2^53.
    var nanoseconds: Double {
        Double(components.seconds) * 1e9 + Double(components.attoseconds) / 1e9
    }
}
