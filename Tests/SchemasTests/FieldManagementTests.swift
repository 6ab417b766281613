import APIMachinery
import Schemas
import XCTest

/// Field sets, comparisons and managedFields bookkeeping against the real schemas of Pod, Deployment and Service.
final class FieldManagementTests: XCTestCase {
    static let pod = GroupVersionKind(group: "", version: "v1", kind: "Pod")
    static let deployment = GroupVersionKind(group: "apps", version: "v1", kind: "Deployment")
    static let service = GroupVersionKind(group: "", version: "v1", kind: "Service")
    let registry = SchemaRegistry.shared

    func json(_ text: String) throws -> JSON { try JSON.parse(text) }

    func fieldsV1(_ set: FieldSet) -> String { set.fieldsV1.jsonString }

    struct FieldSetCase {
        var name: String
        var kind: GroupVersionKind
        var object: String
        var expected: String
    }

    static let fieldSetCases: [FieldSetCase] = [
        FieldSetCase(
            name: "containers are a map list keyed by name, ports by containerPort and defaulted protocol",
            kind: pod,
            object: #"{"spec":{"containers":[{"name":"web","image":"nginx","ports":[{"containerPort":80}]}]}}"#,
            expected:
                #"{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}"#
        ),
        FieldSetCase(
            name: "labels are map entries; an empty struct is owned whole", kind: pod,
            object:
                #"{"metadata":{"name":"p","labels":{"app":"web"}},"spec":{"volumes":[{"name":"v","emptyDir":{}}]}}"#,
            expected:
                #"{"f:metadata":{"f:labels":{"f:app":{}},"f:name":{}},"f:spec":{"f:volumes":{"k:{\"name\":\"v\"}":{".":{},"f:emptyDir":{},"f:name":{}}}}}"#
        ),
        FieldSetCase(
            name: "finalizers are a set list; the selector is an atomic map", kind: deployment,
            object:
                #"{"metadata":{"finalizers":["a/b"]},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}}}}"#,
            expected: #"{"f:metadata":{"f:finalizers":{"v:\"a/b\"":{}}},"f:spec":{"f:replicas":{},"f:selector":{}}}"#
        ),
        FieldSetCase(
            name: "service ports are keyed by port and protocol; an atomic list is one leaf", kind: service,
            object:
                #"{"spec":{"ports":[{"port":80,"protocol":"UDP","targetPort":8080}],"externalIPs":["1.2.3.4"]}}"#,
            expected:
                #"{"f:spec":{"f:externalIPs":{},"f:ports":{"k:{\"port\":80,\"protocol\":\"UDP\"}":{".":{},"f:port":{},"f:protocol":{},"f:targetPort":{}}}}}"#
        ),
    ]

    func testFieldSetsFollowListAndMapTypes() throws {
        for testCase in Self.fieldSetCases {
            let set = registry.fieldSet(of: try json(testCase.object), kind: testCase.kind)
            XCTAssertEqual(fieldsV1(set), testCase.expected, testCase.name)
            XCTAssertEqual(try FieldSet(fieldsV1: set.fieldsV1), set, "round trip: \(testCase.name)")
        }
    }

    func testFieldsV1RejectsUnknownKeys() {
        XCTAssertThrowsError(try FieldSet(fieldsV1: ["x:y": .object(JSONObject())]))
        XCTAssertThrowsError(try FieldSet(fieldsV1: ["k:notjson": .object(JSONObject())]))
        XCTAssertThrowsError(try FieldSet(fieldsV1: ["f:a": "b"]))
    }

    func testPathDescriptionsAreUpstreams() {
        let path: FieldPath = [
            .field("spec"), .field("ports"), .key(fields: [("protocol", "TCP"), ("port", 80)]), .field("targetPort"),
        ]
        XCTAssertEqual(path.pathDescription, #".spec.ports[port=80,protocol="TCP"].targetPort"#)
        XCTAssertEqual(([.field("f"), .value(of: "a")] as FieldPath).pathDescription, #".f[="a"]"#)
    }

    func testCompareReportsAddedModifiedAndRemoved() throws {
        let old = try json(
            #"{"metadata":{"labels":{"a":"1","b":"2"}},"spec":{"containers":[{"name":"x","image":"i1"},{"name":"y","image":"i"}]}}"#
        )
        let new = try json(
            #"{"metadata":{"labels":{"a":"1","c":"3"}},"spec":{"containers":[{"name":"x","image":"i2"}]}}"#)
        let comparison = registry.compare(old, new, kind: Self.pod)
        XCTAssertEqual(comparison.added.paths.map(\.pathDescription), [".metadata.labels.c"])
        XCTAssertEqual(comparison.modified.paths.map(\.pathDescription), [#".spec.containers[name="x"].image"#])
        XCTAssertEqual(
            comparison.removed.paths.map(\.pathDescription),
            [
                ".metadata.labels.b", #".spec.containers[name="y"]"#, #".spec.containers[name="y"].image"#,
                #".spec.containers[name="y"].name"#,
            ])
    }

    func testUpdateRecordsTheManagerAndMovesOwnership() throws {
        let manager = FieldManager(kind: Self.deployment, resetFields: ["status"])
        var created = try json(
            #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","labels":{"app":"web"}},"spec":{"replicas":1},"status":{"replicas":0}}"#
        )
        manager.update(&created, live: nil, manager: "kubectl-create", now: "2026-01-01T00:00:00Z")
        XCTAssertEqual(
            created["metadata"]?["managedFields"]?.jsonString,
            #"[{"manager":"kubectl-create","operation":"Update","apiVersion":"apps/v1","time":"2026-01-01T00:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:replicas":{}}}}]"#
        )
        var scaled = created
        scaled.set(["spec", "replicas"], to: 3)
        manager.update(&scaled, live: created, manager: "kubectl-scale", now: "2026-01-01T00:01:00Z")
        let entries = FieldManager.entries(of: scaled)
        XCTAssertEqual(entries.map(\.manager), ["kubectl-create", "kubectl-scale"])
        XCTAssertEqual(entries[0].fields.paths.map(\.pathDescription), [".metadata.labels", ".metadata.labels.app"])
        XCTAssertEqual(entries[1].fields.paths.map(\.pathDescription), [".spec.replicas"])

        var unchanged = scaled
        manager.update(&unchanged, live: scaled, manager: "other", now: "2026-01-01T00:02:00Z")
        XCTAssertEqual(unchanged, scaled, "a write that changes nothing keeps managedFields and times")
    }

    func testApplyConflictsForceAndRemoval() throws {
        let manager = FieldManager(kind: Self.deployment, resetFields: ["status"])
        let first = try json(
            #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","labels":{"a":"1","b":"2"}},"spec":{"replicas":2}}"#
        )
        let live = try manager.apply(first, to: nil, manager: "alpha", force: false, now: "2026-01-01T00:00:00Z")
        XCTAssertEqual(live["spec"]?["replicas"], 2)
        XCTAssertEqual(FieldManager.entries(of: live).map(\.operation), [.apply])

        // The same value from another manager is shared ownership, not a conflict.
        let same = try json(
            #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":2}}"#)
        let shared = try manager.apply(same, to: live, manager: "beta", force: false, now: "2026-01-01T00:01:00Z")
        XCTAssertEqual(FieldManager.entries(of: shared).map(\.manager), ["alpha", "beta"])

        let other = try json(
            #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"replicas":5}}"#)
        XCTAssertThrowsError(try manager.apply(other, to: live, manager: "beta", force: false, now: "x")) { error in
            XCTAssertEqual(
                (error as? ApplyConflicts)?.description,
                #"Apply failed with 1 conflict: conflict with "alpha": .spec.replicas"#)
        }
        let forced = try manager.apply(other, to: live, manager: "beta", force: true, now: "2026-01-01T00:02:00Z")
        XCTAssertEqual(forced["spec"]?["replicas"], 5)
        let owners = FieldManager.entries(of: forced)
        XCTAssertEqual(
            owners.first { $0.manager == "alpha" }?.fields.contains([.field("spec"), .field("replicas")]), false)

        // alpha stops applying label b: it goes; label a stays; replicas now belong to beta and stay.
        let shrunk = try json(
            #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","labels":{"a":"1"}}}"#)
        let pruned = try manager.apply(shrunk, to: forced, manager: "alpha", force: false, now: "2026-01-01T00:03:00Z")
        XCTAssertEqual(pruned["metadata"]?["labels"]?.jsonString, #"{"a":"1"}"#)
        XCTAssertEqual(pruned["spec"]?["replicas"], 5)
    }

    func testConflictMessageGroupsByManager() {
        let conflicts = ApplyConflicts(conflicts: [
            .init(manager: #""b" using apps/v1"#, path: [.field("spec"), .field("replicas")]),
            .init(manager: #""a""#, path: [.field("metadata"), .field("labels"), .field("x")]),
            .init(manager: #""a""#, path: [.field("spec"), .field("paused")]),
        ])
        XCTAssertEqual(
            conflicts.description,
            "Apply failed with 3 conflicts: conflicts with \"a\":\n- .metadata.labels.x\n- .spec.paused\n"
                + "conflicts with \"b\" using apps/v1:\n- .spec.replicas")
    }

    func testApplyMergesContainersByNameAndKeepsOthers() throws {
        let live = try json(
            #"{"spec":{"containers":[{"name":"a","image":"1","env":[{"name":"E","value":"v"}]},{"name":"b","image":"2"}]}}"#
        )
        let merged = registry.applyMerge(
            live, try json(#"{"spec":{"containers":[{"name":"b","image":"3"},{"name":"c","image":"4"}]}}"#),
            kind: Self.pod)
        XCTAssertEqual(
            merged.jsonString,
            #"{"spec":{"containers":[{"name":"a","image":"1","env":[{"name":"E","value":"v"}]},{"name":"b","image":"3"},{"name":"c","image":"4"}]}}"#
        )
    }
}
