import APIMachinery
import Foundation
import NIOHTTP1
import Storage
import TestSupport
import XCTest

@testable import APIServer

/// The audit hook in the request path, in process over a MemoryStore: which events each request
/// produces, what they hold at each level, the Audit-Id header, watches and failed authentication.
final class AuditRequestTests: XCTestCase {
    static let admin = UserInfo(name: "admin", uid: "u-1", groups: ["system:masters", "system:authenticated"])

    /// Keeps every event it is given.
    final class RecordingSink: AuditSink, @unchecked Sendable {
        private let lock = NSLock()
        private var recorded: [AuditEvent] = []
        func process(_ event: AuditEvent) {
            lock.lock()
            recorded.append(event)
            lock.unlock()
        }
        var events: [AuditEvent] {
            lock.lock()
            defer { lock.unlock() }
            return recorded
        }
        func events(_ auditID: String) -> [AuditEvent] { events.filter { $0.auditID == auditID } }
    }

    func makeServer(policy: AuditPolicy = .metadataForEverything, sink: any AuditSink) async throws -> APIServer {
        var configuration = APIServer.Configuration()
        configuration.audit = AuditConfiguration(policy: policy, sink: sink)
        let server = APIServer(storage: MemoryStore(), configuration: configuration)
        try await server.bootstrap(advertiseAddress: "127.0.0.1", securePort: 6443)
        return server
    }

    static func request(
        _ method: HTTPMethod, _ uri: String, body: JSON? = nil, user: UserInfo? = admin, headers: HTTPHeaders = [:]
    ) -> HTTPRequest {
        var allHeaders = headers
        allHeaders.add(name: "User-Agent", value: "audit-tests/1.0")
        if body != nil { allHeaders.add(name: "Content-Type", value: "application/json") }
        return HTTPRequest(
            method: method, uri: uri, headers: allHeaders, body: body?.encoded() ?? [], user: user,
            remoteAddress: "127.0.0.9")
    }

    static func configMap(_ name: String) -> JSON {
        [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": ["name": .string(name), "managedFields": [["manager": "kubectl", "operation": "Update"]]],
            "data": ["k": "v"],
        ]
    }

    func testEveryRequestProducesReceivedAndCompleteEventsUnderItsAuditID() async throws {
        let sink = RecordingSink()
        let server = try await makeServer(sink: sink)
        let path = "/api/v1/namespaces/default/configmaps"
        let cases: [(HTTPRequest, verb: String, code: Int, name: String)] = [
            (Self.request(.POST, path, body: Self.configMap("one")), "create", 201, "one"),
            (Self.request(.GET, path + "/one"), "get", 200, "one"),
            (Self.request(.GET, path + "?limit=5"), "list", 200, ""),
            (Self.request(.GET, path + "/missing"), "get", 404, "missing"),
            (Self.request(.DELETE, path + "/one"), "delete", 200, "one"),
        ]
        for (request, verb, code, name) in cases {
            let response = await server.respond(to: request)
            XCTAssertEqual(Int(response.status.code), code, request.uri)
            let auditID = try XCTUnwrap(response.headers.first(name: "Audit-Id"), request.uri)
            let events = sink.events(auditID)
            XCTAssertEqual(events.map(\.stage), [.requestReceived, .responseComplete], request.uri)
            for (index, event) in events.enumerated() {
                XCTAssertEqual(event.level, .metadata)
                XCTAssertEqual(event.verb, verb)
                XCTAssertEqual(event.requestURI, request.uri)
                XCTAssertEqual(event.user, Self.admin)
                XCTAssertEqual(event.sourceIPs, ["127.0.0.9"])
                XCTAssertEqual(event.userAgent, "audit-tests/1.0")
                let logged = try JSON.parse(event.encodedLine())
                var reference: JSONObject = ["resource": "configmaps", "namespace": "default"]
                // A create's name comes from its body, which RequestReceived has not read yet.
                if !name.isEmpty, verb != "create" || index == 1 { reference["name"] = .string(name) }
                reference["apiVersion"] = "v1"
                XCTAssertEqual(logged["objectRef"], .object(reference), request.uri)
                XCTAssertNil(logged["requestObject"], "Metadata level logs no bodies")
                XCTAssertNil(logged["responseObject"])
            }
            XCTAssertNil(events.first?.responseStatus)
            XCTAssertEqual(events.first?.stageTimestamp, events.first?.requestReceivedTimestamp)
            XCTAssertEqual(events.last?.responseStatus?.code, code)
            XCTAssertGreaterThanOrEqual(events.last?.stageTimestamp ?? 0, events.last?.requestReceivedTimestamp ?? 1)
        }
        let notFound = sink.events.last { $0.verb == "get" && $0.responseStatus?.code == 404 }
        XCTAssertEqual(
            notFound?.responseStatus,
            AuditEvent.ResponseStatus(
                code: 404, status: "Failure", message: "configmaps \"missing\" not found", reason: "NotFound",
                details: ["name": "missing", "kind": "configmaps"]))

        let version = await server.respond(to: Self.request(.GET, "/version"))
        let events = sink.events(try XCTUnwrap(version.headers.first(name: "Audit-Id")))
        XCTAssertEqual(events.map(\.verb), ["get", "get"])
        XCTAssertNil(events.first?.objectRef, "non-resource requests have no object reference")
    }

    func testClientAuditIDIsKeptAndEchoed() async throws {
        let sink = RecordingSink()
        let server = try await makeServer(sink: sink)
        let response = await server.respond(
            to: Self.request(.GET, "/api/v1/namespaces", headers: ["Audit-ID": "from-the-client"]))
        XCTAssertEqual(response.headers.first(name: "Audit-Id"), "from-the-client")
        XCTAssertEqual(sink.events("from-the-client").count, 2)
    }

    func testRequestIDsAreUniqueUUIDsEvenWithoutABackend() async throws {
        let server = APIServer(storage: MemoryStore(), configuration: APIServer.Configuration())
        var seen = Set<String>()
        for _ in 0..<50 {
            let response = await server.respond(to: Self.request(.GET, "/version"))
            let auditID = try XCTUnwrap(response.headers.first(name: "Audit-Id"))
            XCTAssertNotNil(UUID(uuidString: auditID), auditID)
            XCTAssertEqual(auditID, auditID.lowercased())
            // Version 4, RFC 4122 variant.
            let characters = Array(auditID)
            XCTAssertEqual(characters.count, 36)
            XCTAssertEqual(characters.count > 14 ? characters[14] : nil, "4", auditID)
            XCTAssertTrue(characters.count > 19 && "89ab".contains(characters[19]), auditID)
            seen.insert(auditID)
        }
        XCTAssertEqual(seen.count, 50)
    }

    func testRequestAndRequestResponseLevelsLogBodiesAndOmitManagedFields() async throws {
        var creates = AuditPolicy.Rule(level: .request)
        creates.verbs = ["create"]
        creates.omitManagedFields = false
        var reads = AuditPolicy.Rule(level: .requestResponse)
        reads.resources = [.init(resources: ["configmaps"])]
        let sink = RecordingSink()
        let server = try await makeServer(
            policy: AuditPolicy(rules: [creates, reads], omitManagedFields: true), sink: sink)
        let path = "/api/v1/namespaces/default/configmaps"
        let created = await server.respond(to: Self.request(.POST, path, body: Self.configMap("two")))
        let createEvent = try XCTUnwrap(sink.events(created.headers.first(name: "Audit-Id") ?? "").last)
        XCTAssertEqual(createEvent.level, .request)
        let requestObject = try JSON.parse(createEvent.encodedLine())["requestObject"]
        XCTAssertEqual(requestObject, Self.configMap("two"), "this rule keeps managedFields")
        XCTAssertNil(createEvent.responseObject)

        let read = await server.respond(to: Self.request(.GET, path + "/two"))
        let readEvent = try XCTUnwrap(sink.events(read.headers.first(name: "Audit-Id") ?? "").last)
        XCTAssertEqual(readEvent.level, .requestResponse)
        let logged = try JSON.parse(readEvent.encodedLine())
        XCTAssertEqual(logged["responseObject"]?["data"], ["k": "v"])
        XCTAssertNotNil(logged["responseObject"]?["metadata"]?["uid"])
        XCTAssertNil(logged["responseObject"]?["metadata"]?["managedFields"], "the policy omits managedFields")
        XCTAssertNil(logged["requestObject"], "a get has no body")
    }

    func testCreateAtMetadataLevelNamesTheObjectFromTheBody() async throws {
        let sink = RecordingSink()
        let server = try await makeServer(sink: sink)
        let response = await server.respond(
            to: Self.request(.POST, "/api/v1/namespaces/default/configmaps", body: Self.configMap("named")))
        let events = try sink.events(response.headers.first(name: "Audit-Id") ?? "").map {
            try JSON.parse($0.encodedLine())
        }
        XCTAssertEqual(events.count, 2)
        XCTAssertNil(events.first?["objectRef"]?["name"], "RequestReceived only knows the URL")
        XCTAssertEqual(events.last?["objectRef"]?["name"], "named")
    }

    func testNoneLevelAndOmittedStagesWriteNothing() async throws {
        var healthz = AuditPolicy.Rule(level: .none)
        healthz.nonResourceURLs = ["/healthz*", "/version"]
        var rest = AuditPolicy.Rule(level: .metadata)
        rest.omitStages = [.responseComplete]
        let sink = RecordingSink()
        let server = try await makeServer(
            policy: AuditPolicy(rules: [healthz, rest], omitStages: [.requestReceived]), sink: sink)
        _ = await server.respond(to: Self.request(.GET, "/version"))
        _ = await server.respond(to: Self.request(.GET, "/healthz"))
        XCTAssertTrue(sink.events.isEmpty)
        let response = await server.respond(to: Self.request(.GET, "/api/v1/namespaces"))
        XCTAssertNotNil(response.headers.first(name: "Audit-Id"), "unaudited requests still get an ID")
        XCTAssertTrue(sink.events.isEmpty, "both stages are omitted")
    }

    func testAnImpersonatingRequestRecordsTheUserItActedAs() async throws {
        let sink = RecordingSink()
        let server = try await makeServer(sink: sink)
        let response = await server.respond(
            to: Self.request(
                .GET, "/api/v1/namespaces/default/configmaps",
                headers: ["Impersonate-User": "jane", "Impersonate-Group": "devs"]))
        let events = sink.events(try XCTUnwrap(response.headers.first(name: "Audit-Id")))
        XCTAssertEqual(events.map(\.stage), [.requestReceived, .responseComplete])
        // As upstream: RequestReceived is written before impersonation; `user` stays the authenticated user.
        XCTAssertNil(events.first?.impersonatedUser)
        let complete = try XCTUnwrap(events.last)
        XCTAssertEqual(complete.user?.name, "admin")
        XCTAssertEqual(complete.impersonatedUser?.name, "jane")
        XCTAssertEqual(complete.impersonatedUser?.groups, ["devs", "system:authenticated"])
        let line = String(decoding: complete.encodedLine(), as: UTF8.self)
        XCTAssertTrue(
            line.contains(#""impersonatedUser":{"username":"jane","groups":["devs","system:authenticated"]}"#), line)

        let plain = await server.respond(to: Self.request(.GET, "/api/v1/namespaces/default/configmaps"))
        let plainEvents = sink.events(try XCTUnwrap(plain.headers.first(name: "Audit-Id")))
        XCTAssertNil(plainEvents.last?.impersonatedUser)
        XCTAssertFalse(
            String(decoding: try XCTUnwrap(plainEvents.last).encodedLine(), as: UTF8.self).contains("impersonatedUser"))
    }

    func testWatchWritesResponseStartedThenResponseCompleteWhenTheStreamEnds() async throws {
        let sink = RecordingSink()
        let server = try await makeServer(sink: sink)
        // The response goes out of scope here, as in the server once the last chunk is written.
        let (auditID, reader) = try await { () async throws -> (String, Task<[UInt8]?, Never>) in
            let response = await server.respond(
                to: Self.request(.GET, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=0"))
            guard case .stream(let chunks) = response.body else { throw TestClusterError("a watch streams") }
            let reader = Task { () -> [UInt8]? in
                for await chunk in chunks { return chunk }
                return nil
            }
            return (try XCTUnwrap(response.headers.first(name: "Audit-Id")), reader)
        }()
        XCTAssertEqual(sink.events(auditID).map(\.stage), [.requestReceived, .responseStarted])
        XCTAssertEqual(sink.events(auditID).last?.responseStatus?.code, 200)
        XCTAssertEqual(sink.events(auditID).first?.verb, "watch")

        _ = await server.respond(
            to: Self.request(.POST, "/api/v1/namespaces/default/configmaps", body: Self.configMap("seen")))
        let first = await reader.value
        let chunk = try XCTUnwrap(first, "chunks pass through the audited stream")
        XCTAssertTrue(String(decoding: chunk, as: UTF8.self).contains("\"seen\""))
        // The reader stopped and nothing holds the stream any more: the watch is over.
        try await waitUntil { sink.events(auditID).count == 3 }
        XCTAssertEqual(sink.events(auditID).map(\.stage), [.requestReceived, .responseStarted, .responseComplete])
        XCTAssertEqual(sink.events(auditID).last?.responseStatus?.code, 200)
    }

    func testCancelledWatchCompletes() async throws {
        let sink = RecordingSink()
        let server = try await makeServer(sink: sink)
        let response = await server.respond(to: Self.request(.GET, "/api/v1/namespaces?watch=1"))
        guard case .stream(let chunks) = response.body else { return XCTFail("a watch streams") }
        let auditID = try XCTUnwrap(response.headers.first(name: "Audit-Id"))
        let reader = Task {
            for await _ in chunks {}
        }
        try await Task.sleep(for: .milliseconds(100))
        XCTAssertEqual(sink.events(auditID).count, 2)
        reader.cancel()
        try await waitUntil { sink.events(auditID).count == 3 }
        XCTAssertEqual(sink.events(auditID).last?.stage, .responseComplete)
    }

    func testFailedAuthenticationIsOneResponseStartedEventWithoutUser() async throws {
        let sink = RecordingSink()
        let server = try await makeServer(sink: sink)
        let response = await server.respond(
            to: Self.request(.GET, "/api/v1/pods", user: nil, headers: ["Authorization": "Bearer not-a-token"]))
        XCTAssertEqual(response.status, .unauthorized)
        let events = sink.events(try XCTUnwrap(response.headers.first(name: "Audit-Id")))
        XCTAssertEqual(events.map(\.stage), [.responseStarted])
        XCTAssertNil(events.first?.user)
        XCTAssertEqual(
            events.first?.responseStatus,
            AuditEvent.ResponseStatus(code: 401, message: "Authentication failed, attempted: bearer"))
        let line = String(decoding: try XCTUnwrap(events.first).encodedLine(), as: UTF8.self)
        XCTAssertTrue(line.contains(#""verb":"list","user":{},"sourceIPs""#), line)
    }

    func testAnnotationsAddedOnTheRequestPathAreLogged() async throws {
        let sink = RecordingSink()
        let auditor = Auditor(
            configuration: AuditConfiguration(policy: .metadataForEverything, sink: sink), metrics: nil)
        let request = Self.request(.GET, "/api/v1/namespaces/default/pods")
        let info = RequestInfo(method: request.method, path: request.path, query: request.query)
        let response = await auditor.audit(request, info: info) { _ in
            AuditContext.current?.annotate("authorization.k8s.io/decision", "allow")
            AuditContext.current?.annotate("authorization.k8s.io/reason", "RBAC: allowed by ClusterRoleBinding")
            AuditContext.current?.annotate("authorization.k8s.io/decision", "forbid")
            return .json(["kind": "PodList", "items": []])
        }
        let events = sink.events(response.headers.first(name: "Audit-Id") ?? "")
        XCTAssertTrue(events.first?.annotations.isEmpty ?? false)
        XCTAssertEqual(
            events.last?.annotations.map { "\($0.key)=\($0.value)" },
            [
                "authorization.k8s.io/decision=allow",
                "authorization.k8s.io/reason=RBAC: allowed by ClusterRoleBinding",
            ])
    }

    func testSourceIPsFollowForwardedHeadersAsUpstream() {
        func sources(_ headers: HTTPHeaders, remote: String = "10.0.0.9") -> [String] {
            Auditor.sourceIPs(HTTPRequest(method: .GET, uri: "/", headers: headers, remoteAddress: remote))
        }
        XCTAssertEqual(sources([:]), ["10.0.0.9"])
        XCTAssertEqual(
            sources(["X-Forwarded-For": "1.2.3.4, junk, 5.6.7.8", "X-Real-Ip": "1.2.3.4"]),
            ["1.2.3.4", "5.6.7.8", "10.0.0.9"])
        XCTAssertEqual(sources(["X-Real-Ip": "9.9.9.9"], remote: "9.9.9.9"), ["9.9.9.9"])
        XCTAssertEqual(sources(["X-Forwarded-For": "0:0::1"], remote: "not an address"), ["::1"])
    }

    func testWriteFailuresAreCountedInMetrics() async throws {
        let backend = AuditLogBackend(
            output: .file(AuditLogFile(path: "/dev/full", maxSizeBytes: 1 << 20, maxBackups: 0, maxAgeDays: 0)))
        let server = try await makeServer(sink: backend)
        for _ in 0..<3 { _ = await server.respond(to: Self.request(.GET, "/api/v1/namespaces")) }
        backend.flush()
        let metrics = await server.respond(to: Self.request(.GET, "/metrics"))
        guard case .bytes(let body) = metrics.body else { return XCTFail("metrics are bytes") }
        let text = String(decoding: body, as: UTF8.self)
        func value(_ series: String) -> Int? {
            text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap {
                Int($0.split(separator: " ")[1])
            }
        }
        XCTAssertEqual(value("apiserver_audit_event_total"), 7, "six events, and /metrics' own RequestReceived")
        // The /metrics request's own event may or may not have failed yet.
        XCTAssertGreaterThanOrEqual(value("apiserver_audit_error_total{plugin=\"log\"}") ?? 0, 6, text)
        backend.shutdown()
    }

    func waitUntil(timeout: Duration = .seconds(5), _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else { return XCTFail("condition not met in time") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
