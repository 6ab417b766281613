public import APIMachinery

/// What a lock object holds about the current leader, as client-go's `resourcelock.LeaderElectionRecord`;
/// a `Lease` stores it in its `spec`.
public struct LeaderElectionRecord: Sendable, Hashable {
    /// The candidate holding the lock; empty once a leader has released it.
    public var holderIdentity: String
    /// How long others must wait, from when they see the record change, before they may take over.
    public var leaseDurationSeconds: Int
    /// When the current holder acquired the lock (RFC 3339 with microseconds, as `MicroTime`).
    public var acquireTime: String?
    /// When the holder last renewed it.
    public var renewTime: String?
    /// How many times the lock changed hands.
    public var leaderTransitions: Int

    public init(
        holderIdentity: String, leaseDurationSeconds: Int, acquireTime: String? = nil, renewTime: String? = nil,
        leaderTransitions: Int = 0
    ) {
        self.holderIdentity = holderIdentity
        self.leaseDurationSeconds = leaseDurationSeconds
        self.acquireTime = acquireTime
        self.renewTime = renewTime
        self.leaderTransitions = leaderTransitions
    }

    /// The record in a Lease's `spec`; absent fields read as empty, as upstream's conversion does.
    public init(leaseSpec spec: JSON?) {
        self.init(
            holderIdentity: spec?["holderIdentity"]?.stringValue ?? "",
            leaseDurationSeconds: Int(spec?["leaseDurationSeconds"]?.intValue ?? 0),
            acquireTime: spec?["acquireTime"]?.stringValue, renewTime: spec?["renewTime"]?.stringValue,
            leaderTransitions: Int(spec?["leaseTransitions"]?.intValue ?? 0))
    }

    /// The `coordination.k8s.io/v1` LeaseSpec form; every field is written, an empty holder included.
    public var leaseSpec: JSON {
        var spec: JSONObject = [
            "holderIdentity": .string(holderIdentity), "leaseDurationSeconds": .int(Int64(leaseDurationSeconds)),
        ]
        if let acquireTime { spec["acquireTime"] = .string(acquireTime) }
        if let renewTime { spec["renewTime"] = .string(renewTime) }
        spec["leaseTransitions"] = .int(Int64(leaderTransitions))
        return .object(spec)
    }
}
