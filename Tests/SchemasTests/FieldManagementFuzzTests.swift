import APIMachinery
import Schemas
import TestSupport
import XCTest

/// Random documents through field sets, comparisons, FieldsV1 and the field manager: nothing crashes, and the
/// set algebra and bookkeeping invariants hold for every case (the seed reproduces a failure).
final class FieldManagementFuzzTests: XCTestCase {
    static let kinds = [
        GroupVersionKind(group: "", version: "v1", kind: "Pod"),
        GroupVersionKind(group: "apps", version: "v1", kind: "Deployment"),
        GroupVersionKind(group: "", version: "v1", kind: "Service"),
        GroupVersionKind(group: "", version: "v1", kind: "ConfigMap"),
    ]
    static let keys = [
        "metadata", "labels", "annotations", "finalizers", "spec", "template", "containers", "initContainers", "name",
        "image", "ports", "containerPort", "protocol", "port", "env", "value", "volumes", "emptyDir", "replicas",
        "selector", "matchLabels", "strategy", "rollingUpdate", "data", "status", "conditions", "type", "args",
    ]
    static let strings: [JSON] = ["a", "b", "web", "TCP", "UDP", "x/y", ""]

    static func randomJSON(_ random: inout SeededRandom, depth: Int = 0, object: Bool = false) -> JSON {
        switch object ? 0 : random.next(below: depth > 5 ? 4 : 7) {
        case 0, 5:
            var fields = JSONObject()
            for _ in 0..<random.next(below: 5) {
                fields[keys[random.next(below: keys.count)]] = randomJSON(&random, depth: depth + 1)
            }
            return .object(fields)
        case 1, 6:
            return .array((0..<random.next(below: 4)).map { _ in randomJSON(&random, depth: depth + 1) })
        case 2: return strings[random.next(below: strings.count)]
        case 3: return random.next(below: 3) == 0 ? .null : .int(Int64(random.next(below: 100)))
        default: return .bool(random.next(below: 2) == 0)
        }
    }

    func testRandomDocumentsKeepFieldSetInvariants() throws {
        var random = SeededRandom(seed: 0x55A_F1E1D)
        let registry = SchemaRegistry.shared
        for round in 0..<400 {
            let kind = Self.kinds[random.next(below: Self.kinds.count)]
            let old = Self.randomJSON(&random, object: true)
            let new = Self.randomJSON(&random, object: true)
            let a = registry.fieldSet(of: old, kind: kind)
            let b = registry.fieldSet(of: new, kind: kind)
            XCTAssertEqual(try FieldSet(fieldsV1: a.fieldsV1), a, "round \(round): FieldsV1 round trip")
            XCTAssertEqual(FieldSet(a.paths), a, "round \(round): paths round trip")
            XCTAssertTrue(a.subtracting(b).intersection(b).isEmpty, "round \(round)")
            XCTAssertEqual(a.union(b).intersection(a), a, "round \(round)")
            XCTAssertTrue(registry.compare(old, old, kind: kind).isEmpty, "round \(round): \(old.jsonString)")
            let comparison = registry.compare(old, new, kind: kind)
            XCTAssertTrue(comparison.added.intersection(comparison.removed).isEmpty, "round \(round)")
            for path in comparison.removed.paths {
                XCTAssertFalse(path.isEmpty)
            }
        }
    }

    func testRandomWritesAndAppliesNeverCrashAndKeepOwnershipConsistent() throws {
        var random = SeededRandom(seed: 0xA991_7E5)
        var applies = 0
        var conflicts = 0
        for round in 0..<300 {
            let kind = Self.kinds[random.next(below: Self.kinds.count)]
            let manager = FieldManager(kind: kind, resetFields: ["status"])
            var live: JSON? = nil
            for step in 0..<4 {
                let name = ["alpha", "beta", "gamma"][random.next(below: 3)]
                let document = Self.randomJSON(&random, object: true)
                if random.next(below: 2) == 0 {
                    var object = document
                    manager.update(&object, live: live, manager: name, now: "2026-01-01T00:00:0\(step)Z")
                    live = object
                } else {
                    do {
                        let applied = try manager.apply(
                            document, to: live, manager: name, force: random.next(below: 2) == 0,
                            now: "2026-01-01T00:00:0\(step)Z")
                        let mine = FieldManager.entries(of: applied).first {
                            $0.manager == name && $0.operation == .apply
                        }
                        let claimed = manager.trackedFields(of: document)
                        XCTAssertEqual(mine?.fields ?? FieldSet(), claimed, "round \(round) step \(step)")
                        live = applied
                        applies += 1
                    } catch {
                        conflicts += 1
                        XCTAssertTrue(error.description.hasPrefix("Apply failed with "), error.description)
                    }
                }
                // Every recorded entry must read back: the bookkeeping never writes what it cannot parse.
                let recorded = live?["metadata"]?["managedFields"]?.arrayValue ?? []
                XCTAssertEqual(FieldManager.entries(of: live ?? .null).count, recorded.count, "round \(round)")
            }
        }
        XCTAssertGreaterThan(applies, 200)
        XCTAssertGreaterThan(conflicts, 10)
    }

    func testRandomFieldsV1NeverCrashes() {
        var random = SeededRandom(seed: 0xF1E1D5)
        let prefixes = ["f:", "k:", "v:", "i:", ".", "x:", "k:{\"name\":\"a\"}", "v:\"a\"", "i:3", "f:a"]
        func document(_ depth: Int) -> JSON {
            var object = JSONObject()
            for _ in 0..<random.next(below: depth > 3 ? 1 : 4) {
                let key = prefixes[random.next(below: prefixes.count)] + (random.next(below: 2) == 0 ? "" : "z")
                object[key] = random.next(below: 5) == 0 ? .int(1) : document(depth + 1)
            }
            return .object(object)
        }
        var parsed = 0
        for _ in 0..<2000 {
            guard let set = try? FieldSet(fieldsV1: document(0)) else { continue }
            parsed += 1
            XCTAssertEqual(try FieldSet(fieldsV1: set.fieldsV1), set)
        }
        XCTAssertGreaterThan(parsed, 100)
    }
}
