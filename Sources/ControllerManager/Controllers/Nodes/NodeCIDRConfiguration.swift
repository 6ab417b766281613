import Component
import Foundation

/// The node IPAM flags resolved as upstream resolves them: the cluster CIDRs (one, or one per family for
/// dual-stack), the node mask size for each, and the service ranges to keep out of them.
struct NodeCIDRConfiguration: Sendable, Equatable {
    /// Upstream's defaults when no mask flag is given.
    static let defaultIPv4MaskSize = 24
    static let defaultIPv6MaskSize = 64

    var clusterCIDRs: [IPNetwork]
    var nodeMaskSizes: [Int]
    var serviceCIDRs: [IPNetwork]

    /// Reads `--cluster-cidr`, the three mask flags (0 meaning unset) and the service ranges.
    init(
        clusterCIDR: String, maskSize: Int, maskSizeIPv4: Int, maskSizeIPv6: Int, serviceRanges: [String]
    ) throws(FlagError) {
        let texts = clusterCIDR.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        guard !texts.isEmpty, !texts.contains(where: \.isEmpty) else {
            throw FlagError(message: "--cluster-cidr must be set when --allocate-node-cidrs is true")
        }
        var cidrs: [IPNetwork] = []
        for text in texts {
            guard let cidr = IPNetwork(text) else {
                throw FlagError(message: "invalid CIDR address: \(text)")
            }
            cidrs.append(cidr)
        }
        guard cidrs.count <= 2 else {
            throw FlagError(message: "len of --cluster-cidr(s) is more than 2")
        }
        if cidrs.count == 2, cidrs[0].isIPv6 == cidrs[1].isIPv6 {
            throw FlagError(message: "cidrs on --cluster-cidr must be dual-stack (one IPv4 and one IPv6)")
        }
        clusterCIDRs = cidrs
        nodeMaskSizes = try Self.maskSizes(
            for: cidrs, maskSize: maskSize, maskSizeIPv4: maskSizeIPv4, maskSizeIPv6: maskSizeIPv6)
        serviceCIDRs = try serviceRanges.filter { !$0.isEmpty }.map { (text: String) throws(FlagError) in
            guard let cidr = IPNetwork(text) else { throw FlagError(message: "invalid CIDR address: \(text)") }
            return cidr
        }
    }

    /// Upstream's `setNodeCIDRMaskSizes`: `--node-cidr-mask-size` for a single-stack cluster, the per-family
    /// flags otherwise, each family's default when unset.
    static func maskSizes(for cidrs: [IPNetwork], maskSize: Int, maskSizeIPv4: Int, maskSizeIPv6: Int)
        throws(FlagError) -> [Int]
    {
        var ipv4 = defaultIPv4MaskSize
        var ipv6 = defaultIPv6MaskSize
        if cidrs.count > 1 {
            guard maskSize == 0 else {
                throw FlagError(message: "usage of --node-cidr-mask-size is not allowed with dual-stack clusters")
            }
            if maskSizeIPv4 != 0 { ipv4 = maskSizeIPv4 }
            if maskSizeIPv6 != 0 { ipv6 = maskSizeIPv6 }
        } else if maskSize != 0 {
            guard maskSizeIPv4 == 0 && maskSizeIPv6 == 0 else {
                throw FlagError(
                    message:
                        "usage of --node-cidr-mask-size-ipv4 and --node-cidr-mask-size-ipv6 is not allowed if --node-cidr-mask-size is set. For dual-stack clusters please unset it and use IPFamily specific flags"
                )
            }
            (ipv4, ipv6) = (maskSize, maskSize)
        } else {
            let singleStackIPv6 = cidrs.first?.isIPv6 ?? false
            if maskSizeIPv4 != 0 {
                guard !singleStackIPv6 else {
                    throw FlagError(
                        message: "usage of --node-cidr-mask-size-ipv4 is not allowed for a single-stack IPv6 cluster")
                }
                ipv4 = maskSizeIPv4
            }
            if maskSizeIPv6 != 0 {
                guard singleStackIPv6 else {
                    throw FlagError(
                        message: "usage of --node-cidr-mask-size-ipv6 is not allowed for a single-stack IPv4 cluster")
                }
                ipv6 = maskSizeIPv6
            }
        }
        return cidrs.map { $0.isIPv6 ? ipv6 : ipv4 }
    }

    /// One CIDR set per cluster CIDR, with the service ranges that overlap it taken (upstream's
    /// `filterOutServiceRange`).
    func makeSets() throws(CIDRSetError) -> [CIDRSet] {
        var sets: [CIDRSet] = []
        for (cidr, mask) in zip(clusterCIDRs, nodeMaskSizes) {
            var set = try CIDRSet(cluster: cidr, nodeMaskSize: mask)
            for service in serviceCIDRs where service.overlaps(cidr) { try set.occupy(service) }
            sets.append(set)
        }
        return sets
    }
}
