import Dispatch
import Synchronization
import XCTest

@testable import Scheduler

final class CycleStateTests: XCTestCase {
    private struct Counts: Sendable, Equatable {
        var byZone: [String: Int64]
    }

    private struct Other: Sendable {
        var value: Int
    }

    func testAValueIsReadBackByItsTypeAndAnotherTypeFindsNothing() {
        let state = CycleState()
        state.write(Counts(byZone: ["z1": 2]))
        XCTAssertEqual(state.read(Counts.self), Counts(byZone: ["z1": 2]))
        XCTAssertEqual(state.read(Counts.self) { $0.byZone["z1"] }, 2)
        XCTAssertNil(state.read(Other.self))
        XCTAssertNil(state.read(Other.self) { $0.value })
        state.remove(Counts.self)
        XCTAssertNil(state.read(Counts.self))
    }

    func testWorkersReadTheValuesWhileTheStateIsReadOnlyAndWritesWorkAgainAfterwards() {
        let state = CycleState()
        state.write(Counts(byZone: ["z1": 2, "z2": 3]))
        let sums = Mutex<[Int64]>([])
        state.readingOnly {
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                var sum: Int64 = 0
                for _ in 0..<1000 {
                    sum += state.read(Counts.self) { ($0.byZone["z1"] ?? 0) + ($0.byZone["z2"] ?? 0) } ?? 0
                    XCTAssertNil(state.read(Other.self) { $0.value })
                }
                sums.withLock { $0.append(sum) }
            }
        }
        XCTAssertEqual(sums.withLock { $0 }, Array(repeating: 5000, count: 4))
        state.write(Other(value: 7))
        XCTAssertEqual(state.read(Other.self)?.value, 7)
        XCTAssertEqual(state.read(Counts.self)?.byZone, ["z1": 2, "z2": 3])
    }

    func testAWriteToACloneLeavesTheOriginalAlone() {
        let state = CycleState()
        state.write(Counts(byZone: ["z1": 1]))
        let clone = state.clone()
        clone.write(Counts(byZone: ["z1": 0]))
        clone.write(Other(value: 1))
        XCTAssertEqual(state.read(Counts.self), Counts(byZone: ["z1": 1]))
        XCTAssertNil(state.read(Other.self))
        XCTAssertEqual(clone.read(Counts.self), Counts(byZone: ["z1": 0]))
    }
}
