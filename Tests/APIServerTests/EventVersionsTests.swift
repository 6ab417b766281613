import APIMachinery
import Foundation
import TestSupport
import XCTest

@testable import APIServer

/// core/v1 and events.k8s.io/v1 Events are one stored kind served in two shapes, as upstream: what one
/// group writes the other reads, watches, selects and deletes in its own shape, with kubectl.
final class EventVersionsTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.83" }

    static let groupPath = "/apis/events.k8s.io/v1/namespaces"
    static let corePath = "/api/v1/namespaces"

    /// A namespace of the test's own, so lists and watches see only its events.
    func namespace(_ name: String) throws -> String {
        expectSuccess(try cluster.kubectl(["create", "namespace", name]))
        return name
    }

    /// An events.k8s.io/v1 event as the scheduler's recorder writes one; `omit` drops top-level fields.
    func groupEvent(
        _ name: String, namespace: String, about pod: String, uid: String = "", reason: String = "Scheduled",
        type: String = "Normal", series: Int? = nil, omit: Set<String> = []
    ) -> String {
        var fields: [(String, String)] = [
            ("eventTime", "\"\(Self.eventTime)\""), ("reportingController", "default-scheduler"),
            ("reportingInstance", "default-scheduler-node-1"), ("action", "Binding"), ("reason", reason),
            ("type", type), ("note", "\"Successfully assigned \(namespace)/\(pod) to node-1\""),
            (
                "regarding",
                "{kind: Pod, apiVersion: v1, name: \(pod), namespace: \(namespace)\(uid.isEmpty ? "" : ", uid: \(uid)")}"
            ),
        ]
        if let series { fields.append(("series", "{count: \(series), lastObservedTime: \"\(Self.microTime())\"}")) }
        let body = fields.filter { !omit.contains($0.0) }.map { "\($0.0): \($0.1)" }.joined(separator: "\n")
        return
            "apiVersion: events.k8s.io/v1\nkind: Event\nmetadata: {name: \(name), namespace: \(namespace)}\n\(body)\n"
    }

    /// A core/v1 event as a kubelet writes one (no eventTime: upstream's legacy shape).
    func coreEvent(_ name: String, namespace: String, about pod: String, reason: String = "Pulled") -> String {
        """
        apiVersion: v1
        kind: Event
        metadata: {name: \(name), namespace: \(namespace)}
        involvedObject: {kind: Pod, apiVersion: v1, name: \(pod), namespace: \(namespace), fieldPath: "spec.containers{web}"}
        reason: \(reason)
        message: Pulled image "nginx:1.27"
        type: Warning
        source: {component: kubelet, host: node-1}
        firstTimestamp: "2026-01-01T00:00:00Z"
        lastTimestamp: "2026-01-01T00:05:00Z"
        count: 2

        """
    }

    /// One eventTime for every event, so re-applying an event does not change it (it is immutable).
    static let eventTime = microTime()

    static func microTime() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'"
        return formatter.string(from: Date())
    }

    func create(_ manifest: String) throws {
        expectSuccess(try cluster.kubectl(["create", "-f", "-"], input: manifest))
    }

    func getJSON(_ path: String) throws -> JSON {
        try JSON.parse(Array(expectSuccess(try cluster.kubectl(["get", "--raw", path])).utf8))
    }

    func testAnEventsV1EventShowsInKubectlGetEventsAndDescribePod() throws {
        let ns = try namespace("ev-describe")
        expectSuccess(try cluster.kubectl(["run", "web", "--image=nginx:1.27", "-n", ns]))
        let uid = expectSuccess(try cluster.kubectl(["get", "pod", "web", "-n", ns, "-o", "jsonpath={.metadata.uid}"]))
        try create(groupEvent("web.scheduled", namespace: ns, about: "web", uid: uid, series: 3))

        let core = try getJSON("\(Self.corePath)/\(ns)/events/web.scheduled")
        XCTAssertEqual(core["apiVersion"], "v1")
        XCTAssertEqual(core["message"], .string("Successfully assigned \(ns)/web to node-1"))
        XCTAssertEqual(core["reason"], "Scheduled")
        XCTAssertEqual(core["type"], "Normal")
        XCTAssertEqual(core["involvedObject"]?["name"], "web")
        XCTAssertEqual(core["involvedObject"]?["uid"], .string(uid))
        XCTAssertEqual(core["reportingComponent"], "default-scheduler")
        XCTAssertEqual(core["series"]?["count"], 3)
        XCTAssertNil(core["note"])
        XCTAssertNil(core["regarding"])

        let wide = expectSuccess(try cluster.kubectl(["get", "events", "-n", ns, "-o", "wide"]))
        let row = try XCTUnwrap(wide.split(separator: "\n").last { $0.contains("web.scheduled") })
        let cells = row.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        XCTAssertEqual(Array(cells[1...4]), ["Normal", "Scheduled", "pod/web", "default-scheduler,"], String(row))
        XCTAssertTrue(row.contains("default-scheduler, default-scheduler-node-1"), String(row))
        XCTAssertTrue(row.contains("Successfully assigned \(ns)/web to node-1"), String(row))
        XCTAssertEqual(cells[cells.count - 2], "3", "count comes from the series: \(row)")

        let groupTable = expectSuccess(try cluster.kubectl(["get", "events.v1.events.k8s.io", "-n", ns]))
        XCTAssertTrue(groupTable.contains("Scheduled   pod/web"), groupTable)

        let described = expectSuccess(try cluster.kubectl(["describe", "pod", "web", "-n", ns]))
        let events = try XCTUnwrap(described.components(separatedBy: "Events:").last)
        XCTAssertTrue(events.contains("Normal"), events)
        XCTAssertTrue(events.contains("Scheduled"), events)
        XCTAssertTrue(events.contains("default-scheduler"), events)
        XCTAssertTrue(events.contains("Successfully assigned \(ns)/web to node-1"), events)
    }

    func testACoreEventIsReadableAsAnEventsV1Event() throws {
        let ns = try namespace("ev-core")
        try create(coreEvent("web.pulled", namespace: ns, about: "web"))

        let event = try getJSON("\(Self.groupPath)/\(ns)/events/web.pulled")
        XCTAssertEqual(event["apiVersion"], "events.k8s.io/v1")
        XCTAssertEqual(event["kind"], "Event")
        XCTAssertEqual(event["note"], "Pulled image \"nginx:1.27\"")
        XCTAssertEqual(event["regarding"]?["name"], "web")
        XCTAssertEqual(event["regarding"]?["fieldPath"], "spec.containers{web}")
        XCTAssertEqual(event["deprecatedSource"], ["component": "kubelet", "host": "node-1"])
        XCTAssertEqual(event["deprecatedFirstTimestamp"], "2026-01-01T00:00:00Z")
        XCTAssertEqual(event["deprecatedLastTimestamp"], "2026-01-01T00:05:00Z")
        XCTAssertEqual(event["deprecatedCount"], 2)
        for coreField in ["message", "involvedObject", "source", "firstTimestamp", "lastTimestamp", "count"] {
            XCTAssertNil(event[coreField], coreField)
        }

        let list = try getJSON("\(Self.groupPath)/\(ns)/events")
        XCTAssertEqual(list["apiVersion"], "events.k8s.io/v1")
        XCTAssertEqual(list["kind"], "EventList")
        XCTAssertEqual(
            list["items"]?.arrayValue?.compactMap { $0["note"]?.stringValue }, ["Pulled image \"nginx:1.27\""])
        XCTAssertEqual(list["items"]?.arrayValue?.first?["apiVersion"], "events.k8s.io/v1")
    }

    /// Watches from a resourceVersion before two writes, one per group, ended by `timeoutSeconds`.
    func testWatchesOfEachGroupSeeTheOthersWritesInTheirOwnShape() throws {
        let ns = try namespace("ev-watch")
        let since = try XCTUnwrap(
            try getJSON("\(Self.corePath)/\(ns)/events")["metadata"]?["resourceVersion"]?.stringValue)
        try create(coreEvent("from-core", namespace: ns, about: "web"))
        try create(groupEvent("from-group", namespace: ns, about: "web"))

        func watch(_ path: String) throws -> [JSON] {
            let output = expectSuccess(
                try cluster.kubectl([
                    "get", "--raw", "\(path)/\(ns)/events?watch=true&resourceVersion=\(since)&timeoutSeconds=1",
                ]))
            return try output.split(separator: "\n").map { try JSON.parse(Array($0.utf8)) }
        }
        let group = try watch(Self.groupPath)
        XCTAssertEqual(group.map { $0["type"] }, ["ADDED", "ADDED"])
        XCTAssertEqual(group.map { $0["object"]?["metadata"]?["name"] }, ["from-core", "from-group"])
        XCTAssertEqual(group.map { $0["object"]?["apiVersion"] }, ["events.k8s.io/v1", "events.k8s.io/v1"])
        XCTAssertEqual(group.first?["object"]?["note"], "Pulled image \"nginx:1.27\"")
        XCTAssertEqual(group.first?["object"]?["deprecatedCount"], 2)

        let core = try watch(Self.corePath)
        XCTAssertEqual(core.map { $0["object"]?["metadata"]?["name"] }, ["from-core", "from-group"])
        XCTAssertEqual(core.map { $0["object"]?["apiVersion"] }, ["v1", "v1"])
        XCTAssertEqual(core.last?["object"]?["message"], .string("Successfully assigned \(ns)/web to node-1"))
        XCTAssertEqual(core.last?["object"]?["reportingComponent"], "default-scheduler")
        XCTAssertNil(core.last?["object"]?["note"])
    }

    func testFieldSelectorsOfEachGroup() throws {
        let ns = try namespace("ev-select")
        try create(groupEvent("alpha.started", namespace: ns, about: "alpha", reason: "Started"))
        try create(coreEvent("beta.pulled", namespace: ns, about: "beta", reason: "Pulled"))

        func names(_ path: String, _ selector: String) throws -> [String] {
            let list = try getJSON("\(path)/\(ns)/events?fieldSelector=\(selector)")
            return list["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } ?? []
        }
        XCTAssertEqual(try names(Self.groupPath, "regarding.name%3Dbeta"), ["beta.pulled"])
        XCTAssertEqual(try names(Self.groupPath, "reason%3DStarted"), ["alpha.started"])
        XCTAssertEqual(try names(Self.groupPath, "type%3DWarning"), ["beta.pulled"])
        XCTAssertEqual(try names(Self.groupPath, "reportingController%3Ddefault-scheduler"), ["alpha.started"])
        XCTAssertEqual(try names(Self.corePath, "involvedObject.name%3Dalpha"), ["alpha.started"])
        XCTAssertEqual(try names(Self.corePath, "reason%3DPulled"), ["beta.pulled"])
        XCTAssertEqual(try names(Self.corePath, "type%3DNormal"), ["alpha.started"])
        XCTAssertEqual(try names(Self.corePath, "source%3Ddefault-scheduler"), ["alpha.started"])
        XCTAssertEqual(
            expectSuccess(
                try cluster.kubectl([
                    "get", "events", "-n", ns, "--field-selector", "involvedObject.name=beta", "-o", "name",
                ])
            ), "event/beta.pulled\n")

        expectFailure(
            try cluster.kubectl([
                "get", "--raw", "\(Self.groupPath)/\(ns)/events?fieldSelector=involvedObject.name%3Dbeta",
            ]),
            "Error from server (BadRequest): \"involvedObject.name\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
        )
        expectFailure(
            try cluster.kubectl(["get", "--raw", "\(Self.corePath)/\(ns)/events?fieldSelector=regarding.name%3Dbeta"]),
            "Error from server (BadRequest): field label not supported: regarding.name")
    }

    func testEventsV1WritesGetUpstreamsValidation() throws {
        let ns = try namespace("ev-invalid")
        expectFailure(
            try cluster.kubectl(
                ["create", "-f", "-"], input: groupEvent("no-time", namespace: ns, about: "web", omit: ["eventTime"])),
            "The Event \"no-time\" is invalid: eventTime: Required value")
        let missing = groupEvent("no-reporter", namespace: ns, about: "web", omit: ["reportingController", "action"])
        let output = try cluster.kubectl(["create", "-f", "-"], input: missing)
        XCTAssertNotEqual(output.status, 0)
        XCTAssertTrue(output.stderr.hasPrefix("The Event \"no-reporter\" is invalid: \n"), output.stderr)
        XCTAssertTrue(output.stderr.contains("* reportingController: Required value\n"), output.stderr)
        XCTAssertTrue(output.stderr.contains("* action: Required value"), output.stderr)
        expectFailure(
            try cluster.kubectl(
                ["create", "-f", "-"], input: groupEvent("once", namespace: ns, about: "web", series: 1)),
            "The Event \"once\" is invalid: series.count: Invalid value: \"\": should be at least 2")

        // The same fields are optional in core/v1 for events without an eventTime, as upstream keeps them.
        try create(coreEvent("legacy", namespace: ns, about: "web"))
        // Updates through events.k8s.io may not change what happened, only the series.
        try create(groupEvent("fixed", namespace: ns, about: "web"))
        expectFailure(
            try cluster.kubectl([
                "patch", "events.v1.events.k8s.io", "fixed", "-n", ns, "--type=merge", "-p", #"{"note":"changed"}"#,
            ]),
            "The Event \"fixed\" is invalid: message: Invalid value: \"changed\": field is immutable")
    }

    func testDeletingThroughOneGroupRemovesTheEventFromTheOther() throws {
        let ns = try namespace("ev-delete")
        try create(groupEvent("grouped", namespace: ns, about: "web"))
        try create(coreEvent("legacy", namespace: ns, about: "web"))
        expectSuccess(try cluster.kubectl(["delete", "events", "grouped", "-n", ns]))
        expectFailure(
            try cluster.kubectl(["get", "events.v1.events.k8s.io", "grouped", "-n", ns]),
            "Error from server (NotFound): events.events.k8s.io \"grouped\" not found")
        expectSuccess(try cluster.kubectl(["delete", "events.v1.events.k8s.io", "legacy", "-n", ns]))
        expectFailure(
            try cluster.kubectl(["get", "events", "legacy", "-n", ns]),
            "Error from server (NotFound): events \"legacy\" not found")
    }

    func testServerSideApplyAndPatchesWorkInTheEventsV1Shape() throws {
        let ns = try namespace("ev-apply")
        let applied = expectSuccess(
            try cluster.kubectl(
                ["apply", "--server-side", "--field-manager=recorder", "-f", "-"],
                input: groupEvent("applied", namespace: ns, about: "web")))
        XCTAssertEqual(applied, "event.events.k8s.io/applied serverside-applied\n")
        let event = try getJSON("\(Self.groupPath)/\(ns)/events/applied")
        let entry = try XCTUnwrap(event["metadata"]?["managedFields"]?.arrayValue?.first)
        XCTAssertEqual(entry["manager"], "recorder")
        XCTAssertEqual(entry["operation"], "Apply")
        XCTAssertEqual(entry["apiVersion"], "events.k8s.io/v1")
        XCTAssertNotNil(entry["fieldsV1"]?["f:note"], "fields are the served shape's")
        XCTAssertNotNil(entry["fieldsV1"]?["f:regarding"])

        let series = "{\"series\":{\"count\":2,\"lastObservedTime\":\"\(Self.microTime())\"}}"
        expectSuccess(
            try cluster.kubectl([
                "patch", "events.v1.events.k8s.io", "applied", "-n", ns, "--type=strategic", "-p", series,
                "--field-manager=series-updater",
            ]))
        expectSuccess(
            try cluster.kubectl([
                "patch", "events.v1.events.k8s.io", "applied", "-n", ns, "--type=json", "-p",
                #"[{"op":"add","path":"/metadata/labels","value":{"tier":"web"}}]"#,
            ]))
        let core = try getJSON("\(Self.corePath)/\(ns)/events/applied")
        XCTAssertEqual(core["series"]?["count"], 2)
        XCTAssertEqual(core["metadata"]?["labels"], ["tier": "web"])
        XCTAssertEqual(core["message"], .string("Successfully assigned \(ns)/web to node-1"))
        let managers = core["metadata"]?["managedFields"]?.arrayValue ?? []
        let updater = try XCTUnwrap(managers.first { $0["manager"] == "series-updater" })
        XCTAssertEqual(updater["operation"], "Update")
        XCTAssertEqual(updater["apiVersion"], "events.k8s.io/v1")
        XCTAssertNotNil(updater["fieldsV1"]?["f:series"])

        // A second apply that drops nothing keeps the event and its series.
        expectSuccess(
            try cluster.kubectl(
                ["apply", "--server-side", "--field-manager=recorder", "-f", "-"],
                input: groupEvent("applied", namespace: ns, about: "web")))
        XCTAssertEqual(try getJSON("\(Self.groupPath)/\(ns)/events/applied")["series"]?["count"], 2)
    }
}

/// `EventsConversion` alone: every field of either shape survives a round trip, as upstream's conversion.
final class EventsConversionTests: XCTestCase {
    let conversion = EventsConversion()

    static let served: JSON = [
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": ["name": "web.1", "namespace": "default", "resourceVersion": "7", "labels": ["a": "b"]],
        "eventTime": "2026-01-01T00:00:00.000000Z", "series": ["count": 2, "lastObservedTime": "2026-01-01T00:01:00Z"],
        "reportingController": "kubelet", "reportingInstance": "node-1", "action": "Pulling", "reason": "Pulled",
        "regarding": ["kind": "Pod", "name": "web"], "related": ["kind": "Node", "name": "node-1"],
        "note": "pulled", "type": "Normal", "deprecatedSource": ["component": "kubelet"],
        "deprecatedFirstTimestamp": "2026-01-01T00:00:00Z", "deprecatedLastTimestamp": "2026-01-01T00:01:00Z",
        "deprecatedCount": 2,
    ]

    func testEveryFieldMapsToCoresNameAndBack() {
        let stored = conversion.toStorage(Self.served)
        XCTAssertEqual(stored["apiVersion"], "v1")
        XCTAssertEqual(stored["metadata"], Self.served["metadata"])
        let renamed: [String: String] = [
            "regarding": "involvedObject", "note": "message", "reportingController": "reportingComponent",
            "deprecatedSource": "source", "deprecatedFirstTimestamp": "firstTimestamp",
            "deprecatedLastTimestamp": "lastTimestamp", "deprecatedCount": "count",
        ]
        for (field, value) in Self.served.objectValue?.entries ?? [] where field != "apiVersion" {
            XCTAssertEqual(stored[renamed[field] ?? field], value, field)
        }
        XCTAssertEqual(stored.objectValue?.count, Self.served.objectValue?.count)
        XCTAssertEqual(conversion.fromStorage(stored), Self.served)
    }

    func testFieldLabelsMapToCoresSelectableFields() throws {
        XCTAssertEqual(try conversion.storageFieldLabel("regarding.uid"), "involvedObject.uid")
        XCTAssertEqual(try conversion.storageFieldLabel("reportingController"), "reportingComponent")
        XCTAssertEqual(try conversion.storageFieldLabel("metadata.name"), "metadata.name")
        XCTAssertThrowsError(try conversion.storageFieldLabel("note"))
        let supported = Set(EventStrategy().selectableFields(JSON.object(JSONObject())).keys)
        for label in EventsConversion.fieldLabels.values { XCTAssertTrue(supported.contains(label), label) }
    }
}
