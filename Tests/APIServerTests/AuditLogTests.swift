import APIMachinery
import Foundation
import XCTest

@testable import APIServer

/// The audit log backend: lumberjack's rotation and clean-up, the event's JSON line, the writer thread.
final class AuditLogTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try FileManager.default.removeItem(at: directory)
    }

    /// A clock that moves one second per reading, so every rotation gets its own backup name.
    final class SteppingClock: @unchecked Sendable {
        var current: Date
        init(_ start: Date) { current = start }
        func now() -> Date {
            current = current.addingTimeInterval(1)
            return current
        }
    }

    func files() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    }

    func read(_ name: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }

    func testRotationKeepsMaxBackupsNewestAndNamesThemAsLumberjack() throws {
        let start = Date(timeIntervalSince1970: 1_700_000_000.25)  // 2023-11-14T22:13:20.250Z
        let clock = SteppingClock(start)
        let log = AuditLogFile(
            path: directory.appendingPathComponent("audit.log").path, maxSizeBytes: 100, maxBackups: 2,
            maxAgeDays: 0, now: clock.now)
        // 40-byte lines: two fit in 100 bytes, the third rotates.
        for index in 0..<9 {
            try log.write(Array("line \(index) ".utf8) + Array(repeating: UInt8(ascii: "x"), count: 32) + [10])
        }
        log.close()
        let names = try files()
        XCTAssertEqual(names.count, 3, "the live file and two backups: \(names)")
        XCTAssertEqual(names.last, "audit.log")
        // Lines 0-1, 2-3, 4-5 and 6-7 were rotated out at the clock's 1st to 4th readings; the two newest stay.
        XCTAssertEqual(
            Array(names.prefix(2)), ["audit-2023-11-14T22-13-23.250.log", "audit-2023-11-14T22-13-24.250.log"])
        XCTAssertTrue(try read(names[0]).hasPrefix("line 4 "))
        XCTAssertTrue(try read(names[1]).hasPrefix("line 6 "))
        XCTAssertTrue(try read("audit.log").hasPrefix("line 8 "))
        for name in names { XCTAssertLessThanOrEqual(try read(name).utf8.count, 100, name) }
    }

    func testMaxAgeDeletesBackdatedBackupsAndLeavesOtherFiles() throws {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let path = directory.appendingPathComponent("apiserver.log").path
        let old = AuditLogFile.formatBackupTime(now.addingTimeInterval(-31 * 24 * 3600))
        let recent = AuditLogFile.formatBackupTime(now.addingTimeInterval(-29 * 24 * 3600))
        for name in ["apiserver-\(old).log", "apiserver-\(recent).log", "apiserver-notes.log", "other-\(old).log"] {
            try "backup\n".write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let log = AuditLogFile(path: path, maxSizeBytes: 1 << 20, maxBackups: 0, maxAgeDays: 30, now: { now })
        try log.write(Array("first\n".utf8))
        XCTAssertEqual(
            try files(),
            ["apiserver-\(recent).log", "apiserver-notes.log", "apiserver.log", "other-\(old).log"].sorted())
    }

    func testMaxBackupsAndMaxAgeTogether() throws {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        for days in [1, 2, 3, 40] {
            let name = "audit-\(AuditLogFile.formatBackupTime(now.addingTimeInterval(-Double(days) * 86400))).json"
            try "x\n".write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let log = AuditLogFile(
            path: directory.appendingPathComponent("audit.json").path, maxSizeBytes: 1 << 20, maxBackups: 2,
            maxAgeDays: 30, now: { now })
        try log.write(Array("x\n".utf8))
        let expected = [1, 2].map {
            "audit-\(AuditLogFile.formatBackupTime(now.addingTimeInterval(-Double($0) * 86400))).json"
        }
        XCTAssertEqual(try files(), (expected + ["audit.json"]).sorted())
    }

    func testExistingFileIsAppendedOrRotatedAtOpen() throws {
        let path = directory.appendingPathComponent("audit.log").path
        try String(repeating: "a", count: 50).write(toFile: path, atomically: true, encoding: .utf8)
        let clock = SteppingClock(Date(timeIntervalSince1970: 1_700_000_000))
        let appending = AuditLogFile(path: path, maxSizeBytes: 100, maxBackups: 0, maxAgeDays: 0, now: clock.now)
        try appending.write(Array("bb\n".utf8))
        appending.close()
        XCTAssertEqual(try read("audit.log"), String(repeating: "a", count: 50) + "bb\n")
        // 53 bytes plus 47 reach the limit, which lumberjack treats as full at open.
        let rotating = AuditLogFile(path: path, maxSizeBytes: 100, maxBackups: 0, maxAgeDays: 0, now: clock.now)
        try rotating.write(Array(repeating: UInt8(ascii: "c"), count: 47))
        XCTAssertEqual(try files().count, 2)
        XCTAssertEqual(try read("audit.log"), String(repeating: "c", count: 47))
    }

    func testWriteLargerThanTheLimitFails() {
        let log = AuditLogFile(
            path: directory.appendingPathComponent("a.log").path, maxSizeBytes: 10, maxBackups: 0, maxAgeDays: 0)
        XCTAssertThrowsError(try log.write(Array(repeating: 1, count: 11))) { error in
            XCTAssertEqual("\(error)", "write length 11 exceeds maximum file size 10")
        }
    }

    func testBackupTimeRoundTripsAndRejectsOtherSuffixes() {
        let date = Date(timeIntervalSince1970: 1_234_567_890.123)
        XCTAssertEqual(AuditLogFile.formatBackupTime(date), "2009-02-13T23-31-30.123")
        XCTAssertEqual(
            AuditLogFile.parseBackupTime("2009-02-13T23-31-30.123")?.timeIntervalSince1970 ?? 0,
            1_234_567_890.123, accuracy: 0.0001)
        for bad in ["2009-02-13T23:31:30.123", "2009-02-13T23-31-30", "notes", "2009-13-13T23-31-30.123"] {
            XCTAssertNil(AuditLogFile.parseBackupTime(Substring(bad)), bad)
        }
    }

    static func sampleEvent(stage: AuditStage = .responseComplete) -> AuditEvent {
        var event = AuditEvent(
            level: .metadata, auditID: "0b7a4c9e-2d1f-4a8b-9c3e-5f6a7b8c9d0e", stage: stage,
            requestURI: "/api/v1/namespaces/default/pods?limit=500", verb: "list",
            user: UserInfo(name: "admin", groups: ["system:masters", "system:authenticated"]),
            sourceIPs: ["127.0.0.1"], userAgent: "kubectl/v1.32.0 (linux/amd64) kubernetes/abcdef",
            objectRef: AuditEvent.ObjectReference(resource: "pods", namespace: "default", apiVersion: "v1"),
            responseStatus: AuditEvent.ResponseStatus(code: 200), requestReceivedTimestamp: 1_700_000_000_000_001,
            stageTimestamp: 1_700_000_000_250_000)
        event.annotations = [("authorization.k8s.io/decision", "allow"), ("authorization.k8s.io/reason", "")]
        return event
    }

    func testEventLineMatchesUpstreamsShape() {
        let line = String(decoding: Self.sampleEvent().encodedLine(), as: UTF8.self)
        XCTAssertEqual(
            line,
            #"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"0b7a4c9e-2d1f-4a8b-9c3e-5f6a7b8c9d0e","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods?limit=500","verb":"list","user":{"username":"admin","groups":["system:masters","system:authenticated"]},"sourceIPs":["127.0.0.1"],"userAgent":"kubectl/v1.32.0 (linux/amd64) kubernetes/abcdef","objectRef":{"resource":"pods","namespace":"default","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2023-11-14T22:13:20.000001Z","stageTimestamp":"2023-11-14T22:13:20.250000Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":""}}"#
                + "\n")
    }

    func testBodiesAreLoggedAsJSONWithoutManagedFieldsWhenAsked() throws {
        var event = Self.sampleEvent()
        event.level = .requestResponse
        event.requestBody = AuditEvent.RequestBody(
            bytes: Array(#"{"metadata":{"name":"a","managedFields":[{"manager":"kubectl"}]}}"#.utf8), isProtobuf: false)
        event.responseObject = Array(
            #"{"kind":"PodList","items":[{"metadata":{"name":"a","managedFields":[]}}]}"#.utf8)
        event.omitManagedFields = true
        let logged = try JSON.parse(event.encodedLine())
        XCTAssertEqual(logged["requestObject"], ["metadata": ["name": "a"]])
        XCTAssertEqual(logged["responseObject"]?["items"], [["metadata": ["name": "a"]]])
        event.requestBody = AuditEvent.RequestBody(bytes: Array("not json".utf8), isProtobuf: false)
        XCTAssertNil(try JSON.parse(event.encodedLine())["requestObject"], "bodies that are not JSON are left out")
    }

    func testBackendWritesEveryEventInOrderAndRotates() throws {
        let path = directory.appendingPathComponent("audit.log").path
        let lineLength = Self.sampleEvent().encodedLine().count + 4
        let clock = SteppingClock(Date(timeIntervalSince1970: 1_700_000_000))
        let backend = AuditLogBackend(
            output: .file(
                AuditLogFile(
                    path: path, maxSizeBytes: Int64(lineLength * 10), maxBackups: 0, maxAgeDays: 0, now: clock.now)))
        for index in 0..<35 {
            var event = Self.sampleEvent()
            event.auditID = "id-\(index)"
            backend.process(event)
        }
        backend.shutdown()
        // Backups sort by their time, and the live file is last: reading them in order gives every event in order.
        var identifiers: [String] = []
        let names = try files()
        for name in names.filter({ $0 != "audit.log" }) + ["audit.log"] {
            for line in try read(name).split(separator: "\n") {
                identifiers.append(try JSON.parse(String(line))["auditID"]?.stringValue ?? "")
            }
        }
        XCTAssertEqual(identifiers, (0..<35).map { "id-\($0)" })
        XCTAssertEqual(names.count, 4, "35 lines at 10 per file: three backups and the live file")
    }

    func testFullQueueDropsInsteadOfBlocking() {
        // /dev/full makes every write fail with ENOSPC, and a one-slot queue overflows at once.
        let backend = AuditLogBackend(
            output: .file(AuditLogFile(path: "/dev/full", maxSizeBytes: 1 << 20, maxBackups: 0, maxAgeDays: 0)),
            capacity: 1)
        let started = ContinuousClock.now
        for _ in 0..<10_000 { backend.process(Self.sampleEvent()) }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(2), "process never waits for the disk")
        backend.shutdown()
    }
}
