public import Foundation

/// When a simulated node renews its Lease and posts its status: every `leaseInterval` and every
/// `statusInterval` (or on a change), as a kubelet does, with each node's first renewal and report offset by
/// its index so that N nodes spread their writes evenly over the period instead of writing all at once.
public struct HeartbeatSchedule: Sendable, Hashable {
    /// upstream's `nodeLeaseRenewInterval`: a quarter of the 40 s lease duration.
    public var leaseInterval: Duration
    /// upstream's `nodeStatusReportFrequency`.
    public var statusInterval: Duration

    public init(leaseInterval: Duration = .seconds(10), statusInterval: Duration = .seconds(300)) {
        self.leaseInterval = leaseInterval
        self.statusInterval = statusInterval
    }

    /// Node `index` of `count`'s place in a period: a share in (0, 1], so the last node waits a full period.
    static func share(index: Int, count: Int) -> Double {
        Double(index + 1) / Double(max(count, 1))
    }

    /// The first lease renewal of node `index` of `count` registered at `start`.
    public func firstLeaseRenewal(index: Int, count: Int, start: Date) -> Date {
        start.addingTimeInterval(leaseInterval.seconds * Self.share(index: index, count: count))
    }

    /// The first periodic status report of node `index` of `count` that posted its status at `start`.
    public func firstStatusReport(index: Int, count: Int, start: Date) -> Date {
        start.addingTimeInterval(statusInterval.seconds * Self.share(index: index, count: count))
    }

    /// The renewal after one made at `last`; a renewal that ran late keeps the period from when it ran, as the
    /// kubelet's ticker does not catch up.
    public func leaseRenewal(after last: Date) -> Date {
        last.addingTimeInterval(leaseInterval.seconds)
    }

    /// The periodic status report after one posted at `last`.
    public func statusReport(after last: Date) -> Date {
        last.addingTimeInterval(statusInterval.seconds)
    }

    /// What is due at `now` for a node whose next renewal and report are at `lease` and `status`.
    public func due(now: Date, lease: Date, status: Date) -> (renewLease: Bool, postStatus: Bool) {
        (lease <= now, status <= now)
    }
}
