import Client
import XCTest

@testable import ControllerManager

final class ZoneDisruptionTests: XCTestCase {
    private let ready = NodeCondition(type: "Ready", status: "True")
    private let notReady = NodeCondition(type: "Ready", status: "False")
    private let unknown = NodeCondition(type: "Ready", status: "Unknown")

    func testZoneStateFollowsUpstreamsThresholds() {
        let policy = EvictionPolicy()
        let cases: [([NodeCondition?], Int, ZoneState)] = [
            ([ready, ready], 0, .normal),
            ([notReady], 1, .fullDisruption),
            ([nil, unknown], 2, .fullDisruption),
            ([notReady, notReady, ready], 2, .normal),  // fewer than three not ready is never a disruption
            ([notReady, notReady, unknown, ready], 3, .partialDisruption),  // 3/4 >= 0.55
            ([notReady, notReady, notReady, ready, ready, ready], 3, .normal),  // 3/6 < 0.55
            ([], 0, .normal),
        ]
        for (conditions, expectedNotReady, expectedState) in cases {
            let (notReadyCount, state) = policy.zoneState(conditions)
            XCTAssertEqual(notReadyCount, expectedNotReady, "\(conditions.map { $0?.status ?? "nil" })")
            XCTAssertEqual(state, expectedState, "\(conditions.map { $0?.status ?? "nil" })")
        }
    }

    func testRatesPerStateAndZoneSize() {
        let policy = EvictionPolicy()
        XCTAssertEqual(policy.qps(for: .normal, zoneSize: 10), 0.1)
        XCTAssertEqual(policy.qps(for: .fullDisruption, zoneSize: 10), 0.1)
        XCTAssertEqual(policy.qps(for: .partialDisruption, zoneSize: 50), 0, "small zones stop evicting")
        XCTAssertEqual(policy.qps(for: .partialDisruption, zoneSize: 51), 0.01)
    }

    func testOneZoneDownIsEvictedNormallyButEveryZoneDownStopsEvictions() {
        var zones = ZoneDisruption(policy: EvictionPolicy())
        var outcome = zones.observe(["a": [ready, ready], "b": [ready]])
        XCTAssertEqual(outcome.limiters, ["a": 0.1, "b": 0.1], "zones leave their initial state")
        XCTAssertEqual(zones.states, ["a": .normal, "b": .normal])

        outcome = zones.observe(["a": [ready, ready], "b": [unknown]])
        XCTAssertEqual(outcome, ZoneDisruption.Outcome(limiters: ["b": 0.1]))
        XCTAssertEqual(zones.states["b"], .fullDisruption)

        outcome = zones.observe(["a": [notReady, unknown], "b": [unknown]])
        XCTAssertTrue(outcome.enteredFullDisruption)
        XCTAssertEqual(outcome.limiters, ["a": 0, "b": 0])

        outcome = zones.observe(["a": [notReady, unknown], "b": [unknown]])
        XCTAssertEqual(outcome, ZoneDisruption.Outcome(), "nothing changes while everything stays down")

        outcome = zones.observe(["a": [ready, unknown], "b": [unknown]])
        XCTAssertTrue(outcome.exitedFullDisruption)
        XCTAssertEqual(outcome.limiters, ["a": 0.1, "b": 0.1])
        XCTAssertEqual(zones.states, ["a": .normal, "b": .fullDisruption])
    }

    func testAPartiallyDisruptedZoneSlowsDownAndAVanishedZoneIsForgotten() {
        var zones = ZoneDisruption(policy: EvictionPolicy(largeClusterThreshold: 3))
        _ = zones.observe(["a": [ready, ready, ready, ready], "b": [ready]])
        let outcome = zones.observe(["a": [notReady, notReady, notReady, ready], "b": [ready]])
        XCTAssertEqual(outcome.limiters, ["a": 0.01], "a zone over the large-cluster threshold keeps a slow rate")
        _ = zones.observe(["b": [ready]])
        XCTAssertEqual(zones.states, ["b": .normal])
    }

    func testZoneKeyFromTopologyLabels() {
        var node = Node()
        XCTAssertEqual(zoneKey(of: node), "")
        node.metadata.labels = ["topology.kubernetes.io/region": "r", "topology.kubernetes.io/zone": "z"]
        XCTAssertEqual(zoneKey(of: node), "r:\u{0}:z")
        node.metadata.labels = ["failure-domain.beta.kubernetes.io/zone": "old"]
        XCTAssertEqual(zoneKey(of: node), ":\u{0}:old")
    }
}

final class RateLimitedTimedQueueTests: XCTestCase {
    func testTheTokenBucketStartsFullAndRefillsAtItsRate() {
        let start = ContinuousClock.now
        var bucket = TokenBucket(qps: 0.1, burst: 1, now: start)
        XCTAssertTrue(bucket.tryAccept(now: start))
        XCTAssertFalse(bucket.tryAccept(now: start.advanced(by: .seconds(9))))
        XCTAssertTrue(bucket.tryAccept(now: start.advanced(by: .seconds(10))))
        var never = TokenBucket(qps: 0, burst: 1, now: start)
        XCTAssertFalse(never.tryAccept(now: start.advanced(by: .seconds(1000))))
    }

    func testNodesAreProcessedOncePerTokenInOrderAndFailuresWait() async {
        let time = FakeTime()
        let queue = RateLimitedTimedQueue(qps: 0.1, time: time)
        XCTAssertTrue(queue.add("n1", uid: "1"))
        XCTAssertFalse(queue.add("n1", uid: "1"), "a node is queued once")
        time.advance(by: .milliseconds(1))
        queue.add("n2", uid: "2")
        var seen: [String] = []
        await queue.process { entry in
            seen.append(entry.value)
            return (true, .zero)
        }
        XCTAssertEqual(seen, ["n1"], "burst 1: one node per token")
        time.advance(by: .seconds(10))
        await queue.process { entry in
            seen.append(entry.value)
            return (false, .seconds(30))
        }
        XCTAssertEqual(seen, ["n1", "n2"])
        XCTAssertEqual(queue.values, ["n2"], "a failed node stays queued")
        time.advance(by: .seconds(10))
        await queue.process { _ in
            XCTFail("a failed node waits for its retry delay")
            return (true, .zero)
        }
        XCTAssertTrue(queue.remove("n2"))
        XCTAssertEqual(queue.values, [])
    }

    func testSwappingToZeroStopsAndAnExhaustedBucketStaysExhausted() async {
        let time = FakeTime()
        let queue = RateLimitedTimedQueue(qps: 0.1, time: time)
        queue.swapLimiter(qps: 0)
        queue.add("n1", uid: "1")
        var count = 0
        await queue.process { _ in
            count += 1
            return (true, .zero)
        }
        XCTAssertEqual(count, 0)
        queue.swapLimiter(qps: 1)
        XCTAssertEqual(queue.qps, 1)
        await queue.process { _ in
            count += 1
            return (true, .zero)
        }
        XCTAssertEqual(count, 0, "the stopped limiter had no token, so the new one starts drained")
        time.advance(by: .seconds(1))
        await queue.process { _ in
            count += 1
            return (true, .zero)
        }
        XCTAssertEqual(count, 1)
    }
}
