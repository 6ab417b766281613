import Foundation
import TestSupport
import XCTest

/// A client's watch through kube-apiserver on a three-member etcd keeps every event, in order and
/// once, while etcd compacts and while the member the API server talks to is killed; a watch from a
/// compacted resourceVersion gets 410 Expired, and the relist that follows matches what was written.
final class EtcdWatchContinuityTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(EtcdProcess.isInstalled, "needs /usr/bin/etcd (apt-get install etcd-server)")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: Self.etcdctl), "needs /usr/bin/etcdctl")
    }

    static let etcdctl = "/usr/bin/etcdctl"
    static let collection = "/api/v1/namespaces/default/configmaps"

    /// One write the test made and the API server acknowledged (or not).
    struct Write: Sendable {
        var type: String
        var name: String
        /// The resourceVersion of the answer; nil when the request failed (the write may or may not have landed).
        var resourceVersion: Int64?
    }

    /// One event as the client saw it.
    struct Seen: Equatable, CustomStringConvertible {
        var type: String
        var name: String
        var resourceVersion: Int64
        var code: Int?
        var description: String { "\(type) \(name)@\(resourceVersion)" + (code.map { " (\($0))" } ?? "") }
    }

    func testAWatchSeesEveryWriteInOrderThroughCompactionAndAMemberKill() throws {
        let members = try EtcdProcess.startCluster(members: 3)
        let server = try TestCluster(
            address: "127.0.0.44",
            // A window of 10 changes, so the stale watch below is older than the watch cache holds.
            extraFlags: [
                "--etcd-servers=\(members.map(\.clientURL).joined(separator: ","))", "--default-watch-cache-size=10",
            ])

        let initialList = try EtcdAPIServerTests.curl(server, "GET", Self.collection)
        XCTAssertEqual(initialList.status, 200, initialList.body)
        let startVersion = try XCTUnwrap(Self.listRevision(initialList.body))
        // The server's own objects (kube-root-ca.crt) are there before the watch starts.
        let initial = try Self.listItems(initialList.body)
        let watch = try EtcdAPIServerTests.startWatch(
            server, "\(Self.collection)?watch=true&resourceVersion=\(startVersion)", seconds: 120)

        // One writer goes on throughout; the test compacts after 40 writes and kills a member after 80.
        let progress = WriteLog()
        let writing = EtcdAPIServerTests.runAsync { Self.writeWorkload(server, count: 150, log: progress) }
        try progress.wait(until: 40)
        let compactedAt = try XCTUnwrap(progress.lastAcknowledgedVersion)
        let compact = try TestCluster.run(
            Self.etcdctl, ["--endpoints=\(members[1].clientURL)", "compact", "\(compactedAt)"],
            environment: ["ETCDCTL_API": "3"])
        XCTAssertTrue(compact.stdout.contains("compacted revision \(compactedAt)"), compact.stdout + compact.stderr)

        // A watch from before both the compaction and the cache's window cannot be served: 410 Expired, as
        // upstream. (Within the window the cache serves it, as upstream's does.)
        let stale = try EtcdAPIServerTests.startWatch(
            server, "\(Self.collection)?watch=true&resourceVersion=\(startVersion)", seconds: 10)
        let expired = try Self.waitForEvents(stale, count: 1)
        XCTAssertEqual(expired.first?.type, "ERROR", "\(expired)")
        XCTAssertEqual(expired.first?.code, 410, "\(expired)")

        try progress.wait(until: 80)
        members[0].kill()  // the first endpoint: the member the API server and its watch stream use
        let writes = try writing()

        let acknowledged = writes.filter { $0.resourceVersion != nil }
        let unknown = writes.filter { $0.resourceVersion == nil }
        XCTAssertGreaterThan(acknowledged.count, 140, "writes failed: \(unknown.map { "\($0.type) \($0.name)" })")

        // The final state, read once every write is done; the watch must reach its revision.
        let finalList = try EtcdAPIServerTests.curl(server, "GET", Self.collection)
        XCTAssertEqual(finalList.status, 200, finalList.body)
        let listed = try Self.listItems(finalList.body)
        let lastWrite = acknowledged.compactMap(\.resourceVersion).max() ?? 0
        var seen = try Self.waitForEvents(watch, count: .max, timeout: 30) {
            $0.last.map { $0.resourceVersion >= lastWrite || $0.type == "ERROR" } ?? false
        }
        if let gone = seen.firstIndex(where: { $0.type == "ERROR" }) {
            // Allowed: the watch ended with 410; what it sent before must still be exact, and the relist
            // (checked below against every acknowledged write) is what the client continues from.
            XCTAssertEqual(seen[gone].code, 410, "\(seen[gone])")
            seen = Array(seen[..<gone])
        } else {
            // Every acknowledged write, as its own event, with the answer's resourceVersion.
            let seenSet = Set(seen.map { "\($0.type) \($0.name) \($0.resourceVersion)" })
            let missing = acknowledged.filter { !seenSet.contains("\($0.type) \($0.name) \($0.resourceVersion ?? 0)") }
            XCTAssertTrue(
                missing.isEmpty, "not seen: \(missing.map { "\($0.type) \($0.name)@\($0.resourceVersion ?? 0)" })")
            // Anything else seen must be a write whose answer was lost.
            let acknowledgedSet = Set(acknowledged.map { "\($0.type) \($0.name) \($0.resourceVersion ?? 0)" })
            let extra = seen.filter { !acknowledgedSet.contains("\($0.type) \($0.name) \($0.resourceVersion)") }
            let unknownSet = Set(unknown.map { "\($0.type) \($0.name)" })
            XCTAssertTrue(
                extra.allSatisfy { unknownSet.contains("\($0.type) \($0.name)") }, "unexpected events: \(extra)")
            // Replaying the watch gives exactly the final list.
            XCTAssertEqual(Self.replay(seen, from: initial), listed, "the watch and the final list disagree")
        }
        // In order and never repeated: resourceVersions strictly increase.
        for (earlier, later) in zip(seen, seen.dropFirst()) {
            XCTAssertLessThan(earlier.resourceVersion, later.resourceVersion, "\(earlier) then \(later)")
        }
        XCTAssertEqual(Set(seen.map(\.resourceVersion)).count, seen.count)

        // The relist holds every acknowledged write's outcome: the last acknowledged version of each
        // name, or its absence when it was deleted last.
        var expected = initial
        for write in writes {
            guard let version = write.resourceVersion else {
                expected[write.name] = nil
                continue
            }
            expected[write.name] = write.type == "DELETED" ? nil : version
        }
        let uncertain = Set(unknown.map(\.name))
        for (name, version) in expected where !uncertain.contains(name) {
            XCTAssertEqual(listed[name], version, "relist: \(name)")
        }
        for name in listed.keys where !uncertain.contains(name) {
            XCTAssertNotNil(expected[name], "relist holds \(name), which was deleted")
        }
        XCTAssertEqual(try EtcdAPIServerTests.curl(server, "GET", "/readyz").body, "ok")
        // The kill did break the server's etcd watch stream: what was checked above went through a resume.
        XCTAssertTrue(server.log.contains("etcd watch stream ended, resuming"), "no watch resume in the server's log")
    }

    // MARK: - workload

    /// Counts writes as they finish, so the test can act part-way through.
    final class WriteLog: @unchecked Sendable {
        private let condition = NSCondition()
        private var writes: [Write] = []

        func append(_ write: Write) {
            condition.lock()
            writes.append(write)
            condition.broadcast()
            condition.unlock()
        }

        func wait(until count: Int, timeout: TimeInterval = 60) throws {
            let deadline = Date().addingTimeInterval(timeout)
            condition.lock()
            defer { condition.unlock() }
            while writes.count < count {
                guard condition.wait(until: deadline) else {
                    throw TestClusterError("only \(writes.count) of \(count) writes after \(timeout) s")
                }
            }
        }

        var lastAcknowledgedVersion: Int64? {
            condition.lock()
            defer { condition.unlock() }
            return writes.compactMap(\.resourceVersion).max()
        }
    }

    /// Creates `count` ConfigMaps one after another, updating the previous one every third step and
    /// deleting an older one every fifth, so the stream carries ADDED, MODIFIED and DELETED.
    static func writeWorkload(_ server: TestCluster, count: Int, log: WriteLog) -> [Write] {
        var writes: [Write] = []
        func record(_ type: String, _ name: String, _ reply: EtcdAPIServerTests.Reply?) {
            let ok = reply.map { (200..<300).contains($0.status) } ?? false
            let write = Write(
                type: type, name: name, resourceVersion: ok ? reply.flatMap { objectVersion($0.body) } : nil)
            writes.append(write)
            log.append(write)
        }
        for index in 0..<count {
            let name = "cm-\(index)"
            let body =
                #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"\#(name)"},"data":{"i":"\#(index)"}}"#
            record("ADDED", name, try? EtcdAPIServerTests.curl(server, "POST", collection, body: body))
            if index % 3 == 2 {
                let previous = "cm-\(index - 1)"
                let update =
                    #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"\#(previous)"},"data":{"updated":"\#(index)"}}"#
                record(
                    "MODIFIED", previous,
                    try? EtcdAPIServerTests.curl(server, "PUT", "\(collection)/\(previous)", body: update))
            }
            if index % 5 == 4 {
                let older = "cm-\(index - 4)"
                record("DELETED", older, try? EtcdAPIServerTests.curl(server, "DELETE", "\(collection)/\(older)"))
            }
        }
        return writes
    }

    // MARK: - parsing

    static func listRevision(_ body: String) -> String? {
        let list = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        return (list?["metadata"] as? [String: Any])?["resourceVersion"] as? String
    }

    static func objectVersion(_ body: String) -> Int64? {
        let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        return ((object?["metadata"] as? [String: Any])?["resourceVersion"] as? String).flatMap { Int64($0) }
    }

    /// Name → resourceVersion of a list's items.
    static func listItems(_ body: String) throws -> [String: Int64] {
        let list = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        var items: [String: Int64] = [:]
        for item in list["items"] as? [[String: Any]] ?? [] {
            let metadata = item["metadata"] as? [String: Any]
            if let name = metadata?["name"] as? String,
                let version = (metadata?["resourceVersion"] as? String).flatMap({ Int64($0) })
            {
                items[name] = version
            }
        }
        return items
    }

    /// The state a client builds from a list and the events after it: name → resourceVersion.
    static func replay(_ events: [Seen], from initial: [String: Int64]) -> [String: Int64] {
        var state = initial
        for event in events {
            state[event.name] = event.type == "DELETED" ? nil : event.resourceVersion
        }
        return state
    }

    /// Reads the watch's file until `count` events arrived or `done` holds.
    static func waitForEvents(
        _ file: URL, count: Int, timeout: TimeInterval = 15, done: ([Seen]) -> Bool = { _ in false }
    ) throws -> [Seen] {
        let deadline = Date().addingTimeInterval(timeout)
        var events: [Seen] = []
        while Date() < deadline {
            let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
            events = text.split(separator: "\n").compactMap { line in
                guard let event = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    let type = event["type"] as? String, let object = event["object"] as? [String: Any]
                else { return nil }
                let metadata = object["metadata"] as? [String: Any]
                return Seen(
                    type: type, name: metadata?["name"] as? String ?? "",
                    resourceVersion: (metadata?["resourceVersion"] as? String).flatMap { Int64($0) } ?? 0,
                    code: object["code"] as? Int)
            }
            if events.count >= count || done(events) { return events }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return events
    }
}
