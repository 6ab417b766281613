/// Why a node CIDR could not be allocated or released.
struct CIDRSetError: Error, Sendable, Equatable, CustomStringConvertible {
    var message: String
    var description: String { message }

    /// Upstream's `ErrCIDRRangeNoCIDRsRemaining`.
    static let full = CIDRSetError(
        message: "CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range")
}

/// Upstream's `cidrset.CidrSet`: the node-sized subnets of one cluster CIDR, handed out round-robin from where
/// the last allocation ended, with any range (a node's existing CIDR, the service range) marked as taken.
struct CIDRSet: Sendable {
    let cluster: IPNetwork
    let nodeMaskSize: Int
    let maxCIDRs: Int
    private(set) var allocated = 0
    private var used: [Bool]
    private var nextCandidate = 0

    /// Upstream's `clusterSubnetMaxDiff` for IPv6: at most 2^16 node subnets.
    static let maxIPv6SubnetBits = 16

    init(cluster: IPNetwork, nodeMaskSize: Int) throws(CIDRSetError) {
        guard nodeMaskSize >= cluster.prefixLength, nodeMaskSize <= cluster.bits else {
            throw CIDRSetError(
                message:
                    "Controller: Invalid --cluster-cidr, mask size of cluster CIDR must be less than or equal to --node-cidr-mask-size configured for CIDR family"
            )
        }
        let subnetBits = nodeMaskSize - cluster.prefixLength
        guard !cluster.isIPv6 || subnetBits <= Self.maxIPv6SubnetBits else {
            throw CIDRSetError(message: "New CIDR set failed; the node CIDR size is too big")
        }
        self.cluster = cluster
        self.nodeMaskSize = nodeMaskSize
        maxCIDRs = 1 << subnetBits
        used = Array(repeating: false, count: maxCIDRs)
    }

    /// The next free node subnet, searching round-robin from after the last one handed out.
    mutating func allocateNext() throws(CIDRSetError) -> IPNetwork {
        guard allocated < maxCIDRs else { throw .full }
        for offset in 0..<maxCIDRs {
            let candidate = (nextCandidate + offset) % maxCIDRs
            guard !used[candidate] else { continue }
            used[candidate] = true
            allocated += 1
            nextCandidate = (candidate + 1) % maxCIDRs
            return subnet(at: candidate)
        }
        throw .full
    }

    /// Marks every node subnet overlapping `range` as taken.
    mutating func occupy(_ range: IPNetwork) throws(CIDRSetError) {
        for index in try indices(of: range) where !used[index] {
            used[index] = true
            allocated += 1
        }
    }

    /// Frees every node subnet overlapping `range`.
    mutating func release(_ range: IPNetwork) throws(CIDRSetError) {
        for index in try indices(of: range) where used[index] {
            used[index] = false
            allocated -= 1
        }
    }

    /// Whether the node subnet holding `range`'s first address is taken.
    func isTaken(_ range: IPNetwork) -> Bool {
        guard let first = try? indices(of: range).first else { return false }
        return used[first]
    }

    /// Node subnet number `index` of the cluster range.
    func subnet(at index: Int) -> IPNetwork {
        let shift = cluster.bits - nodeMaskSize
        return IPNetwork(
            address: cluster.address | (UInt128(index) << shift), prefixLength: nodeMaskSize, isIPv6: cluster.isIPv6)
    }

    /// The node subnets `range` overlaps (upstream's `getBeginningAndEndIndices`): all of them when it covers
    /// the cluster range.
    private func indices(of range: IPNetwork) throws(CIDRSetError) -> ClosedRange<Int> {
        guard range.overlaps(cluster) else {
            throw CIDRSetError(message: "cidr \(range) is out the range of cluster cidr \(cluster)")
        }
        guard range.prefixLength > cluster.prefixLength else { return 0...(maxCIDRs - 1) }
        return index(of: range.address)...index(of: range.lastAddress)
    }

    private func index(of address: UInt128) -> Int {
        let shift = cluster.bits - nodeMaskSize
        return Int((address >> shift) - (cluster.address >> shift))
    }
}
