import Foundation
import TestSupport
import XCTest

@testable import APIMachinery

/// Kubernetes protobuf request bodies, checked against real kubectl 1.32 captures.
///
/// Fixtures/protobuf holds, per command, the body kubectl POSTed (NAME.pb) and what the same command
/// prints with `--dry-run=client -o json` (NAME.json); scripts/capture-protobuf-fixtures.py
/// regenerates both. The decoded object must equal the printed one. Both come from the same Go
/// object, so no normalisation is needed: the `"creationTimestamp": null` and `"status": {}` that
/// -o json shows are on the wire too (gogo protobuf writes every non-pointer struct, and an empty
/// Time message is Go's zero time, which metav1.Time marshals as null).
final class ProtobufTests: XCTestCase {
    static let fixtureDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/protobuf")

    static let fixtureNames = [
        "configmap", "secret", "deployment", "namespace", "service", "serviceaccount", "role", "rolebinding",
        "clusterrole", "job", "cronjob", "quota", "pdb", "pdb-int",
    ]

    static func body(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: fixtureDirectory.appendingPathComponent(name + ".pb")))
    }

    static func expectedJSON(_ name: String) throws -> JSON {
        try JSON.parse([UInt8](try Data(contentsOf: fixtureDirectory.appendingPathComponent(name + ".json"))))
    }

    func testFieldTableParses() throws {
        let schema = try ProtobufSchema.shared.get()
        XCTAssertGreaterThan(schema.messages.count, 250)
        // 61 kinds, 50 of their lists, Status (as v1 and meta.k8s.io/v1), WatchEvent and PartialObjectMetadata[List]
        // in meta.k8s.io v1 and v1beta1.
        XCTAssertEqual(schema.kinds.count, 118)
        XCTAssertNotNil(schema.message(forAPIVersion: "apps/v1", kind: "DeleteOptions"))
        XCTAssertNil(schema.message(forAPIVersion: "apps/v1beta1", kind: "Deployment"))
    }

    func testKubectlBodiesDecodeToKubectlJSON() throws {
        for name in Self.fixtureNames {
            let body = try Self.body(name)
            XCTAssertLessThan(body.count, 1024, "fixture \(name) should stay small")
            let expected = try Self.expectedJSON(name)
            let decoded = try KubernetesProtobuf.decode(body)
            XCTAssertEqual(decoded.apiVersion, expected["apiVersion"]?.stringValue, name)
            XCTAssertEqual(decoded.kind, expected["kind"]?.stringValue, name)
            XCTAssertEqual(decoded.object.objectValue?.keys.prefix(2), ["apiVersion", "kind"], name)
            if decoded.object != expected {
                XCTFail("\(name): decoded \(decoded.object.jsonString)\n  expected \(expected.jsonString)")
            }
        }
    }

    func testKubectlBodiesSpotChecks() throws {
        let secret = try KubernetesProtobuf.decode(Self.body("secret")).object
        XCTAssertEqual(secret[path: "data", "k"], "dg==")  // bytes are base64, as in JSON
        let deployment = try KubernetesProtobuf.decode(Self.body("deployment")).object
        XCTAssertEqual(deployment[path: "spec", "replicas"], 3)
        XCTAssertEqual(deployment[path: "metadata", "creationTimestamp"], .null)
        XCTAssertEqual(deployment["status"], .object([:]))
        XCTAssertNil(deployment[path: "spec", "minReadySeconds"], "zero non-pointer omitempty fields stay out")
        let service = try KubernetesProtobuf.decode(Self.body("service")).object
        XCTAssertEqual(service[path: "spec", "ports"]?.arrayValue?.first?["targetPort"], 8080)
        let pdb = try KubernetesProtobuf.decode(Self.body("pdb")).object
        XCTAssertEqual(pdb[path: "spec", "minAvailable"], "50%")
        let quota = try KubernetesProtobuf.decode(Self.body("quota")).object
        XCTAssertEqual(quota[path: "spec", "hard", "cpu"], "1500m")
        let cronJob = try KubernetesProtobuf.decode(Self.body("cronjob")).object
        let container = cronJob[path: "spec", "jobTemplate", "spec", "template", "spec", "containers"]?.arrayValue?
            .first
        XCTAssertEqual(container?["command"], ["date"])
    }

    /// `kubectl create token` has no --dry-run, so its TokenRequest is checked field by field.
    func testKubectlCreateTokenBody() throws {
        let decoded = try KubernetesProtobuf.decode(Self.body("token"))
        XCTAssertEqual(decoded.apiVersion, "authentication.k8s.io/v1")
        XCTAssertEqual(decoded.kind, "TokenRequest")
        XCTAssertEqual(decoded.object[path: "spec", "audiences"], ["api"])
        XCTAssertEqual(decoded.object[path: "spec", "expirationSeconds"], 600)
        XCTAssertEqual(decoded.object[path: "metadata", "creationTimestamp"], .null)
        XCTAssertEqual(decoded.object[path: "status", "expirationTimestamp"], .null)
        // TokenRequestStatus.token has no omitempty, so Go's JSON, like ours, keeps the empty string.
        XCTAssertEqual(decoded.object[path: "status", "token"], "")
    }

    func testIsProtobuf() {
        XCTAssertTrue(KubernetesProtobuf.isProtobuf(contentType: "application/vnd.kubernetes.protobuf"))
        XCTAssertTrue(KubernetesProtobuf.isProtobuf(contentType: "Application/VND.Kubernetes.Protobuf; charset=utf-8"))
        XCTAssertFalse(KubernetesProtobuf.isProtobuf(contentType: "application/vnd.kubernetes.protobuf;stream=watch"))
        XCTAssertFalse(KubernetesProtobuf.isProtobuf(contentType: "application/json"))
        XCTAssertFalse(KubernetesProtobuf.isProtobuf(contentType: ""))
    }

    // MARK: Malformed input

    func testEveryTruncationThrowsOrDecodes() throws {
        for name in Self.fixtureNames + ["token"] {
            let body = try Self.body(name)
            var decodedPrefixes = 0
            for length in 0..<body.count {
                do {
                    _ = try KubernetesProtobuf.decode(Array(body.prefix(length)))
                    decodedPrefixes += 1
                } catch {
                    continue
                }
            }
            // Only cuts on the envelope's own field boundaries (after typeMeta, after raw, after the
            // empty contentEncoding gogo writes) leave a valid message; the object is one field.
            XCTAssertLessThanOrEqual(decodedPrefixes, 3, name)
        }
    }

    func testMalformedBodiesThrowTypedErrors() {
        let cases: [(String, [UInt8], ProtobufDecodeError.Reason)] = [
            ("empty", [], .malformed),
            ("bad magic", [0x6B, 0x38, 0x73, 0x01, 0x0A, 0x00], .malformed),
            ("no typeMeta", PB.magic + PB.field(2, bytes: []), .malformed),
            ("varint too long", PB.magic + [UInt8](repeating: 0xFF, count: 11) + [0x01], .malformed),
            ("length past end", PB.magic + [0x0A, 0x7F, 0x00], .malformed),
            ("huge length", PB.magic + [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], .malformed),
            ("field number zero", PB.magic + [0x02, 0x00], .malformed),
            ("group", PB.magic + [0x0B, 0x0C], .malformed),
            ("wrong wire type in envelope", PB.magic + PB.field(1, varint: 5), .malformed),
            ("unknown kind", PB.envelope("v1", "Frobnicator", []), .unsupportedKind),
            ("unknown version", PB.envelope("apps/v1beta2", "Deployment", []), .unsupportedKind),
            ("gzip", PB.envelope("v1", "ConfigMap", [], contentEncoding: "gzip"), .unsupportedEncoding),
            ("json inside", PB.envelope("v1", "ConfigMap", [], contentType: "application/json"), .unsupportedEncoding),
            // ObjectMeta.name (1) sent as a varint.
            ("wrong wire type", PB.envelope("v1", "ConfigMap", PB.field(1, PB.field(1, varint: 3))), .malformed),
            // ConfigMap.data (2) map entry whose value length runs past the entry.
            ("map entry overrun", PB.envelope("v1", "ConfigMap", PB.field(2, [0x12, 0x05, 0x61])), .malformed),
            (
                "packed overrun", PB.envelope("batch/v1", "Job", PB.field(2, PB.field(11, [0x2A, 0x09, 0x01]))),
                .malformed
            ),
            (
                "IntOrString type 7",
                PB.envelope("policy/v1", "PodDisruptionBudget", PB.field(2, PB.field(1, PB.field(1, varint: 7)))),
                .malformed
            ),
        ]
        for (label, body, reason) in cases {
            do {
                let decoded = try KubernetesProtobuf.decode(body)
                XCTFail("\(label): decoded \(decoded.object.jsonString)")
            } catch {
                XCTAssertEqual(error.reason, reason, "\(label): \(error)")
            }
        }
    }

    func testErrorNamesTheFieldPath() {
        // Deployment.spec(2).template(3).spec(2).containers(2).name(1) as a varint.
        let container = PB.field(1, varint: 1)
        let body = PB.envelope("apps/v1", "Deployment", PB.field(2, PB.field(3, PB.field(2, PB.field(2, container)))))
        XCTAssertThrowsError(try KubernetesProtobuf.decode(body)) { error in
            let decodeError = error as? ProtobufDecodeError
            XCTAssertEqual(decodeError?.path, "spec.template.spec.containers.name")
            XCTAssertTrue(decodeError?.description.contains("unexpected wire type 0") ?? false, "\(error)")
        }
    }

    func testNestingDepthIsBounded() throws {
        let schema = try ProtobufSchema.shared.get()
        let pod = try XCTUnwrap(schema.message(forAPIVersion: "v1", kind: "Pod"))
        // spec.containers[0].securityContext: three messages below the Pod.
        let raw = PB.field(2, PB.field(2, PB.field(15, [])))
        let decoder = ProtobufDecoder(bytes: raw, schema: schema)
        XCTAssertNoThrow(try decoder.message(pod, in: 0..<raw.count, depth: ProtobufDecoder.maxDepth - 3))
        XCTAssertThrowsError(try decoder.message(pod, in: 0..<raw.count, depth: ProtobufDecoder.maxDepth - 2))
    }

    /// Thousands of corruptions of the real bodies (flipped, inserted, removed and duplicated bytes,
    /// random tails) must each decode or throw ProtobufDecodeError, never trap or hang.
    func testFuzzedBodiesNeverCrash() throws {
        var random = SeededRandom(seed: 0x6B38_7300)
        let bodies = try (Self.fixtureNames + ["token"]).map(Self.body)
        var decodedCount = 0
        var thrownCount = 0
        for round in 0..<4_000 {
            var body = bodies[round % bodies.count]
            for _ in 0...random.next(below: 4) {
                let position = 4 + random.next(below: max(1, body.count - 4))
                switch random.next(below: 6) {
                case 0 where position < body.count: body[position] ^= UInt8(1 << random.next(below: 8))
                case 1 where position < body.count: body[position] = UInt8(truncatingIfNeeded: random.next())
                case 2: body.insert(UInt8(truncatingIfNeeded: random.next()), at: min(position, body.count))
                case 3 where position < body.count: body.remove(at: position)
                case 4 where position < body.count:
                    let end = min(body.count, position + 1 + random.next(below: 16))
                    body.insert(contentsOf: body[position..<end], at: position)
                default:
                    body =
                        Array(body.prefix(position))
                        + (0..<random.next(below: 24)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                }
            }
            do {
                _ = try KubernetesProtobuf.decode(body)
                decodedCount += 1
            } catch {
                thrownCount += 1
            }
        }
        XCTAssertEqual(decodedCount + thrownCount, 4_000)
        XCTAssertGreaterThan(decodedCount, 100, "some corruptions (e.g. in string bytes) stay valid")
        XCTAssertGreaterThan(thrownCount, 100)
    }
}

/// Builds protobuf bytes for hand-made test messages.
enum PB {
    static let magic: [UInt8] = [0x6B, 0x38, 0x73, 0x00]

    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var out: [UInt8] = []
        while value >= 0x80 {
            out.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
        return out
    }

    static func field(_ number: Int, varint value: UInt64) -> [UInt8] { varint(UInt64(number) << 3) + varint(value) }
    static func field(_ number: Int, bytes: [UInt8]) -> [UInt8] {
        varint(UInt64(number) << 3 | 2) + varint(UInt64(bytes.count)) + bytes
    }
    static func field(_ number: Int, _ message: [UInt8]) -> [UInt8] { field(number, bytes: message) }
    static func field(_ number: Int, _ text: String) -> [UInt8] { field(number, bytes: Array(text.utf8)) }

    static func envelope(
        _ apiVersion: String, _ kind: String, _ raw: [UInt8], contentEncoding: String = "", contentType: String = ""
    ) -> [UInt8] {
        var body = magic + field(1, field(1, apiVersion) + field(2, kind)) + field(2, bytes: raw)
        if !contentEncoding.isEmpty { body += field(3, contentEncoding) }
        if !contentType.isEmpty { body += field(4, contentType) }
        return body
    }
}
