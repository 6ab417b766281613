import Client
import XCTest

@testable import Scheduler

final class SchedulingQueueTests: XCTestCase {
    private func makeQueue(_ time: FakeTime) throws -> SchedulingQueue {
        let profile = try Profile(
            schedulerName: "default-scheduler", plugins: PluginSet(), handle: FrameworkHandle())
        return SchedulingQueue(profile: profile, time: time)
    }

    private func pod(_ name: String, priority: Int32 = 0, gates: [String] = []) -> PodInfo {
        PodInfo(
            Fixtures.pod(name, priority: priority) { pod in
                pod.spec.schedulingGates = gates.map { PodSchedulingGate(name: $0) }
            })
    }

    func testHigherPriorityPopsFirstThenFirstCome() async throws {
        let time = FakeTime()
        let queue = try makeQueue(time)
        queue.add(pod("low-1"))
        time.advance(by: .milliseconds(1))
        queue.add(pod("high", priority: 100))
        time.advance(by: .milliseconds(1))
        queue.add(pod("low-2"))
        var order: [String] = []
        for _ in 0..<3 { order.append(await queue.pop()?.podInfo.name ?? "") }
        XCTAssertEqual(order, ["high", "low-1", "low-2"])
    }

    func testAnUnschedulablePodWaitsForAnEventItsPluginsCareAbout() async throws {
        let time = FakeTime()
        let queue = try makeQueue(time)
        queue.add(pod("p"))
        let next = await queue.pop()
        let popped = try XCTUnwrap(next)
        let cycle = queue.schedulingCycle
        queue.requeueUnschedulable(popped, cycle: cycle, rejectedBy: ["NodeResourcesFit"])
        XCTAssertEqual(queue.counts.unschedulable, 1)
        queue.move(.assignedPodAdd)
        XCTAssertEqual(queue.counts.unschedulable, 1, "a new pod elsewhere frees no resources")
        queue.move(.nodeAdd)
        XCTAssertEqual(queue.counts.unschedulable, 0)
        XCTAssertEqual(queue.counts.backoff, 1, "it failed just now, so it backs off first")
        time.advance(by: .seconds(1))
        queue.flushBackoffCompleted()
        XCTAssertEqual(queue.counts.active, 1)
    }

    func testAnEventDuringTheCycleRetriesThePodAfterBackoff() async throws {
        let time = FakeTime()
        let queue = try makeQueue(time)
        queue.add(pod("p"))
        let next = await queue.pop()
        let popped = try XCTUnwrap(next)
        let cycle = queue.schedulingCycle
        queue.move(.nodeAdd)
        queue.requeueUnschedulable(popped, cycle: cycle, rejectedBy: ["NodeResourcesFit"])
        XCTAssertEqual(queue.counts.backoff, 1, "the node that arrived meanwhile may fit it")
    }

    func testBackoffDoublesFromOneSecondToTen() {
        let settings = SchedulingQueue.Settings()
        let durations = (1...6).map { SchedulingQueue.backoffDuration(attempts: $0, settings) }
        XCTAssertEqual(durations, [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(10), .seconds(10)])
    }

    func testUnschedulablePodsAreRetriedAfterFiveMinutesRegardless() async throws {
        let time = FakeTime()
        let queue = try makeQueue(time)
        queue.add(pod("p"))
        let next = await queue.pop()
        let popped = try XCTUnwrap(next)
        queue.requeueUnschedulable(popped, cycle: queue.schedulingCycle, rejectedBy: ["NodeResourcesFit"])
        time.advance(by: .seconds(299))
        queue.flushUnschedulableLeftover()
        XCTAssertEqual(queue.counts.unschedulable, 1)
        time.advance(by: .seconds(2))
        queue.flushUnschedulableLeftover()
        XCTAssertEqual(queue.counts.active, 1)
    }

    func testGatedPodsWaitUntilTheirGatesAreRemoved() async throws {
        let time = FakeTime()
        let queue = try makeQueue(time)
        queue.add(pod("gated", gates: ["example.com/wait"]))
        XCTAssertEqual(queue.counts.unschedulable, 1)
        queue.move(.nodeAdd)
        XCTAssertEqual(queue.counts.unschedulable, 1, "no cluster event opens a scheduling gate")
        queue.update(pod("gated"))
        XCTAssertEqual(queue.counts.active, 1)
    }

    func testADeletedPodLeavesEveryQueueAndAnInFlightOneIsNotPutBack() async throws {
        let time = FakeTime()
        let queue = try makeQueue(time)
        queue.add(pod("a"))
        queue.add(pod("b"))
        queue.delete(uid: pod("a").uid)
        let next = await queue.pop()
        let popped = try XCTUnwrap(next)
        XCTAssertEqual(popped.podInfo.name, "b")
        queue.delete(uid: popped.podInfo.uid)
        queue.requeueAfterError(popped)
        XCTAssertEqual(queue.counts.active + queue.counts.backoff + queue.counts.unschedulable, 0)
    }

    func testPopWaitsForAPodAndCloseEndsIt() async throws {
        let queue = try makeQueue(FakeTime())
        let waiter = Task { await queue.pop()?.podInfo.name }
        try await Task.sleep(for: .milliseconds(20))
        queue.add(pod("late"))
        let name = await waiter.value
        XCTAssertEqual(name, "late")
        let closed = Task { await queue.pop() }
        try await Task.sleep(for: .milliseconds(20))
        queue.close()
        let afterClose = await closed.value
        XCTAssertNil(afterClose)
    }
}
