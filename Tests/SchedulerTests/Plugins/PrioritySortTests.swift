import XCTest

@testable import Scheduler

final class PrioritySortTests: XCTestCase {
    func testHigherPriorityFirstThenEarlierTimestamp() {
        let now = ContinuousClock.now
        func queued(_ priority: Int32?, after seconds: Int) -> QueuedPodInfo {
            QueuedPodInfo(
                podInfo: PodInfo(Fixtures.pod("p\(priority ?? 0)-\(seconds)", priority: priority)),
                timestamp: now.advanced(by: .seconds(seconds)))
        }
        let cases: [(a: QueuedPodInfo, b: QueuedPodInfo, less: Bool, why: String)] = [
            (queued(10, after: 5), queued(1, after: 0), true, "higher priority wins despite waiting less"),
            (queued(1, after: 0), queued(10, after: 5), false, "lower priority loses"),
            (queued(5, after: 0), queued(5, after: 1), true, "equal priority: earlier first"),
            (queued(5, after: 1), queued(5, after: 0), false, "equal priority: later second"),
            (queued(nil, after: 0), queued(-1, after: 0), true, "absent priority counts as 0"),
        ]
        for test in cases {
            XCTAssertEqual(PrioritySort().less(test.a, test.b), test.less, test.why)
        }
    }
}
