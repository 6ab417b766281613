import APIMachinery
import Foundation
import NIOHTTP1
import Storage
import XCTest

@testable import APIServer

/// `--event-ttl`: events of both groups expire through shared storage leases; nothing else does.
final class EventTTLTests: XCTestCase {
    static let admin = UserInfo(name: "admin", groups: ["system:masters", "system:authenticated"])

    func makeServer(ttl: Duration?) async throws -> APIServer {
        var configuration = APIServer.Configuration()
        configuration.eventTTL = ttl
        let server = APIServer(storage: MemoryStore(), configuration: configuration)
        try await server.bootstrap(advertiseAddress: "127.0.0.1", securePort: 6443)
        return server
    }

    func send(_ server: APIServer, _ method: HTTPMethod, _ uri: String, _ body: JSON? = nil) async -> HTTPResponse {
        await server.respond(
            to: HTTPRequest(
                method: method, uri: uri, headers: ["Content-Type": "application/json"], body: body?.encoded() ?? [],
                user: Self.admin))
    }

    static func coreEvent(_ name: String, message: String = "Pulled") -> JSON {
        [
            "apiVersion": "v1", "kind": "Event", "metadata": ["name": .string(name)],
            "involvedObject": ["kind": "Pod", "name": "web", "namespace": "default"],
            "reason": "Pulled", "message": .string(message), "type": "Normal",
        ]
    }

    static let coreEvents = "/api/v1/namespaces/default/events"
    static let groupEvents = "/apis/events.k8s.io/v1/namespaces/default/events"

    func testEventsOfBothGroupsExpireAndOtherKindsStay() async throws {
        let server = try await makeServer(ttl: .seconds(1))
        await expectStatus(await send(server, .POST, Self.coreEvents, Self.coreEvent("core")), .created)
        let groupEvent: JSON = [
            "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": ["name": "grouped"],
            "eventTime": "2024-01-01T00:00:00.000000Z", "reportingController": "tests", "reportingInstance": "t1",
            "action": "Pull", "reason": "Pulled", "type": "Normal",
            "regarding": ["kind": "Pod", "name": "web", "namespace": "default"],
        ]
        await expectStatus(await send(server, .POST, Self.groupEvents, groupEvent), .created)
        let configMap: JSON = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "stays"]]
        await expectStatus(await send(server, .POST, "/api/v1/namespaces/default/configmaps", configMap), .created)
        await expectStatus(await send(server, .GET, Self.coreEvents + "/core"), .ok)

        try await waitUntil(.seconds(5)) {
            let core = await send(server, .GET, Self.coreEvents + "/core").status
            let grouped = await send(server, .GET, Self.groupEvents + "/grouped").status
            return core == .notFound && grouped == .notFound
        }
        await expectStatus(await send(server, .GET, "/api/v1/namespaces/default/configmaps/stays"), .ok)
    }

    func testUpdatesRenewTheTTL() async throws {
        let server = try await makeServer(ttl: .seconds(2))
        let created = ContinuousClock.now
        await expectStatus(await send(server, .POST, Self.coreEvents, Self.coreEvent("renewed")), .created)
        try await Task.sleep(until: created + .milliseconds(1500))
        // The recorder's count bump: an update, which upstream writes with a fresh TTL.
        let updated = await send(server, .PUT, Self.coreEvents + "/renewed", Self.coreEvent("renewed", message: "x2"))
        XCTAssertEqual(updated.status, .ok)
        try await Task.sleep(until: created + .milliseconds(2800))
        await expectStatus(
            await send(server, .GET, Self.coreEvents + "/renewed"), .ok, "past the first TTL, within the second")
        try await waitUntil(.seconds(4)) { await send(server, .GET, Self.coreEvents + "/renewed").status == .notFound }
    }

    func testWithoutTTLEventsStay() async throws {
        let server = try await makeServer(ttl: nil)
        await expectStatus(await send(server, .POST, Self.coreEvents, Self.coreEvent("kept")), .created)
        try await Task.sleep(for: .milliseconds(1300))
        await expectStatus(await send(server, .GET, Self.coreEvents + "/kept"), .ok)
    }

    func testLeasesAreSharedWithinTheReuseWindowAndPerObjectCount() async throws {
        let store = MemoryStore()
        // An hour's TTL reuses a lease for a minute (5% would be three).
        let hourly = EventLeaseManager(storage: store, ttl: .seconds(3600), maxObjectsPerLease: 3)
        let first = try await hourly.lease()
        let second = try await hourly.lease()
        let third = try await hourly.lease()
        XCTAssertEqual([second, third], [first, first])
        let fourth = try await hourly.lease()
        XCTAssertNotEqual(fourth, first, "at most three objects per lease here")
        let fifth = try await hourly.lease()
        XCTAssertEqual(fifth, fourth)
        XCTAssertEqual(hourly.reuseSeconds, 60)

        // Concurrent writers share one grant.
        let shared = EventLeaseManager(storage: store, ttl: .seconds(100))
        let leases = try await withThrowingTaskGroup(of: LeaseID.self) { group in
            for _ in 0..<20 { group.addTask { try await shared.lease() } }
            return try await group.reduce(into: Set<LeaseID>()) { $0.insert($1) }
        }
        XCTAssertEqual(leases.count, 1)
        XCTAssertEqual(shared.reuseSeconds, 5)

        // A TTL too short for a reuse window gets a lease per write.
        let short = EventLeaseManager(storage: store, ttl: .seconds(1))
        let one = try await short.lease()
        let two = try await short.lease()
        XCTAssertNotEqual(one, two)
    }

    func expectStatus(
        _ response: @autoclosure () async -> HTTPResponse, _ status: HTTPResponseStatus, _ message: String = "",
        file: StaticString = #filePath, line: UInt = #line
    ) async {
        let actual = await response().status
        XCTAssertEqual(actual, status, message, file: file, line: line)
    }

    func waitUntil(_ timeout: Duration, _ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !(await condition()) {
            guard ContinuousClock.now < deadline else { return XCTFail("condition not met in time") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
