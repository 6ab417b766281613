import XCTest

@testable import APIMachinery

/// The protobuf encoder against the decoder (every kind in the table, every field filled), against real
/// kubectl captures, and against hand-computed bytes for the envelope and the watch framing.
final class ProtobufEncoderTests: XCTestCase {
    /// For every kind of the field table: an object with every field set (nested messages to a bounded
    /// depth) encodes, decodes back to itself, and the bytes survive a second round unchanged.
    func testEveryKindRoundTripsWithEveryFieldSet() throws {
        let schema = try ProtobufSchema.shared.get()
        XCTAssertGreaterThan(schema.kinds.count, 100)
        for (key, index) in schema.kinds.sorted(by: { $0.key < $1.key }) {
            let words = key.split(separator: " ").map(String.init)
            var sample = Sample(schema: schema)
            guard case .object(let fields) = sample.message(index, depth: 0) else {
                return XCTFail("\(key): the sample is not an object")
            }
            let object = JSON.object(
                JSONObject([("apiVersion", .string(words[0])), ("kind", .string(words[1]))] + fields.entries))
            let bytes = try KubernetesProtobuf.encode(object, apiVersion: words[0], kind: words[1])
            let decoded = try KubernetesProtobuf.decode(bytes)
            XCTAssertEqual(decoded.apiVersion, words[0], key)
            XCTAssertEqual(decoded.kind, words[1], key)
            if decoded.object != object {
                XCTFail("\(key): decoded \(decoded.object.jsonString)\n  from \(object.jsonString)")
            }
            XCTAssertEqual(
                try KubernetesProtobuf.encode(decoded.object, apiVersion: words[0], kind: words[1]), bytes, key)
        }
    }

    /// kubectl's own protobuf bodies and ours decode to the same object: what kubectl printed as JSON, less
    /// the nulls and zero values Go writes and JSON readers drop.
    func testKubectlObjectsEncodeToWhatKubectlsBytesDecodeTo() throws {
        for name in ProtobufTests.fixtureNames {
            let expected = try ProtobufTests.expectedJSON(name)
            let apiVersion = try XCTUnwrap(expected["apiVersion"]?.stringValue)
            let kind = try XCTUnwrap(expected["kind"]?.stringValue)
            let ours = try KubernetesProtobuf.decode(
                KubernetesProtobuf.encode(expected, apiVersion: apiVersion, kind: kind))
            let theirs = try KubernetesProtobuf.decode(ProtobufTests.body(name))
            XCTAssertEqual(Self.withoutNulls(ours.object), Self.withoutNulls(theirs.object), name)
            XCTAssertEqual(Self.withoutNulls(ours.object), Self.withoutNulls(expected), name)
        }
    }

    func testEnvelopeBytesForASmallConfigMap() throws {
        let object: JSON = ["metadata": ["name": "a"], "data": ["k": "v"]]
        let bytes = try KubernetesProtobuf.encode(object, apiVersion: "v1", kind: "ConfigMap")
        let typeMeta = PB.field(1, "v1") + PB.field(2, "ConfigMap")
        let raw = PB.field(1, PB.field(1, "a")) + PB.field(2, PB.field(1, "k") + PB.field(2, "v"))
        // Go always writes Unknown's contentEncoding (3) and contentType (4), empty.
        XCTAssertEqual(bytes, PB.magic + PB.field(1, typeMeta) + PB.field(2, raw) + [0x1A, 0x00, 0x22, 0x00])
    }

    func testSpecialTypesAndScalarsOnTheWire() throws {
        let deployment: JSON = [
            "spec": [
                "replicas": 0, "minReadySeconds": -1,
                "strategy": ["rollingUpdate": ["maxSurge": "25%", "maxUnavailable": 1]],
                "template": ["metadata": ["creationTimestamp": "1970-01-01T00:01:40Z"]],
            ]
        ]
        let bytes = try KubernetesProtobuf.encode(deployment, apiVersion: "apps/v1", kind: "Deployment")
        let intOrString = { (int: UInt64, text: String) -> [UInt8] in
            text.isEmpty
                ? PB.field(1, varint: 0) + PB.field(2, varint: int) + PB.field(3, "")
                : PB.field(1, varint: 1) + PB.field(2, varint: 0) + PB.field(3, text)
        }
        let rolling = PB.field(1, intOrString(1, "")) + PB.field(2, intOrString(0, "25%"))
        // Time: whole seconds (1) and nanos (2), which metav1.Time leaves at zero.
        let template = PB.field(1, PB.field(8, PB.field(1, varint: 100) + PB.field(2, varint: 0)))
        // replicas 0 is written (a pointer set to zero); -1 takes ten bytes as Go's int32 does.
        let spec =
            PB.field(1, varint: 0) + PB.field(3, template) + PB.field(4, PB.field(2, rolling))
            + PB.field(5, varint: UInt64(bitPattern: -1))
        let typeMeta = PB.field(1, "apps/v1") + PB.field(2, "Deployment")
        XCTAssertEqual(
            bytes, PB.magic + PB.field(1, typeMeta) + PB.field(2, PB.field(2, spec)) + [0x1A, 0x00, 0x22, 0x00])
    }

    func testBytesDurationsMicroTimeAndQuantities() throws {
        let secret = try roundTrip(["data": ["b": "AAEC/w==", "a": ""]], "v1", "Secret")
        XCTAssertEqual(secret["data"], ["a": "", "b": "AAEC/w=="])
        let event = try roundTrip(
            ["eventTime": "2024-05-06T07:08:09.123456Z", "series": ["count": 2]], "events.k8s.io/v1", "Event")
        XCTAssertEqual(event["eventTime"], "2024-05-06T07:08:09.123456Z")
        let quota = try roundTrip(["spec": ["hard": ["cpu": "1500m", "pods": 10]]], "v1", "ResourceQuota")
        XCTAssertEqual(quota[path: "spec", "hard"], ["cpu": "1500m", "pods": "10"])
        let hpa = try roundTrip(
            ["spec": ["behavior": ["scaleUp": ["stabilizationWindowSeconds": 30]]]], "autoscaling/v2",
            "HorizontalPodAutoscaler")
        XCTAssertEqual(hpa[path: "spec", "behavior", "scaleUp", "stabilizationWindowSeconds"], 30)
        XCTAssertEqual(ProtobufTimeParsing.goDuration("1h2m3.5s"), 3_723_500_000_000)
        XCTAssertEqual(ProtobufTimeParsing.goDuration("-250ms"), -250_000_000)
        XCTAssertEqual(ProtobufTimeParsing.goDuration("0"), 0)
        XCTAssertNil(ProtobufTimeParsing.goDuration("5"))
        XCTAssertNil(ProtobufTimeParsing.goDuration("1x"))
        XCTAssertEqual(Base64Decoding.decode("aGk="), Array("hi".utf8))
        XCTAssertNil(Base64Decoding.decode("aG=k"))
        XCTAssertNil(Base64Decoding.decode("aGk"))
    }

    func testValuesOfTheWrongTypeNameTheirField() {
        XCTAssertThrowsError(
            try KubernetesProtobuf.encode(["spec": ["replicas": "3"]], apiVersion: "apps/v1", kind: "Deployment")
        ) { error in
            XCTAssertEqual((error as? ProtobufEncodeError)?.path, "spec.replicas")
        }
        XCTAssertThrowsError(try KubernetesProtobuf.encode(["data": ["k": "%%%"]], apiVersion: "v1", kind: "Secret"))
        XCTAssertThrowsError(try KubernetesProtobuf.encode([:], apiVersion: "example.com/v1", kind: "Widget"))
    }

    func testLargeMessagesGetMultiByteLengths() throws {
        let long = String(repeating: "x", count: 70_000)
        let bytes = try KubernetesProtobuf.encode(
            ["metadata": ["name": "n", "annotations": ["a": .string(long)]]], apiVersion: "v1", kind: "ConfigMap")
        let decoded = try KubernetesProtobuf.decode(bytes).object
        XCTAssertEqual(decoded[path: "metadata", "annotations", "a"]?.stringValue?.count, 70_000)
    }

    func testListsAndWatchFrames() throws {
        let pods: [JSON] = [["metadata": ["name": "a"]], ["metadata": ["name": "b"], "spec": ["nodeName": "n"]]]
        let list = try KubernetesProtobuf.encodeList(
            apiVersion: "v1", kind: "PodList", metadata: ["resourceVersion": "7", "continue": "c"], items: pods)
        let decoded = try KubernetesProtobuf.decode(list).object
        XCTAssertEqual(decoded["metadata"], ["resourceVersion": "7", "continue": "c"])
        XCTAssertEqual(decoded["items"], .array(pods))
        // v1beta1's PartialObjectMetadataList numbers items 1 and metadata 2.
        let partial = try KubernetesProtobuf.encodeList(
            apiVersion: "meta.k8s.io/v1beta1", kind: "PartialObjectMetadataList", metadata: ["resourceVersion": "3"],
            items: [["metadata": ["name": "a"]]])
        let raw = PB.field(1, PB.field(1, PB.field(1, "a"))) + PB.field(2, PB.field(2, "3"))
        XCTAssertEqual(Array(partial.dropLast(4).suffix(raw.count)), raw)

        var stream: [UInt8] = []
        let pod = try KubernetesProtobuf.encode(pods[0], apiVersion: "v1", kind: "Pod")
        KubernetesProtobuf.appendWatchFrame(type: "ADDED", object: pod, to: &stream)
        let event = PB.field(1, "ADDED") + PB.field(2, PB.field(1, bytes: pod))
        XCTAssertEqual(Array(stream.prefix(4)), [0, 0, 0, UInt8(event.count)])
        XCTAssertEqual(Array(stream.dropFirst(4)), event)
        KubernetesProtobuf.appendWatchFrame(type: "DELETED", object: pod, to: &stream)
        var partialStream = Array(stream.dropLast(3))
        var events = try KubernetesProtobuf.decodeWatchFrames(&partialStream)
        XCTAssertEqual(events.map(\.type), ["ADDED"])
        XCTAssertEqual(events.first?.object, ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "a"]])
        partialStream += stream.suffix(3)
        events = try KubernetesProtobuf.decodeWatchFrames(&partialStream)
        XCTAssertEqual(events.map(\.type), ["DELETED"])
        XCTAssertTrue(partialStream.isEmpty)
    }

    private func roundTrip(_ object: JSON, _ apiVersion: String, _ kind: String) throws -> JSON {
        try KubernetesProtobuf.decode(KubernetesProtobuf.encode(object, apiVersion: apiVersion, kind: kind)).object
    }

    static func withoutNulls(_ value: JSON) -> JSON {
        switch value {
        case .object(let object):
            return .object(
                JSONObject(object.entries.compactMap { $0.value == .null ? nil : ($0.key, withoutNulls($0.value)) }))
        case .array(let items): return .array(items.map(withoutNulls))
        default: return value
        }
    }
}

/// Builds an object with every field of a message set to a non-zero value of its type, as the decoder
/// writes it back: the sample is what a round trip must reproduce exactly.
private struct Sample {
    let schema: ProtobufSchema
    var counter = 0

    mutating func message(_ index: Int, depth: Int) -> JSON {
        let message = schema.messages[index]
        if let special = message.special { return self.special(special) }
        var entries: [(key: String, value: JSON)] = []
        guard depth < 7 else { return .object(JSONObject()) }
        for field in message.fields {
            if field.isInline, case .message(let inner) = field.value {
                if case .object(let innerObject) = self.message(inner, depth: depth + 1) {
                    entries.append(contentsOf: innerObject.entries)
                }
                continue
            }
            let one = value(field.value, depth: depth)
            if field.mapKey != nil {
                entries.append((field.jsonName, .object(JSONObject([("k\(counter)", one)]))))
            } else if field.isRepeated {
                entries.append((field.jsonName, .array([one, value(field.value, depth: depth)])))
            } else {
                entries.append((field.jsonName, one))
            }
        }
        return .object(JSONObject(entries))
    }

    private mutating func value(_ type: ProtobufValueType, depth: Int) -> JSON {
        counter += 1
        switch type {
        case .message(let index): return message(index, depth: depth + 1)
        case .scalar(.string): return .string("s\(counter)")
        case .scalar(.bytes): return .string(Base64.encode(ArraySlice(Array("b\(counter)".utf8))))
        case .scalar(.bool): return .bool(true)
        case .scalar(.float), .scalar(.double): return .double(Double(counter) + 0.5)
        case .scalar(.int32), .scalar(.int64), .scalar(.sint32), .scalar(.sint64), .scalar(.sfixed32),
            .scalar(.sfixed64):
            return .int(counter % 2 == 0 ? Int64(counter) : -Int64(counter))
        case .scalar: return .int(Int64(counter))
        }
    }

    private mutating func special(_ special: ProtobufSpecial) -> JSON {
        counter += 1
        switch special {
        case .time: return .string(ProtobufTime.rfc3339(seconds: 1_700_000_000 + Int64(counter), nanos: nil))
        case .microtime: return .string(ProtobufTime.rfc3339(seconds: 1_700_000_000, nanos: Int64(counter) * 1_000))
        case .duration: return .string(ProtobufTime.goDuration(Int64(counter) * 1_500_000_000))
        case .quantity: return .string("\(counter)Mi")
        case .intorstring: return counter % 2 == 0 ? .int(Int64(counter)) : .string("p\(counter)")
        case .rawextension: return ["apiVersion": "v1", "kind": "Sample", "n": .int(Int64(counter))]
        case .fieldsv1: return ["f:metadata": ["f:n\(counter)": [:]]]
        case .list: return [.string("a\(counter)"), .string("b\(counter)")]
        }
    }
}
