import APIMachinery
import Logging
import NIOCore
import TestSupport
import XCTest

@testable import Client

/// Typed verbs against the in-process API server, and the decoding of what comes back.
final class ResourceClientTests: XCTestCase {
    func testTypedVerbsRoundTripModelsAndThrowStatusErrors() async throws {
        let endpoint = try await LocalAPIServer.shared.start()
        let client = try RESTClient(kubeconfigPath: endpoint.kubeconfigPath)
        let namespace = uniqueNamespace("typed")
        try await client.createNamespace(namespace)
        let configMaps = ResourceClient<ConfigMap>(client: client, namespace: namespace)

        let created = try await configMaps.create(ConfigMap(data: ["color": "blue"], metadata: ObjectMeta(name: "c")))
        XCTAssertEqual(created.metadata.namespace, namespace)
        XCTAssertNotNil(created.metadata.uid)
        let fetched = try await configMaps.get("c")
        XCTAssertEqual(fetched.data, ["color": "blue"])

        var changed = fetched
        changed.data["color"] = "green"
        let updated = try await configMaps.update(changed)
        XCTAssertEqual(updated.data["color"], "green")
        do {
            _ = try await configMaps.update(fetched)
            XCTFail("a stale update succeeded")
        } catch let error as StatusError {
            XCTAssertEqual(error.code, 409)
        }

        let patched = try await configMaps.patch("c", ["data": ["size": "large"]])
        XCTAssertEqual(patched.data, ["color": "green", "size": "large"])
        let dryRun = try await configMaps.create(ConfigMap(metadata: ObjectMeta(name: "ghost")), dryRun: true)
        XCTAssertEqual(dryRun.metadata.name, "ghost")

        let page = try await configMaps.list(limit: 1)
        XCTAssertEqual(page.items.count, 1)
        XCTAssertNotNil(page.continueToken, "two ConfigMaps (ours and kube-root-ca.crt) need two pages of one")
        let all = try await configMaps.list()
        XCTAssertEqual(all.items.compactMap(\.metadata.name).sorted(), ["c", "kube-root-ca.crt"])

        var preconditioned = DeleteOptions()
        preconditioned.preconditions = Preconditions(uid: "not-the-uid")
        do {
            try await configMaps.delete("c", options: preconditioned)
            XCTFail("a delete with a wrong uid precondition succeeded")
        } catch let error as StatusError {
            XCTAssertEqual(error.code, 409)
        }
        try await configMaps.delete("c")
        do {
            _ = try await configMaps.get("c")
            XCTFail("the ConfigMap survived its deletion")
        } catch let error as StatusError {
            XCTAssertEqual(error.statusReason, .notFound)
        }
        await client.shutdown()
    }

    func testWatchEventsDecodeAndMalformedObjectsAreSkipped() {
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let good = WatchEvent(
            type: .modified, object: ["kind": "ConfigMap", "metadata": ["name": "a", "resourceVersion": "9"]])
        guard case .modified(let object) = ResourceClient<ConfigMap>.change(good, logger: logger) else {
            return XCTFail("a valid event did not decode")
        }
        XCTAssertEqual(object.metadata.resourceVersion, "9")
        let malformed = WatchEvent(type: .added, object: ["kind": "ConfigMap", "data": 5])
        XCTAssertNil(ResourceClient<ConfigMap>.change(malformed, logger: logger))
        let bookmark = WatchEvent(type: .bookmark, object: ["metadata": ["resourceVersion": "12"]])
        guard case .bookmark(let version) = ResourceClient<ConfigMap>.change(bookmark, logger: logger) else {
            return XCTFail("a bookmark did not decode")
        }
        XCTAssertEqual(version, "12")
        let expired = WatchEvent(type: .error, object: ["kind": "Status", "code": 410, "reason": "Expired"])
        guard case .error(let status) = ResourceClient<ConfigMap>.change(expired, logger: logger) else {
            return XCTFail("an ERROR event did not decode")
        }
        XCTAssertEqual(status.code, 410)
    }

    func testAWatchDecodesEachChangeAndCanLeaveManagedFieldsOut() async throws {
        let endpoint = try await LocalAPIServer.shared.start()
        let client = try RESTClient(kubeconfigPath: endpoint.kubeconfigPath)
        let namespace = uniqueNamespace("typed-watch")
        try await client.createNamespace(namespace)
        var stripping = ResourceClient<ConfigMap>(client: client, namespace: namespace)
        stripping.dropsManagedFields = true
        let keeping = ResourceClient<ConfigMap>(client: client, namespace: namespace)
        let stripped = try await stripping.watch()
        let kept = try await keeping.watch()
        _ = try await keeping.create(ConfigMap(data: ["a": "1"], metadata: ObjectMeta(name: "c")), fieldManager: "me")
        _ = try await keeping.patch("c", ["data": ["a": "2"]])

        for (changes, hasManagedFields) in [(stripped, false), (kept, true)] {
            var iterator = changes.makeAsyncIterator()
            var seen: [String] = []
            while seen.count < 2, let change = try await iterator.next() {
                switch change {
                case .added(let object), .modified(let object):
                    guard object.metadata.name == "c" else { continue }
                    seen.append(object.data["a"] ?? "")
                    XCTAssertEqual(object.metadata.managedFields.isEmpty, !hasManagedFields)
                    XCTAssertEqual(object.metadata.namespace, namespace, "the rest of metadata is kept")
                default: continue
                }
            }
            XCTAssertEqual(seen, ["1", "2"])
        }
        await client.shutdown()
    }

    func testTheWatchDecoderSplitsLinesAnywhereAndEndsOnABadOne() async throws {
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let (changes, continuation) = WatchChanges<ConfigMap>.makeStream()
        let decoder = WatchChangeDecoder<ConfigMap>(
            continuation: continuation, skipping: ResourceClient<ConfigMap>.managedFieldsPath, logger: logger)
        let body = Array(
            (#"{"type":"ADDED","object":{"metadata":{"name":"a","managedFields":[{"manager":"m"}]}}}"# + "\n"
                + #"{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"7"}}}"# + "\n"
                + #"{"type":"DELETED","object":{"metadata":{"name":"a"}}}"#).utf8)
        for start in stride(from: 0, to: body.count, by: 5) {
            decoder.receive(ByteBuffer(bytes: body[start..<min(start + 5, body.count)]))
        }
        decoder.finish(nil)
        XCTAssertTrue(decoder.hasEnded)
        var names: [String] = []
        for try await change in changes {
            switch change {
            case .added(let object):
                XCTAssertEqual(object.metadata.managedFields, [])
                names.append("+" + (object.metadata.name ?? ""))
            case .deleted(let object): names.append("-" + (object.metadata.name ?? ""))
            case .bookmark(let version): names.append("@" + version)
            default: XCTFail("unexpected \(change)")
            }
        }
        XCTAssertEqual(names, ["+a", "@7", "-a"], "the last line needs no newline")

        let (bad, badContinuation) = WatchChanges<ConfigMap>.makeStream()
        let failing = WatchChangeDecoder<ConfigMap>(continuation: badContinuation, skipping: [], logger: logger)
        failing.receive(ByteBuffer(string: "{\"type\":\"ADDED\"}\n"))
        XCTAssertTrue(failing.hasEnded)
        do {
            for try await _ in bad { XCTFail("a change from a bad line") }
            XCTFail("the watch ended cleanly")
        } catch let error as ClientError {
            XCTAssertEqual(error, .invalidWatchEvent("no \"object\""))
        }
    }
}
