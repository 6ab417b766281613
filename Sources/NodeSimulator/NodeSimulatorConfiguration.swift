public import Client

/// What a simulator runs: how many nodes, their names, their size, labels and taints, and its cadence.
public struct NodeSimulatorConfiguration: Sendable {
    /// How many nodes to simulate.
    public var count: Int
    /// Node names are the prefix and the node's index: `sim-0`, `sim-1`, ….
    public var prefix: String
    /// Capacity (and allocatable) of each node, as a kubelet reports its machine.
    public var capacity: [String: String] = [
        "cpu": "32", "memory": "256Gi", "pods": "110", "ephemeral-storage": "100Gi", "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
    ]
    /// Labels added to the kubelet's own (`--node-labels`).
    public var labels: [String: String] = [:]
    /// Taints the node registers with (`--register-with-taints`).
    public var taints: [Taint] = []
    public var schedule = HeartbeatSchedule()
    /// upstream's `leaseDurationSeconds` for node leases.
    public var leaseDurationSeconds: Int32 = 40
    /// How many pod or node syncs run at once.
    public var workers = 16
    /// How many nodes join at once; the bootstrap client's rate limit spreads their requests further.
    public var concurrentJoins = 32

    public init(count: Int, prefix: String = "sim-") {
        self.count = count
        self.prefix = prefix
    }

    /// The name of node `index`.
    public func nodeName(_ index: Int) -> String { "\(prefix)\(index)" }

    /// Problems that make the configuration unusable, in words; empty when it is fine.
    public func validate() -> [String] {
        var problems: [String] = []
        if count < 0 || count > SimulatedNetwork.maximumNodes {
            problems.append("the node count must be between 0 and \(SimulatedNetwork.maximumNodes)")
        }
        if prefix.isEmpty { problems.append("the node name prefix must not be empty") }
        return problems
    }

    /// Reads `--register-with-taints` (`key=value:Effect,key:Effect`), as the kubelet does.
    public static func parseTaints(_ text: String) throws(NodeSimulatorError) -> [Taint] {
        var taints: [Taint] = []
        for item in text.split(separator: ",") where !item.isEmpty {
            let parts = item.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, ["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(String(parts[1])) else {
                throw NodeSimulatorError("invalid taint spec: \(item)")
            }
            let keyValue = parts[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = keyValue.first, !key.isEmpty else {
                throw NodeSimulatorError("invalid taint spec: \(item)")
            }
            taints.append(
                Taint(
                    key: String(key), effect: String(parts[1]), value: keyValue.count == 2 ? String(keyValue[1]) : nil))
        }
        return taints
    }

    /// Reads `--node-labels` (`key=value,key=value`).
    public static func parseLabels(_ text: String) throws(NodeSimulatorError) -> [String: String] {
        var labels: [String: String] = [:]
        for item in text.split(separator: ",") where !item.isEmpty {
            let keyValue = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard keyValue.count == 2, !keyValue[0].isEmpty else {
                throw NodeSimulatorError("invalid label \(item): expected key=value")
            }
            labels[String(keyValue[0])] = String(keyValue[1])
        }
        return labels
    }
}

/// A simulator problem, in words.
public struct NodeSimulatorError: Error, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}

/// Where each simulated node gets the client it writes with: one shared identity, or each node's own from the
/// TLS bootstrap (`BootstrapNodeCredentials`).
public protocol NodeCredentials: Sendable {
    /// Makes node `name`'s identity ready to write with, returning once it is; throws `NodeJoinRefused` when the
    /// cluster refuses the node for good, any other error when a later try may succeed.
    func join(node name: String) async throws
    /// The client node `name` writes its Node, Lease and pod statuses with.
    func client(forNode name: String) async throws -> RESTClient
    /// Keeps the identities fresh (renewals) until the task is cancelled.
    func run() async
    /// Closes the clients the credentials opened.
    func shutdown() async
}

extension NodeCredentials {
    public func join(node name: String) async throws {}
    public func run() async {}
    public func shutdown() async {}
}

/// The cluster refused a node's identity for good (its certificate request was denied or failed), in upstream's
/// words.
public struct NodeJoinRefused: Error, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}

/// One identity for every simulated node (`--identity=shared`).
public struct SharedNodeCredentials: NodeCredentials {
    public let client: RESTClient

    public init(client: RESTClient) { self.client = client }

    public func client(forNode name: String) async throws -> RESTClient { client }
}
