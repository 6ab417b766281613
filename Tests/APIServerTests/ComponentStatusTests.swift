import APIMachinery
import Foundation
import NIOHTTP1
import TestSupport
import XCTest

@testable import APIServer

/// core/v1 ComponentStatus through kubectl against a server over TLS whose scheduler target is a live healthz
/// server and whose controller-manager target is a closed port: upstream's table, conditions, messages,
/// deprecation warning, and get and list as the only verbs.
final class ComponentStatusTests: XCTestCase {
    struct Fixture: Sendable {
        let server: KubectlTestServer
        let scheduler: HealthzTestServer
        let downPort: Int
    }

    static let address = "127.0.0.147"

    static let fixture = Task { () throws -> Fixture in
        let scheduler = try await HealthzTestServer(address: address)
        let downPort = try await HealthzTestServer.closedPort(address: address)
        var configuration = APIServer.Configuration()
        configuration.componentStatus.scheduler = HealthProbe(host: address, port: scheduler.port, path: "/healthz")
        configuration.componentStatus.controllerManager = HealthProbe(host: address, port: downPort, path: "/healthz")
        let server = try await KubectlTestServer(address: address, configuration: configuration)
        return Fixture(server: server, scheduler: scheduler, downPort: downPort)
    }

    /// `kubectl get` output split into rows of columns (runs of two or more spaces separate them).
    func rows(_ output: String) -> [[String]] {
        output.split(separator: "\n").map { line in
            line.components(separatedBy: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }

    func testKubectlGetComponentStatusesShowsTheDownComponentUnhealthy() async throws {
        let fixture = try await Self.fixture.value
        let output = try fixture.server.kubectl(["get", "componentstatuses"])
        XCTAssertEqual(output.status, 0, output.stderr)
        let table = rows(output.stdout)
        XCTAssertEqual(table.first, ["NAME", "STATUS", "MESSAGE", "ERROR"])
        let refused =
            "Get \"https://\(Self.address):\(fixture.downPort)/healthz\": dial tcp \(Self.address):\(fixture.downPort): connect: connection refused"
        XCTAssertEqual(
            Array(table.dropFirst()),
            [
                ["controller-manager", "Unhealthy", refused], ["etcd-0", "Healthy", "ok"],
                ["scheduler", "Healthy", "ok"],
            ],
            output.stdout)
        XCTAssertTrue(output.stderr.contains("Warning: v1 ComponentStatus is deprecated in v1.19+"), output.stderr)
    }

    func testAFailingHealthzIsUnhealthyWithItsStatusCode() async throws {
        let fixture = try await Self.fixture.value
        fixture.scheduler.fail(true)
        defer { fixture.scheduler.fail(false) }
        let output = try fixture.server.kubectl(["get", "cs", "scheduler", "-o", "json"])
        XCTAssertEqual(output.status, 0, output.stderr)
        let object = try JSON.parse(Array(output.stdout.utf8))
        XCTAssertEqual(object["kind"], "ComponentStatus")
        XCTAssertEqual(
            object["conditions"],
            [["type": "Healthy", "status": "False", "message": "HTTP probe failed with statuscode: 500"]])
    }

    func testGetByNameAndAnUnknownName() async throws {
        let fixture = try await Self.fixture.value
        let etcd = try fixture.server.kubectl(["get", "cs", "etcd-0", "-o", "jsonpath={.conditions[0].status}"])
        XCTAssertEqual(etcd.stdout, "True", etcd.stderr)
        let unknown = try fixture.server.kubectl(["get", "cs", "nope"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(
            unknown.stderr.contains("Error from server (NotFound): componentstatus \"nope\" not found"), unknown.stderr)
    }

    func testOnlyGetAndListAreServed() async throws {
        let fixture = try await Self.fixture.value
        let resources = try fixture.server.kubectl(["api-resources", "-o", "wide", "--api-group="])
        let row = rows(resources.stdout).first { $0.first == "componentstatuses" }
        XCTAssertEqual(
            row, ["componentstatuses", "cs", "v1", "false", "ComponentStatus", "get,list"], resources.stdout)

        let admin = UserInfo(name: "admin", uid: "u-1", groups: ["system:masters", "system:authenticated"])
        let delete = await fixture.server.apiServer.respond(
            to: HTTPRequest(
                method: .DELETE, uri: "/api/v1/componentstatuses/scheduler", headers: [:], body: [], user: admin,
                remoteAddress: Self.address))
        XCTAssertEqual(delete.status, .methodNotAllowed)
        let watch = await fixture.server.apiServer.respond(
            to: HTTPRequest(
                method: .GET, uri: "/api/v1/componentstatuses?watch=true", headers: [:], body: [], user: admin,
                remoteAddress: Self.address))
        XCTAssertEqual(watch.status, .methodNotAllowed)
    }

    func testListSelectorsAndProtobuf() async throws {
        let fixture = try await Self.fixture.value
        let admin = UserInfo(name: "admin", uid: "u-1", groups: ["system:masters", "system:authenticated"])
        func list(_ query: String, accept: String = "application/json") async throws -> (HTTPResponse, JSON?) {
            let response = await fixture.server.apiServer.respond(
                to: HTTPRequest(
                    method: .GET, uri: "/api/v1/componentstatuses" + query, headers: ["Accept": accept], body: [],
                    user: admin, remoteAddress: Self.address))
            guard case .bytes(let bytes) = response.body else { return (response, nil) }
            return (response, try? JSON.parse(bytes))
        }
        let (named, body) = try await list("?fieldSelector=metadata.name%3Detcd-0")
        XCTAssertEqual(named.status, .ok)
        XCTAssertEqual(body?["kind"], "ComponentStatusList")
        XCTAssertEqual(body?["items"]?.arrayValue?.compactMap(\.name), ["etcd-0"])
        let (_, labelled) = try await list("?labelSelector=tier%3Dcontrol-plane")
        XCTAssertEqual(labelled?["items"]?.arrayValue?.count, 0)
        let (protobuf, _) = try await list("", accept: "application/vnd.kubernetes.protobuf")
        XCTAssertEqual(protobuf.headers.first(name: "Content-Type"), "application/vnd.kubernetes.protobuf")
    }

    func testCellsReadTheHealthyCondition() {
        let unknown: JSON = ["metadata": ["name": "x"], "conditions": []]
        XCTAssertEqual(ComponentStatuses.cells(unknown), ["x", "Unknown", "", ""])
        let failed = ComponentStatuses.object(
            name: "etcd-1", outcome: ComponentStatuses.Outcome(healthy: false, message: "", error: "deadline"))
        XCTAssertEqual(ComponentStatuses.cells(failed), ["etcd-1", "Unhealthy", "", "deadline"])
    }
}
