import Foundation
import TestSupport
import XCTest

/// Custom resources on etcd with two kube-apiservers sharing one member: a definition created through one
/// server is served by the other within a second, custom resources written through either are read through
/// both, and deleting the definition through one takes its resources away from both. Also the basic CRUD
/// of a custom resource on etcd, so both storage backends are covered.
final class CustomResourceEtcdTests: XCTestCase {
    nonisolated(unsafe) private static var etcd: EtcdProcess?
    nonisolated(unsafe) private static var servers: [TestCluster] = []
    nonisolated(unsafe) private static var startFailure: String?

    override class func setUp() {
        super.setUp()
        guard EtcdProcess.isInstalled else { return }
        do {
            let member = try EtcdProcess.start()
            etcd = member
            let flags = ["--etcd-servers=\(member.clientURL)"]
            servers = try ["127.0.0.157", "127.0.0.158"].map {
                try TestCluster(address: $0, extraFlags: flags, controllers: nil)
            }
        } catch {
            startFailure = "\(error)"
        }
    }

    override class func tearDown() {
        for server in servers { server.stop() }
        servers = []
        etcd?.stop()
        etcd = nil
        super.tearDown()
    }

    override func setUpWithError() throws {
        try XCTSkipUnless(EtcdProcess.isInstalled, "needs /usr/bin/etcd (apt-get install etcd-server)")
        if let failure = Self.startFailure { throw TestClusterError("the servers did not start: \(failure)") }
    }

    /// Server A (created first) and server B.
    var pair: (a: TestCluster, b: TestCluster) {
        get throws {
            guard Self.servers.count == 2 else { throw TestClusterError("the servers did not start") }
            return (Self.servers[0], Self.servers[1])
        }
    }

    /// A namespaced definition of `Shard` in `group`, its schema with a default, as JSON for curl.
    static func definition(group: String) -> String {
        """
        {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
        "metadata":{"name":"shards.\(group)"},
        "spec":{"group":"\(group)","scope":"Namespaced",
        "names":{"plural":"shards","singular":"shard","kind":"Shard","listKind":"ShardList"},
        "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object",
        "properties":{"spec":{"type":"object","properties":{
        "size":{"type":"integer","minimum":0,"default":3},"zone":{"type":"string"}}}}}}}]}}
        """
    }

    static func shard(_ group: String, name: String, zone: String) -> String {
        #"{"apiVersion":"\#(group)/v1","kind":"Shard","metadata":{"name":"\#(name)"},"spec":{"zone":"\#(zone)"}}"#
    }

    static func json(_ reply: EtcdAPIServerTests.Reply) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any], reply.body)
    }

    static func names(_ reply: EtcdAPIServerTests.Reply) throws -> [String] {
        let items = try json(reply)["items"] as? [[String: Any]] ?? []
        return items.compactMap { ($0["metadata"] as? [String: Any])?["name"] as? String }.sorted()
    }

    /// Polls `path` on `server` until it answers `status`; the time it took, or nil after `timeout`.
    static func waitFor(
        _ server: TestCluster, _ path: String, status: Int, timeout: TimeInterval, since start: Date = Date()
    ) throws -> TimeInterval? {
        while true {
            if try EtcdAPIServerTests.curl(server, "GET", path).status == status {
                return Date().timeIntervalSince(start)
            }
            guard Date().timeIntervalSince(start) < timeout else { return nil }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }

    func testADefinitionCreatedThroughOneServerIsServedByTheOtherWithinASecond() throws {
        let (a, b) = try pair
        let group = "fleet.kubeswift.test"
        let collection = "/apis/\(group)/v1/namespaces/default/shards"
        XCTAssertEqual(try EtcdAPIServerTests.curl(b, "GET", collection).status, 404)

        let start = Date()
        let created = try EtcdAPIServerTests.curl(
            a, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body: Self.definition(group: group))
        XCTAssertEqual(created.status, 201, created.body)
        // B learns of the definition through its etcd watch and installs the resource on its own.
        let servedByB = try Self.waitFor(b, collection, status: 200, timeout: 5, since: start)
        let elapsed = try XCTUnwrap(servedByB, "server B never served the custom resource")
        XCTAssertLessThan(elapsed, 1.0, "server B served the custom resource \(elapsed) s after the create")
        XCTAssertNotNil(try Self.waitFor(a, collection, status: 200, timeout: 5))

        // Written through B, read through A (with B's default); listed by both.
        let written = try EtcdAPIServerTests.curl(
            b, "POST", collection, body: Self.shard(group, name: "s1", zone: "north"))
        XCTAssertEqual(written.status, 201, written.body)
        let read = try EtcdAPIServerTests.curl(a, "GET", "\(collection)/s1")
        XCTAssertEqual(read.status, 200, read.body)
        let spec = try Self.json(read)["spec"] as? [String: Any]
        XCTAssertEqual(spec?["zone"] as? String, "north")
        XCTAssertEqual(spec?["size"] as? Int, 3)
        XCTAssertEqual(
            (try Self.json(read)["metadata"] as? [String: Any])?["resourceVersion"] as? String,
            (try Self.json(written)["metadata"] as? [String: Any])?["resourceVersion"] as? String)
        let second = try EtcdAPIServerTests.curl(
            a, "POST", collection, body: Self.shard(group, name: "s2", zone: "south"))
        XCTAssertEqual(second.status, 201, second.body)
        for server in [a, b] {
            XCTAssertEqual(try Self.names(try EtcdAPIServerTests.curl(server, "GET", collection)), ["s1", "s2"])
        }
        // Validation is B's too: a value below the schema's minimum is refused there.
        let invalid = try EtcdAPIServerTests.curl(
            b, "POST", collection,
            body: #"{"apiVersion":"\#(group)/v1","kind":"Shard","metadata":{"name":"bad"},"spec":{"size":-1}}"#)
        XCTAssertEqual(invalid.status, 422, invalid.body)

        // Deleted through B: the finalizer's cleanup removes the resources, then the definition, for both.
        let definitionPath = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/shards.\(group)"
        let deleted = try EtcdAPIServerTests.curl(b, "DELETE", definitionPath)
        XCTAssertEqual(deleted.status, 200, deleted.body)
        for server in [a, b] {
            XCTAssertNotNil(try Self.waitFor(server, definitionPath, status: 404, timeout: 20))
            XCTAssertNotNil(try Self.waitFor(server, collection, status: 404, timeout: 5))
        }
        // Created again through A: no instance was left behind in etcd for either server to find.
        let again = try EtcdAPIServerTests.curl(
            a, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body: Self.definition(group: group))
        XCTAssertEqual(again.status, 201, again.body)
        for server in [a, b] {
            XCTAssertNotNil(try Self.waitFor(server, collection, status: 200, timeout: 5))
            XCTAssertEqual(try Self.names(try EtcdAPIServerTests.curl(server, "GET", collection)), [])
        }
    }

    func testCustomResourceCRUDOnEtcd() throws {
        let (a, _) = try pair
        let group = "crud.kubeswift.test"
        let collection = "/apis/\(group)/v1/namespaces/default/shards"
        let created = try EtcdAPIServerTests.curl(
            a, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body: Self.definition(group: group))
        XCTAssertEqual(created.status, 201, created.body)
        XCTAssertNotNil(try Self.waitFor(a, collection, status: 200, timeout: 5))

        let posted = try EtcdAPIServerTests.curl(
            a, "POST", collection, body: Self.shard(group, name: "c1", zone: "east"))
        XCTAssertEqual(posted.status, 201, posted.body)
        var object = try Self.json(posted)
        XCTAssertEqual((object["spec"] as? [String: Any])?["size"] as? Int, 3)
        XCTAssertEqual((object["metadata"] as? [String: Any])?["generation"] as? Int, 1)

        object["spec"] = ["zone": "west", "size": 5]
        let replaced = try EtcdAPIServerTests.curl(
            a, "PUT", "\(collection)/c1",
            body: String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
        XCTAssertEqual(replaced.status, 200, replaced.body)
        XCTAssertEqual((try Self.json(replaced)["metadata"] as? [String: Any])?["generation"] as? Int, 2)
        // A stale resourceVersion conflicts, as for any kind on etcd.
        let stale = try EtcdAPIServerTests.curl(
            a, "PUT", "\(collection)/c1",
            body: String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
        XCTAssertEqual(stale.status, 409, stale.body)

        let got = try EtcdAPIServerTests.curl(a, "GET", "\(collection)/c1")
        XCTAssertEqual((try Self.json(got)["spec"] as? [String: Any])?["zone"] as? String, "west")
        XCTAssertEqual(try Self.names(try EtcdAPIServerTests.curl(a, "GET", collection)), ["c1"])

        let removed = try EtcdAPIServerTests.curl(a, "DELETE", "\(collection)/c1")
        XCTAssertEqual(removed.status, 200, removed.body)
        XCTAssertEqual(try EtcdAPIServerTests.curl(a, "GET", "\(collection)/c1").status, 404)
        XCTAssertEqual(try Self.names(try EtcdAPIServerTests.curl(a, "GET", collection)), [])
    }
}
