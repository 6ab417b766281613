import NIOConcurrencyHelpers
import XCTest

@testable import Component

/// The returner trims only after intervals in which the process was quiet, and stops when cancelled.
final class MemoryReturnerTests: XCTestCase {
    /// Scripted CPU readings, one per look, and a sleep that records its durations and ends the run when the
    /// script is used up.
    private final class Script: Sendable {
        private struct State {
            var readings: [Duration]
            var sleeps: [Duration] = []
            var trims: [Int] = []
        }
        private let state: NIOLockedValueBox<State>

        init(readings: [Duration]) { state = NIOLockedValueBox(State(readings: readings)) }

        var sleeps: [Duration] { state.withLockedValue { $0.sleeps } }
        /// The looks (counted from 1) after which a trim happened.
        var trims: [Int] { state.withLockedValue { $0.trims } }

        func cpuTime() -> Duration {
            state.withLockedValue { $0.readings.isEmpty ? .zero : $0.readings.removeFirst() }
        }

        func trim() { state.withLockedValue { $0.trims.append($0.sleeps.count) } }

        func sleep(_ duration: Duration) throws {
            try state.withLockedValue { state in
                // The reading taken after this sleep must exist, else the run is over.
                guard !state.readings.isEmpty else { throw CancellationError() }
                state.sleeps.append(duration)
            }
        }
    }

    private func returner(_ script: Script) -> MemoryReturner {
        MemoryReturner(
            interval: .seconds(30), busyShare: 0.2, cpuTime: { script.cpuTime() }, trim: { script.trim() },
            sleep: { try script.sleep($0) })
    }

    func testTrimsAfterQuietIntervalsOnly() async {
        // Start-up reading, then CPU used per 30 s look: 1 s (quiet), 20 s (busy), 5.9 s (quiet), 6 s (busy).
        let script = Script(readings: [
            .seconds(2), .seconds(3), .seconds(23), .milliseconds(28_900), .milliseconds(34_900),
        ])
        let trims = await returner(script).run()
        XCTAssertEqual(script.sleeps, Array(repeating: .seconds(30), count: 4))
        XCTAssertEqual(script.trims, [1, 3])
        XCTAssertEqual(trims, 2)
    }

    func testCancelledTaskStopsWithoutTrimming() async {
        let script = Script(readings: Array(repeating: .zero, count: 100))
        let returner = returner(script)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await returner.run()
        }
        let trims = await task.value
        XCTAssertEqual(trims, 0)
        XCTAssertEqual(script.trims, [])
    }

    func testRealTrimAndCPUTimeWork() {
        let before = MemoryReturner.processCPUTime()
        XCTAssertGreaterThan(before, .zero)
        var sum = 0
        for value in 0..<2_000_000 { sum &+= value &* value }
        XCTAssertNotEqual(sum, 1)
        XCTAssertGreaterThanOrEqual(MemoryReturner.processCPUTime(), before)
        #if canImport(Glibc)
            XCTAssertTrue(MemoryReturner.canTrim)
        #endif
        MemoryReturner.trimHeap()
    }

    func testGlibcTakesTheAllocatorSettings() {
        #if canImport(Glibc)
            XCTAssertTrue(MemoryReturner.tuneAllocator())
        #else
            XCTAssertFalse(MemoryReturner.tuneAllocator())
        #endif
    }
}
