import Client
import NodeSimulator
import XCTest

final class HeartbeatScheduleTests: XCTestCase {
    func testNodesSpreadTheirFirstRenewalsAndReportsOverOnePeriod() {
        let schedule = HeartbeatSchedule()
        let start = FakeTime().wallNow
        let renewals = (0..<4).map {
            schedule.firstLeaseRenewal(index: $0, count: 4, start: start).timeIntervalSince(start)
        }
        XCTAssertEqual(renewals, [2.5, 5, 7.5, 10])
        let reports = (0..<4).map {
            schedule.firstStatusReport(index: $0, count: 4, start: start).timeIntervalSince(start)
        }
        XCTAssertEqual(reports, [75, 150, 225, 300])
        XCTAssertEqual(schedule.firstLeaseRenewal(index: 0, count: 0, start: start).timeIntervalSince(start), 10)
    }

    func testRenewalsFollowEveryTenSecondsAndReportsEveryFiveMinutes() {
        let schedule = HeartbeatSchedule()
        let time = FakeTime()
        let last = time.wallNow
        XCTAssertEqual(schedule.leaseRenewal(after: last).timeIntervalSince(last), 10)
        XCTAssertEqual(schedule.statusReport(after: last).timeIntervalSince(last), 300)
        let lease = schedule.leaseRenewal(after: last)
        let status = schedule.statusReport(after: last)
        time.advance(by: .seconds(9))
        XCTAssertTrue(schedule.due(now: time.wallNow, lease: lease, status: status) == (false, false))
        time.advance(by: .seconds(1))
        XCTAssertTrue(schedule.due(now: time.wallNow, lease: lease, status: status) == (true, false))
        time.advance(by: .seconds(290))
        XCTAssertTrue(schedule.due(now: time.wallNow, lease: lease, status: status) == (true, true))
    }
}

final class PodAddressPoolTests: XCTestCase {
    func testAddressesSkipTheNetworkGatewayAndBroadcastAndAreReused() throws {
        var pool = try XCTUnwrap(PodAddressPool(cidr: "10.64.3.0/29"))
        XCTAssertEqual(pool.capacity, 5)
        XCTAssertEqual(pool.allocate(), "10.64.3.2")
        XCTAssertTrue(pool.reserve("10.64.3.3"))
        XCTAssertFalse(pool.reserve("10.64.4.3"))
        XCTAssertEqual(pool.allocate(), "10.64.3.4")
        XCTAssertEqual(pool.allocate(), "10.64.3.5")
        XCTAssertEqual(pool.allocate(), "10.64.3.6")
        XCTAssertNil(pool.allocate())
        pool.release("10.64.3.3")
        XCTAssertEqual(pool.allocate(), "10.64.3.3")
        XCTAssertNil(PodAddressPool(cidr: "10.64.3.0"))
        XCTAssertNil(PodAddressPool(cidr: "fd00::/64"))
    }

    func testEachNodeHasItsOwnAddresses() {
        XCTAssertEqual(SimulatedNetwork.internalIP(index: 0), "10.32.0.1")
        XCTAssertEqual(SimulatedNetwork.internalIP(index: 300), "10.32.1.45")
        XCTAssertEqual(SimulatedNetwork.podCIDR(index: 0), "10.64.0.0/24")
        XCTAssertEqual(SimulatedNetwork.podCIDR(index: 16_383), "10.127.255.0/24")
    }

    func testTaintsAndLabelsReadAsTheKubeletsFlags() throws {
        let taints = try NodeSimulatorConfiguration.parseTaints("dedicated=infra:NoSchedule,gpu:NoExecute")
        XCTAssertEqual(
            taints,
            [
                Taint(key: "dedicated", effect: "NoSchedule", value: "infra"), Taint(key: "gpu", effect: "NoExecute"),
            ])
        XCTAssertThrowsError(try NodeSimulatorConfiguration.parseTaints("a=b:Sometimes"))
        XCTAssertEqual(try NodeSimulatorConfiguration.parseLabels("zone=a,tier=web"), ["zone": "a", "tier": "web"])
        XCTAssertThrowsError(try NodeSimulatorConfiguration.parseLabels("zone"))
    }
}

final class SimulatorAnnotationsTests: XCTestCase {
    func testAKillRequestNamesItsContainerOrNone() {
        XCTAssertNil(SimulatorAnnotations.container(ofKill: "@1733480000"))
        XCTAssertNil(SimulatorAnnotations.container(ofKill: ""))
        XCTAssertEqual(SimulatorAnnotations.container(ofKill: "web@1733480000"), "web")
        XCTAssertEqual(SimulatorAnnotations.container(ofKill: "web"), "web")
    }
}
