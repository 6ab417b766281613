import APIMachinery
import Schemas
import TestSupport
import XCTest

final class StrategicMergePatchTests: XCTestCase {
    static let pod = GroupVersionKind(group: "", version: "v1", kind: "Pod")
    static let deployment = GroupVersionKind(group: "apps", version: "v1", kind: "Deployment")
    static let service = GroupVersionKind(group: "", version: "v1", kind: "Service")

    struct Case {
        var name: String
        var kind: GroupVersionKind = StrategicMergePatchTests.pod
        var original: String
        var patch: String
        var expected: String
    }

    static let podBase = #"""
        {"metadata": {"name": "p", "labels": {"app": "web", "tier": "fe"}, "annotations": {"a": "1"},
                      "finalizers": ["x/one", "x/two"]},
         "spec": {"containers": [
            {"name": "web", "image": "nginx:1", "args": ["-a", "-b"],
             "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 443}],
             "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
            {"name": "side", "image": "busybox"}],
          "volumes": [{"name": "v", "emptyDir": {}}]}}
        """#

    // Merged lists follow upstream's order: patch items in patch order, interleaved with the
    // original's other items by original position, so items new to the list come first.
    static let cases: [Case] = [
        Case(
            name: "image change keeps other containers and fields", original: podBase,
            patch: #"{"spec": {"containers": [{"name": "side", "image": "busybox:2"}]}}"#,
            expected: podBase.replacingOccurrences(of: #""image": "busybox""#, with: #""image": "busybox:2""#)),
        Case(
            name: "labels and annotations add and remove with null", original: podBase,
            patch: #"{"metadata": {"labels": {"tier": null, "new": "yes"}, "annotations": {"a": null}}}"#,
            expected: podBase.replacingOccurrences(
                of: #""labels": {"app": "web", "tier": "fe"}, "annotations": {"a": "1"}"#,
                with: #""labels": {"app": "web", "new": "yes"}, "annotations": {}"#)),
        Case(
            name: "list without strategy is replaced", original: podBase,
            patch: #"{"spec": {"containers": [{"name": "web", "args": ["-c"]}]}}"#,
            expected: podBase.replacingOccurrences(of: #"["-a", "-b"]"#, with: #"["-c"]"#)),
        Case(
            name: "ports merge by containerPort", original: podBase,
            patch: #"{"spec": {"containers": [{"name": "web", "ports": [{"containerPort": 443, "name": "https"}]}]}}"#,
            expected: podBase.replacingOccurrences(
                of: #"{"containerPort": 443}"#, with: #"{"containerPort": 443, "name": "https"}"#)),
        Case(
            name: "env merge and delete", original: podBase,
            patch: #"""
                {"spec": {"containers": [{"name": "web", "env": [
                  {"name": "A", "value": "9"}, {"$patch": "delete", "name": "B"}]}]}}
                """#,
            expected: podBase.replacingOccurrences(
                of: #"[{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]"#,
                with: #"[{"name": "A", "value": "9"}]"#)),
        Case(
            name: "finalizers union and delete from primitive list", original: podBase,
            patch: #"{"metadata": {"finalizers": ["x/three"], "$deleteFromPrimitiveList/finalizers": ["x/one"]}}"#,
            expected: podBase.replacingOccurrences(of: #"["x/one", "x/two"]"#, with: #"["x/three", "x/two"]"#)),
        Case(
            name: "replace directive inside a map", original: podBase,
            patch: #"{"metadata": {"labels": {"$patch": "replace", "only": "me"}}}"#,
            expected: podBase.replacingOccurrences(
                of: #""labels": {"app": "web", "tier": "fe"}"#, with: #""labels": {"only": "me"}"#)),
        Case(
            name: "delete directive inside a map leaves it empty, as upstream", original: podBase,
            patch: #"{"metadata": {"labels": {"$patch": "delete"}}}"#,
            expected: podBase.replacingOccurrences(
                of: #""labels": {"app": "web", "tier": "fe"}"#, with: #""labels": {}"#)),
        Case(
            name: "retainKeys drops unlisted fields", kind: deployment,
            original: #"{"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}}"#,
            patch: #"{"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}"#,
            expected: #"{"spec": {"strategy": {"type": "Recreate"}}}"#),
        Case(
            name: "new field with nested directives is cleaned", original: #"{"spec": {}}"#,
            patch: #"""
                {"spec": {"volumes": [{"name": "v", "$retainKeys": ["name", "secret"], "secret": {"secretName": "s"}},
                                      {"$patch": "delete", "name": "gone"}],
                          "$setElementOrder/volumes": [{"name": "v"}], "nodeSelector": {"a": "b", "c": null}}}
                """#,
            expected:
                #"{"spec": {"volumes": [{"name": "v", "secret": {"secretName": "s"}}], "nodeSelector": {"a": "b"}}}"#),
        Case(
            name: "service ports merge by port", kind: service,
            original: #"{"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}}"#,
            patch: #"{"spec": {"ports": [{"port": 80, "targetPort": 9090}, {"port": 53, "protocol": "UDP"}]}}"#,
            expected:
                #"{"spec": {"ports": [{"port": 80, "targetPort": 9090}, {"port": 53, "protocol": "UDP"}, {"port": 443}]}}"#
        ),
        Case(
            name: "deployment template volumeMounts merge by mountPath, tolerations replaced", kind: deployment,
            original: #"""
                {"spec": {"template": {"spec": {
                  "containers": [{"name": "web", "volumeMounts": [{"name": "a", "mountPath": "/a"}]}],
                  "tolerations": [{"key": "k1", "operator": "Exists"}]}}}}
                """#,
            patch: #"""
                {"spec": {"template": {"spec": {
                  "containers": [{"name": "web", "volumeMounts": [{"name": "a2", "mountPath": "/a", "readOnly": true}]}],
                  "tolerations": [{"key": "k2", "operator": "Exists"}]}}}}
                """#,
            expected: #"""
                {"spec": {"template": {"spec": {
                  "containers": [{"name": "web", "volumeMounts": [{"name": "a2", "mountPath": "/a", "readOnly": true}]}],
                  "tolerations": [{"key": "k2", "operator": "Exists"}]}}}}
                """#),
        Case(
            name: "upstream order: patch order, unmentioned items by original position",
            original: #"{"spec": {"containers": [{"name": "1"}, {"name": "2", "image": "b"}, {"name": "3"}]}}"#,
            patch: #"{"spec": {"containers": [{"name": "3", "image": "c"}, {"name": "1", "image": "a"}]}}"#,
            expected:
                #"{"spec": {"containers": [{"name": "2", "image": "b"}, {"name": "3", "image": "c"}, {"name": "1", "image": "a"}]}}"#
        ),
        Case(
            name: "unknown free-form fields merge like a JSON merge patch", original: #"{"x": {"a": 1, "b": [1, 2]}}"#,
            patch: #"{"x": {"a": null, "b": [3], "c": {"d": null, "e": 1}}}"#,
            expected: #"{"x": {"b": [3], "c": {"e": 1}}}"#),
    ]

    func testTable() throws {
        for test in Self.cases {
            let result = try StrategicMergePatch.apply(
                JSON.parse(test.patch), to: JSON.parse(test.original), kind: test.kind)
            XCTAssertEqual(result, try JSON.parse(test.expected), test.name)
            XCTAssertNil(Self.directive(in: result), test.name)
        }
    }

    func testAddingAndDeletingContainersKeepsTheRest() throws {
        let original = try JSON.parse(TestObjects.pod)
        let added = try StrategicMergePatch.apply(
            JSON.parse(#"{"spec": {"containers": [{"name": "extra", "image": "redis"}]}}"#), to: original,
            kind: Self.pod)
        let names = added[path: "spec", "containers"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        // Upstream puts patch items the original lacks ahead of items the patch does not mention.
        XCTAssertEqual(names?.first, "extra")
        XCTAssertEqual(names?.count, (original[path: "spec", "containers"]?.arrayValue?.count ?? 0) + 1)
        XCTAssertEqual(
            added[path: "spec", "containers"]?.arrayValue?.last, original[path: "spec", "containers"]?.arrayValue?.last)
        XCTAssertEqual(added["status"], original["status"])

        let removed = try StrategicMergePatch.apply(
            JSON.parse(#"{"spec": {"containers": [{"$patch": "delete", "name": "extra"}]}}"#), to: added,
            kind: Self.pod)
        XCTAssertEqual(removed, original)
    }

    func testImageChangeOnFullPodTouchesOnlyTheImage() throws {
        let original = try JSON.parse(TestObjects.pod)
        let result = try StrategicMergePatch.apply(
            JSON.parse(#"{"spec": {"containers": [{"name": "web", "image": "nginx:1.28"}]}}"#), to: original,
            kind: Self.pod)
        var expected = original
        var containers = original[path: "spec", "containers"]?.arrayValue ?? []
        containers[0]["image"] = "nginx:1.28"
        expected.set(["spec", "containers"], to: .array(containers))
        XCTAssertEqual(result, expected)
    }

    func testReplaceDirectiveInAList() throws {
        let result = try StrategicMergePatch.apply(
            JSON.parse(#"{"spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "i"}]}}"#),
            to: JSON.parse(Self.podBase), kind: Self.pod)
        XCTAssertEqual(result[path: "spec", "containers"], [["name": "only", "image": "i"]])
    }

    func testSetElementOrderOrdersMergedItems() throws {
        let result = try StrategicMergePatch.apply(
            JSON.parse(
                #"""
                {"spec": {"$setElementOrder/containers": [{"name": "side"}, {"name": "web"}],
                          "containers": [{"name": "web", "image": "nginx:2"}]}}
                """#), to: JSON.parse(Self.podBase), kind: Self.pod)
        let names = result[path: "spec", "containers"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        XCTAssertEqual(names, ["side", "web"])
        XCTAssertEqual(result[path: "spec", "containers"]?.arrayValue?.last?["image"], "nginx:2")
        XCTAssertNil(Self.directive(in: result))
    }

    func testMalformedPatchesThrow() throws {
        let original = try JSON.parse(Self.podBase)
        let malformed: [(String, String)] = [
            ("[1]", "patch must be a JSON object"),
            (#"{"metadata": {"$patch": "explode"}}"#, "unknown $patch directive"),
            (#"{"spec": {"containers": [{"$patch": "explode", "name": "web"}]}}"#, "unknown $patch directive"),
            (#"{"spec": {"containers": [{"image": "nameless"}]}}"#, "lacks the merge key \"name\""),
            (#"{"spec": {"containers": [{"$patch": "delete"}]}}"#, "needs the merge key"),
            (#"{"spec": {"$retainKeys": "nope"}}"#, "$retainKeys: must be a list"),
            (#"{"metadata": {"$deleteFromPrimitiveList/finalizers": "x/one"}}"#, "must be a list"),
            (#"{"metadata": {"$setElementOrder": []}}"#, "invalid directive key"),
        ]
        for (patch, message) in malformed {
            XCTAssertThrowsError(try StrategicMergePatch.apply(JSON.parse(patch), to: original, kind: Self.pod)) {
                let text = ($0 as? StrategicMergePatchError)?.message ?? "\($0)"
                XCTAssertTrue(text.contains(message), "\(patch): \(text)")
            }
        }
    }

    func testRandomPatchesNeverCrashOrLeaveDirectives() throws {
        var rng = SeededRandom(seed: 42)
        let targets = [
            (try JSON.parse(TestObjects.pod), Self.pod), (try JSON.parse(TestObjects.deployment), Self.deployment),
            (try JSON.parse(TestObjects.service), Self.service),
        ]
        var applied = 0
        for _ in 0..<600 {
            let (original, kind) = targets[Int(rng.next() % UInt64(targets.count))]
            let patch = Self.randomJSON(depth: 0, rng: &rng, forceObject: true)
            do {
                let result = try StrategicMergePatch.apply(patch, to: original, kind: kind)
                XCTAssertNil(Self.directive(in: result), patch.jsonString)
                applied += 1
            } catch {
                XCTAssertFalse(error.message.isEmpty)
            }
        }
        XCTAssertGreaterThan(applied, 100)
    }

    // MARK: - Helpers

    static let keys = [
        "spec", "metadata", "template", "containers", "name", "image", "ports", "containerPort", "port", "env",
        "labels", "finalizers", "volumes", "strategy", "type", "args", "$patch", "$retainKeys",
        "$setElementOrder/containers", "$setElementOrder/finalizers", "$deleteFromPrimitiveList/finalizers",
    ]
    static let strings: [JSON] = ["web", "side", "delete", "replace", "merge", "x/one", "name", "type"]

    private static func randomJSON(depth: Int, rng: inout SeededRandom, forceObject: Bool = false) -> JSON {
        let choice = forceObject ? 0 : rng.next() % (depth > 4 ? 4 : 7)
        switch choice {
        case 0, 5:
            var object = JSONObject()
            for _ in 0..<(rng.next() % 4) {
                object[keys[Int(rng.next() % UInt64(keys.count))]] = randomJSON(depth: depth + 1, rng: &rng)
            }
            return .object(object)
        case 1, 6:
            return .array((0..<(rng.next() % 3)).map { _ in randomJSON(depth: depth + 1, rng: &rng) })
        case 2: return strings[Int(rng.next() % UInt64(strings.count))]
        case 3: return rng.next() % 2 == 0 ? .null : .int(Int64(rng.next() % 500))
        default: return .bool(rng.next() % 2 == 0)
        }
    }

    /// The first patch directive key found anywhere in `json`.
    static func directive(in json: JSON) -> String? {
        switch json {
        case .object(let object):
            for (key, value) in object {
                if key.hasPrefix("$patch") || key.hasPrefix("$retainKeys") || key.hasPrefix("$setElementOrder")
                    || key.hasPrefix("$deleteFromPrimitiveList")
                {
                    return key
                }
                if let found = directive(in: value) { return found }
            }
            return nil
        case .array(let items): return items.lazy.compactMap { directive(in: $0) }.first
        default: return nil
        }
    }
}
