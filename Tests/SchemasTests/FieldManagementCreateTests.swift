import APIMachinery
import Foundation
import TestSupport
import XCTest

@testable import Schemas

/// A create's managedFields come from the new object's own field set; they must be the ones the full
/// comparison against no object gave, over upstream's defaulted pods, deployments and services.
final class FieldManagementCreateTests: XCTestCase {
    private static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("APIServerTests/Fixtures/Defaulting/upstream")

    /// The corpus objects with their kinds, without the managedFields upstream's answer carried.
    private static func objects() throws -> [(name: String, kind: GroupVersionKind, object: JSON)] {
        let names = try FileManager.default.contentsOfDirectory(atPath: corpus.path).filter {
            $0.hasPrefix("pod-") || $0.hasPrefix("deployment-") || $0.hasPrefix("service-")
        }.sorted()
        return try names.map { name in
            var object = try JSON.parse(Data(contentsOf: corpus.appendingPathComponent(name)))
            object.setMeta("managedFields", nil)
            let kind =
                name.hasPrefix("deployment-")
                ? GroupVersionKind(group: "apps", version: "v1", kind: "Deployment")
                : GroupVersionKind(group: "", version: "v1", kind: name.hasPrefix("pod-") ? "Pod" : "Service")
            return (name, kind, object)
        }
    }

    /// The managedFields the comparison against no object records, as `update` computed them before.
    private static func comparedCreate(_ object: JSON, manager: FieldManager, name: String, now: String) -> JSON {
        var entries = FieldManager.entries(of: object)
        var after = object
        after.setMeta("managedFields", nil)
        let changed = manager.tracked(manager.registry.compare(nil, after, kind: manager.kind).added)
        for index in entries.indices { entries[index].fields = entries[index].fields.subtracting(changed) }
        entries.append(
            ManagedFieldsEntry(
                manager: name, operation: .update, apiVersion: manager.apiVersion, time: now, fields: changed))
        var result = object
        FieldManager.write(entries, to: &result)
        return result
    }

    func testCreatedFieldsAreTheComparisonsAddedFields() throws {
        let objects = try Self.objects()
        XCTAssertEqual(objects.count, 13)
        for (name, kind, object) in objects {
            let created = SchemaRegistry.shared.createdFields(of: object, kind: kind)
            XCTAssertFalse(created.isEmpty, name)
            XCTAssertEqual(created, SchemaRegistry.shared.compare(nil, object, kind: kind).added, name)
        }
    }

    func testCreateRecordsTheSameManagedFieldsBytes() throws {
        let now = "2026-01-01T00:00:00Z"
        for (name, kind, object) in try Self.objects() {
            for manager in [
                FieldManager(kind: kind), FieldManager(kind: kind, resetFields: ["status"]),
                FieldManager(kind: kind, onlyField: "status"),
            ] {
                var created = object
                manager.update(&created, live: nil, manager: "kubectl-create", now: now)
                let expected = Self.comparedCreate(object, manager: manager, name: "kubectl-create", now: now)
                XCTAssertEqual(created.encoded(), expected.encoded(), name)
            }
        }
    }

    func testCreateWithManagedFieldsTheClientSentMovesTheirFields() throws {
        let now = "2026-01-01T00:00:00Z"
        for (name, kind, object) in try Self.objects() {
            let manager = FieldManager(kind: kind)
            var sent = object
            let theirs = ManagedFieldsEntry(
                manager: "importer", operation: .update, apiVersion: manager.apiVersion, time: now,
                fields: FieldSet([[.field("metadata"), .field("name")], [.field("spec")], [.field("extra")]]))
            sent.setMeta("managedFields", .array([theirs.json]))
            var created = sent
            manager.update(&created, live: nil, manager: "kubectl-create", now: now)
            let expected = Self.comparedCreate(sent, manager: manager, name: "kubectl-create", now: now)
            XCTAssertEqual(created.encoded(), expected.encoded(), name)
            XCTAssertEqual(FieldManager.entries(of: created).map(\.manager), ["importer", "kubectl-create"], name)
        }
    }

    func testRandomDocumentsGiveTheComparisonsAddedFields() {
        var random = SeededRandom(seed: 0xC4EA7E)
        for round in 0..<600 {
            let kind = FieldManagementFuzzTests.kinds[random.next(below: FieldManagementFuzzTests.kinds.count)]
            let object = FieldManagementFuzzTests.randomJSON(&random, object: true)
            XCTAssertEqual(
                SchemaRegistry.shared.createdFields(of: object, kind: kind),
                SchemaRegistry.shared.compare(nil, object, kind: kind).added, "round \(round): \(object.jsonString)")
        }
    }

    func testRandomCreatesRecordTheComparisonsManagedFieldsBytes() {
        var random = SeededRandom(seed: 0xF1E1D5)
        let now = "2026-01-01T00:00:00Z"
        for round in 0..<600 {
            let kind = FieldManagementFuzzTests.kinds[random.next(below: FieldManagementFuzzTests.kinds.count)]
            var object = FieldManagementFuzzTests.randomJSON(&random, object: true)
            if random.next(below: 2) == 0 {
                object.setMeta("name", "n")
                object.setMeta("labels", ["app": "web"])
            }
            for manager in [FieldManager(kind: kind), FieldManager(kind: kind, resetFields: ["status"])] {
                var created = object
                manager.update(&created, live: nil, manager: "m", now: now)
                let expected = Self.comparedCreate(object, manager: manager, name: "m", now: now)
                XCTAssertEqual(
                    created.encoded(), expected.encoded(), "round \(round): \(object.jsonString)")
            }
        }
    }

    /// The parser keeps the last of duplicate keys, but an object built in code may hold both: the trie merges them.
    func testCreateWithADuplicateKeyMergesItsFields() throws {
        let kind = GroupVersionKind(group: "", version: "v1", kind: "ConfigMap")
        let object = JSON.object(
            JSONObject([
                ("metadata", ["name": "a", "labels": ["x": "1"]]), ("data", ["a": "1"]), ("data", ["b": "2"]),
            ]))
        let manager = FieldManager(kind: kind)
        var created = object
        manager.update(&created, live: nil, manager: "m", now: "2026-01-01T00:00:00Z")
        let fields = manager.tracked(SchemaRegistry.shared.createdFields(of: object, kind: kind))
        XCTAssertEqual(FieldManager.entries(of: created).map(\.fields), [fields])
        XCTAssertTrue(fields.contains([.field("data"), .field("b")]))
    }
}
