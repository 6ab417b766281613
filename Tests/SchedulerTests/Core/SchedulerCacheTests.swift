import Client
import XCTest

@testable import Scheduler

final class SchedulerCacheTests: XCTestCase {
    func testAnAssumedPodCountsUntilItsBindingIsForgotten() {
        let cache = SchedulerCache(time: FakeTime())
        cache.addOrUpdate(node: Fixtures.node("n1", cpu: "2"))
        let pod = PodInfo(Fixtures.pod("p", cpu: "1500m"))
        cache.assume(pod, on: "n1")
        XCTAssertEqual(cache.snapshot().node(named: "n1")?.requested.milliCPU, 1500)
        cache.forget(uid: pod.uid)
        XCTAssertEqual(cache.snapshot().node(named: "n1")?.requested.milliCPU, 0)
    }

    func testTheInformerConfirmsAnAssumedPodOnce() {
        let cache = SchedulerCache(time: FakeTime())
        cache.addOrUpdate(node: Fixtures.node("n1"))
        cache.assume(PodInfo(Fixtures.pod("p", cpu: "1")), on: "n1")
        cache.finishBinding(uid: "uid-default-p")
        cache.addOrUpdate(boundPod: PodInfo(Fixtures.pod("p", cpu: "1", nodeName: "n1")))
        XCTAssertFalse(cache.isAssumed(uid: "uid-default-p"))
        XCTAssertEqual(cache.snapshot().node(named: "n1")?.pods.count, 1)
        XCTAssertEqual(cache.snapshot().node(named: "n1")?.requested.milliCPU, 1000)
    }

    func testAnUnconfirmedBindingExpires() {
        let time = FakeTime()
        let cache = SchedulerCache(time: time, assumedTTL: .seconds(30))
        cache.addOrUpdate(node: Fixtures.node("n1"))
        cache.assume(PodInfo(Fixtures.pod("p", cpu: "1")), on: "n1")
        time.advance(by: .seconds(60))
        XCTAssertEqual(cache.expireAssumedPods(), [], "a binding still in flight never expires")
        cache.finishBinding(uid: "uid-default-p")
        time.advance(by: .seconds(29))
        XCTAssertEqual(cache.expireAssumedPods(), [])
        time.advance(by: .seconds(2))
        XCTAssertEqual(cache.expireAssumedPods(), ["uid-default-p"])
        XCTAssertEqual(cache.snapshot().node(named: "n1")?.pods.count, 0)
    }

    func testPodsSeenBeforeTheirNodeAreCountedWhenItArrives() {
        let cache = SchedulerCache(time: FakeTime())
        cache.addOrUpdate(boundPod: PodInfo(Fixtures.pod("early", cpu: "1", nodeName: "late-node")))
        XCTAssertEqual(cache.nodeCount, 0)
        cache.addOrUpdate(node: Fixtures.node("late-node"))
        XCTAssertEqual(cache.snapshot().node(named: "late-node")?.requested.milliCPU, 1000)
    }

    func testRemovingANodeKeepsTheOthersIndexed() {
        let cache = SchedulerCache(time: FakeTime())
        for name in ["a", "b", "c"] { cache.addOrUpdate(node: Fixtures.node(name)) }
        cache.remove(nodeNamed: "a")
        let snapshot = cache.snapshot()
        XCTAssertEqual(snapshot.nodes.map(\.name).sorted(), ["b", "c"])
        XCTAssertEqual(snapshot.node(named: "c")?.name, "c")
        XCTAssertNil(snapshot.node(named: "a"))
    }

    func testAnUpdatedSnapshotSeesEveryChangeSinceItsLastUpdate() {
        let cache = SchedulerCache(time: FakeTime())
        for name in ["a", "b"] { cache.addOrUpdate(node: Fixtures.node(name)) }
        var snapshot = Snapshot(nodes: [])
        cache.updateSnapshot(&snapshot)
        XCTAssertEqual(snapshot.nodes.count, 2)
        cache.assume(PodInfo(Fixtures.pod("p", cpu: "1")), on: "b")
        XCTAssertEqual(snapshot.node(named: "b")?.pods.count, 0, "a snapshot does not change by itself")
        cache.updateSnapshot(&snapshot)
        XCTAssertEqual(snapshot.node(named: "b")?.requested.milliCPU, 1000)
        cache.addOrUpdate(node: Fixtures.node("c"))
        cache.remove(nodeNamed: "a")
        cache.updateSnapshot(&snapshot)
        XCTAssertEqual(snapshot.nodes.map(\.name).sorted(), ["b", "c"])
        XCTAssertEqual(snapshot.node(named: "b")?.pods.count, 1)
    }
}
