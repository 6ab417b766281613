import APIMachinery
import Client
import XCTest

/// Nested models shared by their exact source: pods decoded from identical nested JSON hold one box, while
/// nested JSON that Swift's `==` calls equal but whose bytes differ is decoded, and written back, apart.
final class SharedDecodedValuesTests: XCTestCase {
    private static func pod(_ index: Int) throws -> Pod {
        try Pod(json: try JSON.parse(PodMemoryTests.benchPod(index)))
    }

    private static func address<T>(_ values: [T]?) -> UnsafeRawPointer? {
        values?.withUnsafeBufferPointer { $0.baseAddress.map(UnsafeRawPointer.init) }
    }

    func testIdenticalNestedModelsOfDecodedPodsAreOneBox() throws {
        let first = try Self.pod(1)
        let second = try Self.pod(2)
        XCTAssertNotEqual(first.spec.volumes.first?.name, second.spec.volumes.first?.name)
        let sources = try XCTUnwrap(Self.address(first.spec.volumes.first?.projected?.sources))
        XCTAssertEqual(
            sources, Self.address(second.spec.volumes.first?.projected?.sources),
            "the service-account volume's projection, identical in both pods, is one decoded copy")
        XCTAssertEqual(first.spec.volumes.first?.projected, second.spec.volumes.first?.projected)
        XCTAssertEqual(try Pod(json: first.toJSON()), first)
    }

    func testNestedModelsOfEquivalentButDifferentBytesStayApart() throws {
        let composed = "caf\u{E9}-user"
        let decomposed = "cafe\u{301}-user"
        XCTAssertEqual(JSON.string(composed), JSON.string(decomposed))
        func pod(_ user: String) throws -> Pod {
            try Pod(
                json: try JSON.parse(
                    #"{"metadata":{"name":"p"},"spec":{"securityContext":{"seLinuxOptions":{"user":"\#(user)"}}}}"#))
        }
        let a = try pod(composed)
        let b = try pod(decomposed)
        XCTAssertEqual(Array((a.spec.securityContext?.seLinuxOptions?.user ?? "").utf8), Array(composed.utf8))
        XCTAssertEqual(Array((b.spec.securityContext?.seLinuxOptions?.user ?? "").utf8), Array(decomposed.utf8))
        guard case .string(let written)? = b.toJSON()["spec"]?["securityContext"]?["seLinuxOptions"]?["user"] else {
            return XCTFail("user not written back")
        }
        XCTAssertEqual(Array(written.utf8), Array(decomposed.utf8), "b writes back its own bytes")
    }

    func testASharedBoxKeepsValueSemantics() throws {
        var first = try Self.pod(1)
        let second = try Self.pod(2)
        first.spec.containers[0].resources?.requests["cpu"] = try Quantity(parsing: "20m")
        XCTAssertEqual(second.spec.containers[0].resources?.requests["cpu"], try Quantity(parsing: "10m"))
        XCTAssertEqual(try Self.pod(3).spec.containers[0].resources?.requests["cpu"], try Quantity(parsing: "10m"))
    }
}
