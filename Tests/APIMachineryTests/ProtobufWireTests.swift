import XCTest

@testable import APIMachinery

/// Hand-built bodies for what kubectl's captures do not cover: the apimachinery types with custom
/// JSON, inline structs, pointer versus omitempty fields, packed and unknown fields.
extension ProtobufTests {
    private func decode(_ apiVersion: String, _ kind: String, _ raw: [UInt8]) throws -> JSON {
        try KubernetesProtobuf.decode(PB.envelope(apiVersion, kind, raw)).object
    }

    func testPointerZeroStaysAndOmitEmptyZeroGoes() throws {
        // DeploymentSpec: replicas (1) is *int32, minReadySeconds (5) an int32 with omitempty,
        // paused (7) a bool with omitempty; gogo writes all three.
        let spec = PB.field(1, varint: 0) + PB.field(5, varint: 0) + PB.field(7, varint: 0)
        let object = try decode("apps/v1", "Deployment", PB.field(2, spec))
        XCTAssertEqual(object["spec"], ["replicas": 0])
        // Container.name has no omitempty, so an empty name is kept, as Go writes it.
        let podSpec = PB.field(2, PB.field(1, ""))
        XCTAssertEqual(try decode("v1", "Pod", PB.field(2, podSpec))[path: "spec", "containers"], [["name": ""]])
    }

    func testFieldsFollowNumberOrderAndObjectStartsWithTypeMeta() throws {
        // ObjectMeta written backwards: namespace (3) before name (1).
        let meta = PB.field(3, "ns") + PB.field(1, "n")
        let object = try decode("v1", "ConfigMap", PB.field(3, "k", bytes: [0xFF]) + PB.field(1, meta))
        XCTAssertEqual(object.objectValue?.keys, ["apiVersion", "kind", "metadata", "binaryData"])
        XCTAssertEqual(object["metadata"]?.objectValue?.keys, ["name", "namespace"])
        XCTAssertEqual(object[path: "binaryData", "k"], "/w==")
    }

    func testRepeatedMessageFieldsMergeAsInGo() throws {
        // metadata (1) twice: Go merges the two, so name and labels from the first survive.
        let first = PB.field(1, "a") + PB.field(11, PB.field(1, "x") + PB.field(2, "1"))
        let second = PB.field(3, "ns") + PB.field(11, PB.field(1, "y") + PB.field(2, "2"))
        let object = try decode(
            "v1", "ConfigMap", PB.field(1, first) + PB.field(2, PB.field(1, "k")) + PB.field(1, second))
        XCTAssertEqual(object["metadata"], ["name": "a", "namespace": "ns", "labels": ["x": "1", "y": "2"]])
        XCTAssertEqual(object.objectValue?.keys, ["apiVersion", "kind", "metadata", "data"])
    }

    func testInlineStructsJoinTheirParent() throws {
        // Volume { name = 1, VolumeSource (inline) = 2 { configMap = 19 { LocalObjectReference (inline) = 1 } } }
        let configMap = PB.field(1, PB.field(1, "settings")) + PB.field(4, varint: 1)
        let volume = PB.field(1, "v") + PB.field(2, PB.field(19, configMap))
        let object = try decode("v1", "Pod", PB.field(2, PB.field(1, volume)))
        XCTAssertEqual(
            object[path: "spec", "volumes"], [["name": "v", "configMap": ["name": "settings", "optional": true]]])
    }

    func testRepeatedPackedMapsAndUnknownFields() throws {
        // ConfigMap.data with a repeated key (last wins), then unknown fields of every wire type.
        let entries =
            PB.field(2, PB.field(1, "a") + PB.field(2, "1")) + PB.field(2, PB.field(1, "b"))
            + PB.field(2, PB.field(1, "a") + PB.field(2, "2"))
        let unknown =
            PB.field(99, varint: 1) + PB.varint(98 << 3 | 1) + [UInt8](repeating: 0, count: 8)
            + PB.field(97, "x") + PB.varint(96 << 3 | 5) + [0, 0, 0, 0]
        let object = try decode("v1", "ConfigMap", entries + unknown)
        XCTAssertEqual(object["data"], ["a": "2", "b": ""])
        XCTAssertEqual(object["data"]?.objectValue?.keys, ["a", "b"])
        // PodFailurePolicyOnExitCodesRequirement.values (3) is repeated int32: packed and unpacked.
        let requirement = PB.field(2, "In") + PB.field(3, bytes: [1, 2]) + PB.field(3, varint: 3)
        let rule = PB.field(1, "FailJob") + PB.field(2, requirement)
        let job = try decode("batch/v1", "Job", PB.field(2, PB.field(11, PB.field(1, rule))))
        XCTAssertEqual(
            job[path: "spec", "podFailurePolicy", "rules"]?.arrayValue?.first?[path: "onExitCodes", "values"],
            [1, 2, 3])
        // Negative int32 values are ten-byte varints.
        let negative = try decode("apps/v1", "Deployment", PB.field(2, PB.field(6, varint: UInt64(bitPattern: -1))))
        XCTAssertEqual(negative[path: "spec", "revisionHistoryLimit"], -1)
    }

    func testTimesAndDurations() throws {
        // Event (core): firstTimestamp (6) is a Time, eventTime (10) a MicroTime.
        let time = PB.field(1, varint: 1_704_164_645) + PB.field(2, varint: 999)
        let micro = PB.field(1, varint: 1_704_164_645) + PB.field(2, varint: 123_456_789)
        let event = try decode("v1", "Event", PB.field(6, time) + PB.field(10, micro) + PB.field(7, []))
        XCTAssertEqual(event["firstTimestamp"], "2024-01-02T03:04:05Z")
        XCTAssertEqual(event["eventTime"], "2024-01-02T03:04:05.123456Z")
        XCTAssertEqual(event["lastTimestamp"], .null)
        XCTAssertEqual(ProtobufTime.rfc3339(seconds: 0, nanos: nil), "1970-01-01T00:00:00Z")
        XCTAssertEqual(ProtobufTime.rfc3339(seconds: -1, nanos: nil), "1969-12-31T23:59:59Z")
        XCTAssertEqual(ProtobufTime.rfc3339(seconds: 951_782_400, nanos: nil), "2000-02-29T00:00:00Z")
        XCTAssertEqual(ProtobufTime.rfc3339(seconds: 10, nanos: -1), "1970-01-01T00:00:09.999999Z")
        XCTAssertFalse(ProtobufTime.rfc3339(seconds: .max, nanos: .max).isEmpty)
        XCTAssertFalse(ProtobufTime.rfc3339(seconds: .min, nanos: .min).isEmpty)
        let durations: [(Int64, String)] = [
            (0, "0s"), (1, "1ns"), (1_500, "1.5µs"), (2_000_000, "2ms"), (1_500_000_000, "1.5s"),
            (3_600_000_000_000, "1h0m0s"), (-90_000_000_000, "-1m30s"), (.min, "-2562047h47m16.854775808s"),
        ]
        for (nanoseconds, text) in durations { XCTAssertEqual(ProtobufTime.goDuration(nanoseconds), text) }
    }

    func testIntOrStringQuantityAndListWrappers() throws {
        // PodDisruptionBudgetSpec: minAvailable (1) int form, maxUnavailable (3) string form.
        let spec =
            PB.field(1, PB.field(1, varint: 0) + PB.field(2, varint: 2))
            + PB.field(3, PB.field(1, varint: 1) + PB.field(3, "25%"))
        XCTAssertEqual(
            try decode("policy/v1", "PodDisruptionBudget", PB.field(2, spec))["spec"],
            ["minAvailable": 2, "maxUnavailable": "25%"])
        // ResourceQuotaSpec.hard (1): a Quantity map value with no string is Go's zero quantity.
        let hard =
            PB.field(1, PB.field(1, "pods") + PB.field(2, PB.field(1, "10")))
            + PB.field(1, PB.field(1, "cpu") + PB.field(2, []))
        XCTAssertEqual(
            try decode("v1", "ResourceQuota", PB.field(2, hard))[path: "spec", "hard"], ["pods": "10", "cpu": "0"])
        // SubjectAccessReviewSpec.extra (5): map<string, ExtraValue>; JSON values are bare arrays.
        let extra = PB.field(5, PB.field(1, "scopes") + PB.field(2, PB.field(1, "a") + PB.field(1, "b")))
        let review = try decode(
            "authorization.k8s.io/v1", "SubjectAccessReview", PB.field(2, extra + PB.field(6, "uid-1")))
        XCTAssertEqual(review["spec"], ["extra": ["scopes": ["a", "b"]], "uid": "uid-1"])
    }

    func testFieldsV1AndDeleteOptions() throws {
        // ObjectMeta.managedFields (17): fieldsV1 (7) holds JSON bytes; non-JSON bytes become base64.
        let entry = PB.field(1, "kubectl") + PB.field(6, "FieldsV1") + PB.field(7, PB.field(1, #"{"f:data":{}}"#))
        let broken = PB.field(1, "other") + PB.field(7, PB.field(1, bytes: [0xFF, 0x00]))
        let object = try decode("v1", "ConfigMap", PB.field(1, PB.field(17, entry) + PB.field(17, broken)))
        XCTAssertEqual(
            object[path: "metadata", "managedFields"],
            [
                ["manager": "kubectl", "fieldsType": "FieldsV1", "fieldsV1": ["f:data": [:]]],
                ["manager": "other", "fieldsV1": "/wA="],
            ])
        // DeleteOptions under a resource's group version; gracePeriodSeconds is a pointer, so 0 stays.
        let options = PB.field(1, varint: 0) + PB.field(4, "Foreground") + PB.field(5, "All")
        let decoded = try KubernetesProtobuf.decode(PB.envelope("apps/v1", "DeleteOptions", options))
        XCTAssertEqual(decoded.kind, "DeleteOptions")
        XCTAssertEqual(
            decoded.object,
            [
                "apiVersion": "apps/v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0,
                "propagationPolicy": "Foreground", "dryRun": ["All"],
            ])
        // Eviction embeds DeleteOptions (2).
        let eviction = try decode(
            "policy/v1", "Eviction", PB.field(1, PB.field(1, "p")) + PB.field(2, PB.field(1, varint: 30)))
        XCTAssertEqual(eviction["deleteOptions"], ["gracePeriodSeconds": 30])
    }

    func testEveryServedKindDecodesAnEmptyObject() throws {
        let schema = try ProtobufSchema.shared.get()
        for key in schema.kinds.keys {
            let words = key.split(separator: " ").map(String.init)
            // Lists, Status and WatchEvent have no ObjectMeta; ProtobufEncoderTests round-trips them.
            guard !words[1].hasSuffix("List"), words[1] != "Status", words[1] != "WatchEvent" else { continue }
            let isOptions = words[1] == "DeleteOptions"
            let raw = isOptions ? [] : PB.field(1, PB.field(1, "x"))  // metadata.name, except DeleteOptions
            let decoded = try KubernetesProtobuf.decode(PB.envelope(words[0], words[1], raw))
            XCTAssertEqual(decoded.object["kind"]?.stringValue, words[1])
            if !isOptions { XCTAssertEqual(decoded.object[path: "metadata", "name"], "x", key) }
        }
    }
}

extension PB {
    /// A map entry field with a bytes value.
    static func field(_ number: Int, _ key: String, bytes value: [UInt8]) -> [UInt8] {
        field(number, field(1, key) + field(2, bytes: value))
    }
}
