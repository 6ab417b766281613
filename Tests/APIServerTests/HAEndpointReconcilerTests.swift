import APIMachinery
import Foundation
import Logging
import Storage
import XCTest

@testable import APIServer

/// The `kubernetes` Service's endpoints as the endpoint reconcilers keep them, in process on one store:
/// master leases list the live servers, master-count converges on `--apiserver-count`, and a server that
/// leaves takes itself out. (The end-to-end tests in `HAEndpointsEndToEndTests` run real servers on etcd.)
final class HAEndpointReconcilerTests: XCTestCase {
    let logger = Logger(label: "ha-tests") { _ in SwiftLogNoOpLogHandler() }

    func makeServer(_ storage: any KeyValueStore) async throws -> APIServer {
        let server = APIServer(storage: storage, configuration: APIServer.Configuration())
        try await server.bootstrap(advertiseAddress: nil, securePort: 6443)
        return server
    }

    func controller(
        _ server: APIServer, _ address: String, type: EndpointReconcilerType = .lease, count: Int = 1
    ) -> KubernetesServiceController {
        var configuration = KubernetesServiceController.Configuration(
            type: type, advertiseAddress: address, port: 6443)
        configuration.masterCount = count
        return KubernetesServiceController(apiServer: server, configuration: configuration, logger: logger)
    }

    func endpoints(_ server: APIServer) async throws -> JSON? {
        try? await server.store(resource: "endpoints")?.get(namespace: "default", name: "kubernetes")
    }

    func slice(_ server: APIServer) async throws -> JSON? {
        try? await server.store(group: "discovery.k8s.io", version: "v1", resource: "endpointslices")?
            .get(namespace: "default", name: "kubernetes")
    }

    func endpointAddresses(_ server: APIServer) async throws -> [String] {
        KubernetesEndpoints.addresses(of: try await endpoints(server))
    }

    func sliceAddresses(_ server: APIServer) async throws -> [String] {
        (try await slice(server)?["endpoints"]?.arrayValue ?? []).compactMap {
            $0["addresses"]?.arrayValue?.first?.stringValue
        }
    }

    func testLeasesListEveryLiveServerAndAServerLeavingTakesItselfOut() async throws {
        let storage = MemoryStore()
        // Two API servers over one store, each with its own pipeline, as two processes on one etcd.
        let first = try await makeServer(storage)
        let second = try await makeServer(storage)
        let a = controller(first, "10.0.0.2")
        let b = controller(second, "10.0.0.1")
        try await a.renewAndReconcile()
        await assertEqual(try await endpointAddresses(first), ["10.0.0.2"])
        try await b.renewAndReconcile()
        await assertEqual(try await endpointAddresses(first), ["10.0.0.1", "10.0.0.2"])

        let stored = try await endpoints(first)
        let written = try XCTUnwrap(stored)
        XCTAssertEqual(written[path: "metadata", "labels", "endpointslice.kubernetes.io/skip-mirror"], "true")
        XCTAssertEqual(
            written["subsets"]?.arrayValue?.first?["ports"], [["name": "https", "port": 6443, "protocol": "TCP"]])
        let storedSlice = try await slice(first)
        let slice = try XCTUnwrap(storedSlice)
        await assertEqual(try await sliceAddresses(first), ["10.0.0.1", "10.0.0.2"])
        XCTAssertEqual(slice["addressType"], "IPv4")
        XCTAssertEqual(slice[path: "metadata", "labels", "kubernetes.io/service-name"], "kubernetes")
        XCTAssertEqual(slice["endpoints"]?.arrayValue?.first?["conditions"], ["ready": true])

        // Nothing changed: another pass writes nothing.
        let revision = try await storage.currentRevision()
        try await a.reconcile()
        try await b.reconcile()
        let after = try await storage.currentRevision()
        XCTAssertEqual(after, revision)

        // b's lease expires (its key goes, as expiry deletes it): a's next pass drops it.
        _ = try await storage.delete(key: "/registry/masterleases/10.0.0.1", expectedRevision: nil)
        try await a.reconcile()
        await assertEqual(try await endpointAddresses(first), ["10.0.0.2"])
        await assertEqual(try await sliceAddresses(first), ["10.0.0.2"])

        // b renews again and is back; then it shuts down and takes itself out at once.
        try await b.renewAndReconcile()
        await assertEqual(try await endpointAddresses(first), ["10.0.0.1", "10.0.0.2"])
        await b.removeEndpoints()
        await assertEqual(try await endpointAddresses(first), ["10.0.0.2"])
        let leases = try await storage.range(
            start: "/registry/masterleases/", end: "/registry/masterleases0", limit: 0, revision: nil)
        XCTAssertEqual(leases.items.map(\.key), ["/registry/masterleases/10.0.0.2"])
        // A stopped server does not list itself again.
        try await b.renewAndReconcile()
        await assertEqual(try await endpointAddresses(first), ["10.0.0.2"])

        // The last server leaving refuses to erase every endpoint, as upstream's reconciler does.
        await a.removeEndpoints()
        await assertEqual(try await endpointAddresses(first), ["10.0.0.2"])
    }

    func testAMasterLeaseIsAStorageLeaseThatExpires() async throws {
        let storage = MemoryStore()
        let leases = MasterLeases(storage: storage, storagePrefix: "/registry", ttlSeconds: 15)
        try await leases.renew("10.0.0.7")
        let first = try await storage.get(key: "/registry/masterleases/10.0.0.7")
        let key = try XCTUnwrap(first)
        XCTAssertNotEqual(key.lease, 0)
        let stored = try JSON.parse(key.value)
        XCTAssertEqual(stored["subsets"]?.arrayValue?.first?["addresses"], [["ip": "10.0.0.7"]])
        // A renewal keeps the key and its lease; nothing is written.
        let revision = try await storage.currentRevision()
        try await leases.renew("10.0.0.7")
        let afterRenewal = try await storage.currentRevision()
        XCTAssertEqual(afterRenewal, revision)
        // The lease expiring (revoked here) removes the key; the next renewal grants a new lease and writes it again.
        try await storage.revokeLease(key.lease)
        let afterExpiry = try await leases.addresses()
        XCTAssertEqual(afterExpiry, [])
        try await leases.renew("10.0.0.7")
        let second = try await storage.get(key: "/registry/masterleases/10.0.0.7")
        let renewed = try XCTUnwrap(second)
        XCTAssertNotEqual(renewed.lease, key.lease)
        let afterRenewal2 = try await leases.addresses()
        XCTAssertEqual(afterRenewal2, ["10.0.0.7"])
    }

    func testMasterCountKeepsOursAndConvergesOnTheCount() {
        // Ours is listed and the count holds: left alone.
        XCTAssertEqual(
            KubernetesEndpoints.masterCount(existing: ["10.0.0.3", "10.0.0.1"], ours: "10.0.0.1", count: 2),
            ["10.0.0.1", "10.0.0.3"])
        // Ours is added; with too many, those after ours (wrapping around) go.
        XCTAssertEqual(
            KubernetesEndpoints.masterCount(existing: ["10.0.0.1", "10.0.0.3"], ours: "10.0.0.2", count: 2),
            ["10.0.0.1", "10.0.0.2"])
        XCTAssertEqual(
            KubernetesEndpoints.masterCount(existing: ["10.0.0.1", "10.0.0.2"], ours: "10.0.0.3", count: 2),
            ["10.0.0.2", "10.0.0.3"])
        XCTAssertEqual(
            KubernetesEndpoints.masterCount(existing: ["10.0.0.2", "10.0.0.3"], ours: "10.0.0.1", count: 2),
            ["10.0.0.1", "10.0.0.3"])
        XCTAssertEqual(KubernetesEndpoints.masterCount(existing: [], ours: "10.0.0.1", count: 3), ["10.0.0.1"])
        XCTAssertEqual(
            KubernetesEndpoints.masterCount(existing: ["10.0.0.9"], ours: "10.0.0.1", count: 1), ["10.0.0.1"])
    }

    func testMasterCountServersEachListThemselvesAndLeavingRemovesOnlyTheirs() async throws {
        let storage = MemoryStore()
        let server = try await makeServer(storage)
        let servers = ["10.0.0.1", "10.0.0.2", "10.0.0.3"].map { controller(server, $0, type: .masterCount, count: 3) }
        for controller in servers { try await controller.renewAndReconcile() }
        await assertEqual(try await endpointAddresses(server), ["10.0.0.1", "10.0.0.2", "10.0.0.3"])
        await assertEqual(try await sliceAddresses(server), ["10.0.0.1", "10.0.0.2", "10.0.0.3"])
        await servers[1].removeEndpoints()
        await assertEqual(try await endpointAddresses(server), ["10.0.0.1", "10.0.0.3"])
        await assertEqual(try await sliceAddresses(server), ["10.0.0.1", "10.0.0.3"])
        // No master leases are kept in this mode.
        let leases = try await storage.range(
            start: "/registry/masterleases/", end: "/registry/masterleases0", limit: 0, revision: nil)
        XCTAssertEqual(leases.items.count, 0)
    }

    func testNoneLeavesTheEndpointsAlone() async throws {
        let server = try await makeServer(MemoryStore())
        try await controller(server, "10.0.0.1", type: .none).renewAndReconcile()
        let written = try await endpoints(server)
        XCTAssertNil(written)
    }

    func testReconcilerTypesAndLoopbackAddresses() {
        XCTAssertEqual(EndpointReconcilerType(rawValue: "master-count"), .masterCount)
        XCTAssertEqual(EndpointReconcilerType.allCases.map(\.rawValue), ["lease", "master-count", "none"])
        XCTAssertTrue(APIServerCommand.isLoopback("127.0.0.1"))
        XCTAssertTrue(APIServerCommand.isLoopback("127.1.2.3"))
        XCTAssertTrue(APIServerCommand.isLoopback("::1"))
        XCTAssertFalse(APIServerCommand.isLoopback("0.0.0.0"))
        XCTAssertFalse(APIServerCommand.isLoopback("10.0.0.1"))
        XCTAssertFalse(APIServerCommand.isLoopback("::"))
        XCTAssertFalse(APIServerCommand.isLoopback("localhost"))
    }
}

extension HAEndpointReconcilerTests {
    /// `XCTAssertEqual` for a value an `await` produces, which XCTest's autoclosures cannot run.
    func assertEqual<T: Equatable>(
        _ expression: @autoclosure () async throws -> T, _ expected: T, file: StaticString = #filePath,
        line: UInt = #line
    ) async {
        do {
            let value = try await expression()
            XCTAssertEqual(value, expected, file: file, line: line)
        } catch {
            XCTFail("threw \(error)", file: file, line: line)
        }
    }
}
