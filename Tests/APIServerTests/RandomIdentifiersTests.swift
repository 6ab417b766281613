import XCTest

@testable import APIServer

/// Identifiers drawn from the pooled random bits keep upstream's shapes and do not repeat.
final class RandomIdentifiersTests: XCTestCase {
    func testUUIDsAreLowercaseVersion4AndDistinct() {
        var seen = Set<String>()
        for _ in 0..<2_000 {
            let uuid = RandomIdentifiers.uuid()
            let bytes = Array(uuid.utf8)
            XCTAssertEqual(bytes.count, 36)
            for dash in [8, 13, 18, 23] { XCTAssertEqual(bytes[dash], UInt8(ascii: "-"), uuid) }
            XCTAssertEqual(bytes[14], UInt8(ascii: "4"), uuid)
            XCTAssertTrue("89ab".utf8.contains(bytes[19]), uuid)
            XCTAssertTrue(uuid.allSatisfy { "0123456789abcdef-".contains($0) }, uuid)
            seen.insert(uuid)
        }
        XCTAssertEqual(seen.count, 2_000)
    }

    func testGeneratedNamesUseUpstreamsAlphabet() {
        var suffixes = Set<String>()
        for _ in 0..<500 {
            let name = RegistryStore.generatedName("web-")
            XCTAssertTrue(name.hasPrefix("web-"))
            let suffix = name.dropFirst(4)
            XCTAssertEqual(suffix.count, 5)
            XCTAssertTrue(suffix.allSatisfy { "bcdfghjklmnpqrstvwxz2456789".contains($0) }, name)
            suffixes.insert(String(suffix))
        }
        XCTAssertGreaterThan(suffixes.count, 490)
    }
}
