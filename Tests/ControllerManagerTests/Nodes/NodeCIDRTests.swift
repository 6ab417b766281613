import Component
import XCTest

@testable import ControllerManager

final class NodeCIDRTests: XCTestCase {
    private func network(_ text: String) throws -> IPNetwork {
        try XCTUnwrap(IPNetwork(text), text)
    }

    func testNetworksParseMaskedAndPrintAsGoDoes() throws {
        XCTAssertEqual(try network("10.244.3.7/16").description, "10.244.0.0/16")
        XCTAssertEqual(try network("fd00:0:0::1/48").description, "fd00::/48")
        for bad in ["10.0.0.0", "10.0.0.0/33", "10.0.0/8", "fd00::/129", "10.0.0.0/+8", "x/8"] {
            XCTAssertNil(IPNetwork(bad), bad)
        }
    }

    func testAllocationIsRoundRobinAndFullWhenEverySubnetIsTaken() throws {
        var set = try CIDRSet(cluster: try network("10.0.0.0/22"), nodeMaskSize: 24)
        XCTAssertEqual(set.maxCIDRs, 4)
        XCTAssertEqual(try set.allocateNext().description, "10.0.0.0/24")
        XCTAssertEqual(try set.allocateNext().description, "10.0.1.0/24")
        try set.release(try network("10.0.0.0/24"))
        XCTAssertEqual(try set.allocateNext().description, "10.0.2.0/24", "round robin: a freed subnet waits its turn")
        XCTAssertEqual(try set.allocateNext().description, "10.0.3.0/24")
        XCTAssertEqual(try set.allocateNext().description, "10.0.0.0/24")
        XCTAssertThrowsError(try set.allocateNext()) { XCTAssertEqual($0 as? CIDRSetError, .full) }
    }

    func testOccupyingMarksEveryOverlappingSubnet() throws {
        var set = try CIDRSet(cluster: try network("10.0.0.0/16"), nodeMaskSize: 24)
        try set.occupy(try network("10.0.4.0/22"))
        XCTAssertEqual(set.allocated, 4)
        XCTAssertTrue(set.isTaken(try network("10.0.7.0/24")))
        XCTAssertFalse(set.isTaken(try network("10.0.8.0/24")))
        try set.occupy(try network("10.0.9.128/25"))
        XCTAssertTrue(set.isTaken(try network("10.0.9.0/24")), "a smaller range takes its whole node subnet")
        try set.occupy(try network("10.0.0.0/8"))
        XCTAssertEqual(set.allocated, 256, "a range covering the cluster takes it all")
        XCTAssertThrowsError(try set.occupy(try network("192.168.0.0/24")))
    }

    func testIPv6SetsAndTheirLimit() throws {
        var set = try CIDRSet(cluster: try network("fd00::/48"), nodeMaskSize: 64)
        XCTAssertEqual(try set.allocateNext().description, "fd00::/64")
        XCTAssertEqual(try set.allocateNext().description, "fd00:0:0:1::/64")
        XCTAssertThrowsError(try CIDRSet(cluster: try network("fd00::/32"), nodeMaskSize: 64), "2^32 subnets")
        XCTAssertThrowsError(try CIDRSet(cluster: try network("10.0.0.0/16"), nodeMaskSize: 8))
    }

    func testMaskSizesFollowUpstreamsFlagRules() throws {
        let v4 = try network("10.0.0.0/16")
        let v6 = try network("fd00::/48")
        let cases: [([IPNetwork], Int, Int, Int, [Int]?)] = [
            ([v4], 0, 0, 0, [24]),
            ([v6], 0, 0, 0, [64]),
            ([v4], 26, 0, 0, [26]),
            ([v4], 0, 25, 0, [25]),
            ([v4], 0, 0, 80, nil),
            ([v6], 0, 25, 0, nil),
            ([v4], 26, 25, 0, nil),
            ([v4, v6], 0, 0, 0, [24, 64]),
            ([v6, v4], 0, 26, 60, [60, 26]),
            ([v4, v6], 24, 0, 0, nil),
        ]
        for (cidrs, mask, mask4, mask6, expected) in cases {
            let sizes = try? NodeCIDRConfiguration.maskSizes(
                for: cidrs, maskSize: mask, maskSizeIPv4: mask4, maskSizeIPv6: mask6)
            XCTAssertEqual(sizes, expected, "\(cidrs) \(mask) \(mask4) \(mask6)")
        }
    }

    func testTheServiceRangeIsNeverHandedOut() throws {
        let configuration = try NodeCIDRConfiguration(
            clusterCIDR: "10.0.0.0/22", maskSize: 24, maskSizeIPv4: 0, maskSizeIPv6: 0,
            serviceRanges: ["10.0.1.0/24", "", "172.16.0.0/16"])
        var sets = try configuration.makeSets()
        XCTAssertEqual(sets.count, 1)
        var handedOut: [String] = []
        while let next = try? sets[0].allocateNext() { handedOut.append(next.description) }
        XCTAssertEqual(handedOut, ["10.0.0.0/24", "10.0.2.0/24", "10.0.3.0/24"])
    }

    func testClusterCIDRFlagsAreValidated() {
        let bad = ["", "10.0.0.0/16,10.1.0.0/16", "10.0.0.0/16,fd00::/48,fd01::/48", "10.0.0.0"]
        for text in bad {
            XCTAssertThrowsError(
                try NodeCIDRConfiguration(
                    clusterCIDR: text, maskSize: 0, maskSizeIPv4: 0, maskSizeIPv6: 0, serviceRanges: []), text)
        }
    }
}
