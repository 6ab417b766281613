import APIMachinery
import Foundation

/// `metav1.MicroTime` as the client writes it (lease renewals, event times): RFC 3339 in UTC with
/// microseconds, from the injected clock's wall time.
enum MicroTimestamp {
    static func format(_ date: Date) -> String {
        Timestamp.format(epochMicroseconds: Int64((date.timeIntervalSince1970 * 1_000_000).rounded(.down)))
    }
}
