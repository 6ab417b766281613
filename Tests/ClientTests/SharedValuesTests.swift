import APIMachinery
import Client
import XCTest

/// What decoded models share: values that many objects repeat are one copy (`PodMemoryTests` measures the
/// bytes), but only where equal values encode identically, so a shared copy never changes what is written back.
final class SharedValuesTests: XCTestCase {
    private static func pod(_ index: Int) throws -> Pod {
        try Pod(json: try JSON.parse(PodMemoryTests.benchPod(index)))
    }

    /// The address of a string's heap storage; nil for a small string stored inline.
    private static func storage(_ value: String) -> UnsafeRawPointer? {
        var copy = value
        return copy.withUTF8 { UnsafeRawPointer($0.baseAddress) }.flatMap { pointer in
            value.utf8.count > 15 ? pointer : nil
        }
    }

    func testRepeatedValuesOfDecodedPodsAreOneCopy() throws {
        let first = try Self.pod(1)
        let second = try Self.pod(2)
        let key = try XCTUnwrap(first.spec.tolerations.first?.key)
        XCTAssertEqual(key, "node.kubernetes.io/not-ready")
        XCTAssertNotNil(Self.storage(key))
        XCTAssertEqual(
            Self.storage(key), second.spec.tolerations.first?.key.flatMap(Self.storage),
            "a toleration key both pods carry is one string")
        XCTAssertEqual(
            first.status.conditions.withUnsafeBufferPointer { $0.baseAddress },
            second.status.conditions.withUnsafeBufferPointer { $0.baseAddress },
            "equal conditions (pods ready in the same second) are one array")
        XCTAssertNotEqual(
            first.spec.containers.withUnsafeBufferPointer { $0.baseAddress },
            second.spec.containers.withUnsafeBufferPointer { $0.baseAddress },
            "containers hold quantities, whose equal values may be encoded differently")
        let image = try XCTUnwrap(first.status.containerStatuses.first?.image)
        XCTAssertEqual(Self.storage(image), second.status.containerStatuses.first?.image.flatMap(Self.storage))
        // Values that identify one object are not looked up (they never repeat); they are still right.
        XCTAssertNotEqual(first.metadata.uid, second.metadata.uid)
        XCTAssertEqual(try Pod(json: first.toJSON()), first)
    }

    func testEqualButDifferentlyEncodedValuesKeepTheirOwnEncoding() throws {
        // Swift's == holds for canonically equivalent text and for equal quantities in other notations; a shared
        // copy would write the other object's bytes back (and change a pod template's hash).
        let composed = "caf\u{E9} au lait, label value"
        let decomposed = "cafe\u{301} au lait, label value"
        XCTAssertEqual(composed, decomposed)
        func pod(_ note: String, _ memory: String) throws -> Pod {
            try Pod(
                json: try JSON.parse(
                    #"""
                    {"metadata":{"name":"p","annotations":{"note":"\#(note)"},"labels":{"text":"\#(note)"}},
                    "spec":{"containers":[{"name":"c","resources":{"requests":{"memory":"\#(memory)"}}}]}}
                    """#))
        }
        let a = try pod(composed, "1Gi")
        let b = try pod(decomposed, "1073741824")
        XCTAssertEqual(Array(a.metadata.annotations["note", default: ""].utf8), Array(composed.utf8))
        XCTAssertEqual(Array(b.metadata.annotations["note", default: ""].utf8), Array(decomposed.utf8))
        XCTAssertEqual(Array(b.metadata.labels["text", default: ""].utf8), Array(decomposed.utf8))
        XCTAssertEqual(
            b.toJSON()[path: "spec", "containers"]?.arrayValue?.first?[path: "resources", "requests", "memory"],
            "1073741824")
        XCTAssertEqual(
            a.toJSON()[path: "spec", "containers"]?.arrayValue?.first?[path: "resources", "requests", "memory"],
            "1Gi")
    }
}
