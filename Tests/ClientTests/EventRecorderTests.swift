import APIMachinery
import Foundation
import Logging
import TestSupport
import XCTest

@testable import Client

/// The recorder's decisions on a fake clock, and its events on the in-process API server.
final class EventRecorderTests: XCTestCase {
    private let regarding = ObjectReference(
        apiVersion: "v1", kind: "Pod", name: "web-0", namespace: "shop", uid: "0b7e4c1e-0000-4000-8000-000000000001")

    private func event(note: String = "Successfully assigned shop/web-0 to node-1") -> JSON {
        [
            "metadata": ["name": "web-0.1", "namespace": "shop"], "regarding": regarding.toJSON(),
            "reason": "Scheduled", "action": "Binding", "type": "Normal", "note": .string(note),
            "reportingController": "default-scheduler",
        ]
    }

    // MARK: The aggregator alone

    func testRepeatsFoldIntoOneSeriesWrittenAtMostEveryThirtySeconds() throws {
        let time = FakeTime()
        var aggregator = EventAggregator()
        XCTAssertEqual(aggregator.record(event(), now: time.now, wallNow: time.wallNow), .create(event()))
        for _ in 2...10 {
            time.advance(by: .seconds(1))
            XCTAssertNil(aggregator.record(event(), now: time.now, wallNow: time.wallNow))
        }
        XCTAssertEqual(aggregator.flush(now: time.now), [], "too soon after the create")
        time.advance(by: .seconds(21))
        let writes = aggregator.flush(now: time.now)
        guard writes.count == 1, case .updateSeries(let series) = writes[0] else {
            return XCTFail("expected one series update, got \(writes)")
        }
        XCTAssertEqual(series["series"]?["count"], 10)
        XCTAssertEqual(series["series"]?["lastObservedTime"], "2023-11-14T22:13:29.000000Z")
        XCTAssertEqual(series[path: "metadata", "name"], "web-0.1", "the series updates the first event")
        XCTAssertEqual(aggregator.flush(now: time.now), [], "nothing new to write")

        // An 11th occurrence more than 30 s after the last write goes out at once.
        time.advance(by: .seconds(30))
        guard case .updateSeries(let eleventh) = aggregator.record(event(), now: time.now, wallNow: time.wallNow)
        else { return XCTFail("expected an immediate series update") }
        XCTAssertEqual(eleventh["series"]?["count"], 11)
    }

    func testASeriesEndsAfterSixQuietMinutesAndTheNextOccurrenceIsANewEvent() {
        let time = FakeTime()
        var aggregator = EventAggregator()
        _ = aggregator.record(event(), now: time.now, wallNow: time.wallNow)
        time.advance(by: .seconds(5))
        XCTAssertNil(aggregator.record(event(), now: time.now, wallNow: time.wallNow))
        time.advance(by: .seconds(6 * 60))
        let final = aggregator.flush(now: time.now)
        XCTAssertEqual(final.count, 1, "the ended series' last count is written")
        XCTAssertEqual(aggregator.cachedEvents, 0)
        XCTAssertEqual(aggregator.record(event(), now: time.now, wallNow: time.wallNow), .create(event()))
    }

    func testTheSpamFilterLetsTwentyFiveThroughThenOneEveryFiveMinutes() {
        let time = FakeTime()
        var aggregator = EventAggregator()
        let admitted = (0..<100).filter {
            aggregator.record(event(note: "attempt \($0)"), now: time.now, wallNow: time.wallNow) != nil
        }
        XCTAssertEqual(admitted, Array(0..<25))
        time.advance(by: .seconds(299))
        XCTAssertNil(aggregator.record(event(note: "later"), now: time.now, wallNow: time.wallNow))
        time.advance(by: .seconds(1))
        XCTAssertNotNil(aggregator.record(event(note: "later still"), now: time.now, wallNow: time.wallNow))
        XCTAssertNil(aggregator.record(event(note: "and again"), now: time.now, wallNow: time.wallNow))

        // Another object has its own bucket.
        var other = event(note: "elsewhere")
        other.set(["regarding", "name"], to: "web-1")
        XCTAssertNotNil(aggregator.record(other, now: time.now, wallNow: time.wallNow))
    }

    func testNotesAreCutToTheAPILimitAtACharacterBoundary() {
        XCTAssertEqual(EventRecorder.truncated("short"), "short")
        let long = String(repeating: "é", count: 600)
        let cut = EventRecorder.truncated(long)
        XCTAssertEqual(cut.utf8.count, 1024)
        XCTAssertTrue(long.hasPrefix(cut))
    }

    func testUnreachableWritesAreKeptForTwelveTriesInABoundedList() {
        var retries = WriteRetries(limit: 2)
        let write = EventAggregator.Write.create(event())
        XCTAssertTrue(retries.add(write, tries: 1))
        XCTAssertEqual(retries.takeAll().map(\.tries), [1])
        XCTAssertEqual(retries.count, 0)
        XCTAssertTrue(retries.add(write, tries: 11))
        XCTAssertFalse(retries.add(write, tries: 12), "twelve tries, as upstream's maxTriesPerEvent")
        XCTAssertTrue(retries.add(write, tries: 2))
        XCTAssertTrue(retries.add(write, tries: 3))
        XCTAssertEqual(retries.takeAll().map(\.tries), [2, 3], "the oldest goes when the list is full")
    }

    func testAnEventForAnUnreachableServerIsHeldForRetryNotDropped() async throws {
        var configuration = try ClientConfiguration(server: "https://127.0.0.1:1")
        configuration.qps = -1
        let client = try RESTClient(configuration: configuration)
        let time = FakeTime()
        let recorder = EventRecorder(
            client: client, reportingController: "c", reportingInstance: "i", timeSource: time,
            logger: Logger(label: "event-tests") { _ in SwiftLogNoOpLogHandler() })
        let runner = Task { await recorder.run() }
        recorder.eventf(regarding: regarding, type: .normal, reason: "Started", action: "Start", note: "started")
        try await drain(recorder)
        XCTAssertEqual(recorder.retrying, 1)
        runner.cancel()
        await runner.value
        await client.shutdown()
    }

    // MARK: Against the API server

    private func setUp(time: any TimeSource = SystemTime()) async throws -> (RESTClient, EventRecorder, String) {
        let endpoint = try await LocalAPIServer.shared.start()
        var configuration = try ClientConfiguration.load(kubeconfigPath: endpoint.kubeconfigPath)
        configuration.qps = -1
        let client = try RESTClient(configuration: configuration)
        let namespace = uniqueNamespace("events")
        try await client.createNamespace(namespace)
        let recorder = EventRecorder(
            client: client, reportingController: "default-scheduler", reportingInstance: "default-scheduler-node-1",
            timeSource: time, logger: Logger(label: "event-tests") { _ in SwiftLogNoOpLogHandler() })
        return (client, recorder, namespace)
    }

    private func configMapReference(_ client: RESTClient, _ namespace: String) async throws -> ObjectReference {
        let created = try await client.postJSON(
            path: ResourcePath.path(namespace: namespace, resource: "configmaps"), configMap("settings", ["a": "b"]))
        return ObjectReference(to: try ConfigMap(json: created))
    }

    private func events(_ client: RESTClient, _ namespace: String) async throws -> [JSON] {
        try await client.getJSON(
            path: ResourcePath.path(group: "events.k8s.io", version: "v1", namespace: namespace, resource: "events")
        )["items"]?.arrayValue ?? []
    }

    private func drain(_ recorder: EventRecorder) async throws {
        for _ in 0..<200 where recorder.queued > 0 { try await Task.sleep(for: .milliseconds(25)) }
        XCTAssertEqual(recorder.queued, 0, "the recorder did not write its queue")
    }

    func testAnEventIsCreatedWithUpstreamsFields() async throws {
        let (client, recorder, namespace) = try await setUp()
        let runner = Task { await recorder.run() }
        let regarding = try await configMapReference(client, namespace)
        recorder.eventf(
            regarding: regarding, type: .warning, reason: "FailedMount", action: "Mounting",
            note: "configmap \"settings\" not found")
        try await drain(recorder)
        let written = try await events(client, namespace)
        XCTAssertEqual(written.count, 1)
        let event = try XCTUnwrap(written.first)
        XCTAssertEqual(event["reason"], "FailedMount")
        XCTAssertEqual(event["note"], "configmap \"settings\" not found")
        XCTAssertEqual(event["type"], "Warning")
        XCTAssertEqual(event["action"], "Mounting")
        XCTAssertEqual(event["reportingController"], "default-scheduler")
        XCTAssertEqual(event["reportingInstance"], "default-scheduler-node-1")
        XCTAssertEqual(event[path: "regarding", "kind"], "ConfigMap")
        XCTAssertEqual(event[path: "regarding", "apiVersion"], "v1")
        XCTAssertEqual(event[path: "regarding", "name"], "settings")
        XCTAssertEqual(event[path: "regarding", "namespace"], .string(namespace))
        XCTAssertEqual(event[path: "regarding", "uid"]?.stringValue, regarding.uid)
        XCTAssertNil(event["series"])
        let name = try XCTUnwrap(event[path: "metadata", "name"]?.stringValue)
        XCTAssertTrue(name.hasPrefix("settings."), name)
        XCTAssertNotNil(Int64(name.dropFirst("settings.".count), radix: 16), "the suffix is a hex timestamp")
        let eventTime = try XCTUnwrap(event["eventTime"]?.stringValue)
        XCTAssertEqual(eventTime.count, "2024-01-02T03:04:05.000000Z".count, "MicroTime: microseconds, UTC")
        XCTAssertNotNil(Timestamp.parse(eventTime))
        runner.cancel()
        await runner.value
        await client.shutdown()
    }

    func testTenRepeatsGiveOneEventWithASeriesCount() async throws {
        let time = FakeTime(wallNow: Date())
        let (client, recorder, namespace) = try await setUp(time: time)
        let runner = Task { await recorder.run() }
        let regarding = try await configMapReference(client, namespace)
        for _ in 0..<10 {
            recorder.eventf(regarding: regarding, type: .normal, reason: "Synced", action: "Sync", note: "synced")
        }
        try await drain(recorder)
        for _ in 0..<200 where time.sleeperCount == 0 { try await Task.sleep(for: .milliseconds(10)) }
        time.advance(by: .seconds(30))
        var written: [JSON] = []
        for _ in 0..<200 {
            written = try await events(client, namespace)
            if written.first?["series"] != nil { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        XCTAssertEqual(written.count, 1, "repeats must not create new events")
        XCTAssertEqual(written.first?[path: "series", "count"], 10)
        XCTAssertNotNil(written.first?[path: "series", "lastObservedTime"]?.stringValue)
        runner.cancel()
        await runner.value
        await client.shutdown()
    }

    func testAHundredDistinctEventsForOneObjectInABurstGiveTwentyFive() async throws {
        let (client, recorder, namespace) = try await setUp()
        let runner = Task { await recorder.run() }
        let regarding = try await configMapReference(client, namespace)
        for attempt in 0..<100 {
            recorder.eventf(
                regarding: regarding, type: .warning, reason: "BackOff", action: "Retrying", note: "attempt \(attempt)")
        }
        try await drain(recorder)
        let written = try await events(client, namespace)
        XCTAssertEqual(written.count, 25)
        XCTAssertEqual(Set(written.compactMap { $0[path: "metadata", "name"]?.stringValue }).count, 25)
        XCTAssertEqual(Set(written.compactMap { $0["note"]?.stringValue }), Set((0..<25).map { "attempt \($0)" }))
        runner.cancel()
        await runner.value
        await client.shutdown()
    }
}
