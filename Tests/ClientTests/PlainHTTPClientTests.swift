import APIMachinery
import Foundation
import TestSupport
import XCTest

@testable import Client

/// The guide era's `--master=http://127.0.0.1:8080`: the client speaks plain HTTP/1.1 to the API server's
/// `--insecure-port`, as Go's client does to an `http://` URL, and a real kube-scheduler schedules through it.
final class PlainHTTPClientTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.131" }
    /// The guide's port; the address is this class's alone, so it is free.
    static let plainPort = 8080
    override class var extraFlags: [String] {
        ["--insecure-port=\(plainPort)", "--insecure-bind-address=\(clusterAddress)"]
    }

    var server: String { "http://\(Self.clusterAddress):\(Self.plainPort)" }

    func testRequestsWatchesAndReusedConnectionsOverPlainHTTP() async throws {
        _ = try cluster
        var configuration = try ClientConfiguration(server: server)
        XCTAssertFalse(configuration.usesTLS)
        configuration.qps = -1
        let client = try RESTClient(configuration: configuration)

        let version = try await client.getJSON(path: "/version")
        XCTAssertNotNil(version["gitVersion"]?.stringValue)
        // One request after another: the first connection is kept alive and carries them all.
        for _ in 0..<10 { _ = try await client.get(path: "/api/v1/namespaces/default") }
        let pooled = try await client.pool.connection().get()
        let transport = try XCTUnwrap(pooled as? PlainHTTPConnections)
        XCTAssertEqual(transport.openCount, 1, "sequential requests should reuse one kept-alive connection")

        // Concurrent requests each take a connection of their own, as HTTP/1.1 allows one at a time.
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<20 { group.addTask { try await client.get(path: "/api/v1/namespaces").status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        XCTAssertEqual(statuses, Array(repeating: 200, count: 20))
        XCTAssertLessThanOrEqual(transport.openCount, PlainHTTPConnections.maximumIdle)

        // A watch streams events as they happen; a create's body and a 404's Status travel both ways.
        let listed = try await client.getJSON(path: "/api/v1/namespaces/default/configmaps")
        let from = try XCTUnwrap(listed[path: "metadata", "resourceVersion"]?.stringValue)
        let stream = try await client.watch(
            path: "/api/v1/namespaces/default/configmaps",
            query: ["resourceVersion": from, "fieldSelector": "metadata.name=over-plain-http"])
        _ = try await client.postJSON(
            path: "/api/v1/namespaces/default/configmaps",
            ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "over-plain-http"], "data": ["a": "b"]])
        var iterator = stream.makeAsyncIterator()
        let event = try await iterator.next()
        XCTAssertEqual(event?.type, .added)
        XCTAssertEqual(event?.object[path: "data", "a"]?.stringValue, "b")
        do {
            _ = try await client.get(path: "/api/v1/namespaces/default/configmaps/missing")
            XCTFail("a missing config map was found")
        } catch let error as StatusError {
            XCTAssertEqual(error.code, 404)
        }
        await client.shutdown()
        XCTAssertEqual(transport.openCount, 0, "shutdown closes every connection, the watch's too")
    }

    func testKubeSchedulerSchedulesThroughMasterHTTP() throws {
        let cluster = try cluster
        let node = #"""
            {"apiVersion":"v1","kind":"Node","metadata":{"name":"plain-node","labels":{"kubernetes.io/hostname":"plain-node"}},
             "status":{"capacity":{"cpu":"4","memory":"8Gi","pods":"110"},"allocatable":{"cpu":"4","memory":"8Gi","pods":"110"},
                       "conditions":[{"type":"Ready","status":"True"}]}}
            """#
        XCTAssertEqual(try cluster.kubectl(["create", "-f", "-"], input: node).status, 0)
        let scheduler = try ComponentProcess(
            executable: "kube-scheduler",
            arguments: [
                "--master=\(server)", "--bind-address=\(Self.clusterAddress)", "--secure-port=0", "--leader-elect=true",
                "--leader-elect-lease-duration=4s", "--leader-elect-renew-deadline=2s",
                "--leader-elect-retry-period=1s",
            ], directory: cluster.directory)
        defer { scheduler.stop() }
        XCTAssertTrue(scheduler.waitForLog("successfully acquired lease", timeout: 30), scheduler.log)
        let pod = #"""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"plain-pod","namespace":"default"},
             "spec":{"containers":[{"name":"c","image":"nginx"}]}}
            """#
        XCTAssertEqual(try cluster.kubectl(["create", "-f", "-"], input: pod).status, 0)
        var bound = ""
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, bound.isEmpty {
            bound = try cluster.kubectl(["get", "pod", "plain-pod", "-o", "jsonpath={.spec.nodeName}"]).stdout
            if bound.isEmpty { Thread.sleep(forTimeInterval: 0.2) }
        }
        XCTAssertEqual(bound, "plain-node", scheduler.log)
        // The lease names it, written through the plain port as system:unsecured.
        let holder = try cluster.kubectl([
            "get", "lease", "kube-scheduler", "-n", "kube-system", "-o", "jsonpath={.spec.holderIdentity}",
        ]).stdout
        XCTAssertFalse(holder.isEmpty)
        XCTAssertEqual(scheduler.stop(), 0, scheduler.log)
    }
}
