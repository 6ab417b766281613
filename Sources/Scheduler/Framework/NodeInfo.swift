public import Client

/// A node and the pods the scheduler counts on it (bound and assumed), with their sums kept current.
/// A value type: a scheduling cycle reads a snapshot while the cache moves on.
public struct NodeInfo: Sendable {
    public private(set) var node: Node
    public let name: String
    public private(set) var allocatable: Resource
    /// The sum of the pods' requests.
    public private(set) var requested = Resource()
    /// The sum with upstream's defaults for absent CPU and memory requests (for scoring).
    public private(set) var nonZeroRequested = Resource()
    public private(set) var pods: [PodInfo] = []
    /// The pods with pod affinity or anti-affinity terms, so InterPodAffinity need not walk every pod.
    public private(set) var podsWithAffinity: [PodInfo] = []
    /// The pods with required anti-affinity, which every incoming pod is checked against.
    public private(set) var podsWithRequiredAntiAffinity: [PodInfo] = []
    public private(set) var usedPorts: [HostPort] = []
    /// Image name → size, from the node's status (for ImageLocality).
    public private(set) var imageSizes: [String: Int64] = [:]
    /// Bumped on every change, so snapshots copy only nodes that changed.
    public private(set) var generation: UInt64 = 0

    public init(node: Node) {
        self.node = node
        name = node.metadata.name ?? ""
        allocatable = Resource(node.status.allocatable)
        imageSizes = Self.images(of: node)
    }

    public mutating func update(node: Node) {
        self.node = node
        allocatable = Resource(node.status.allocatable)
        imageSizes = Self.images(of: node)
        generation &+= 1
    }

    public mutating func add(_ pod: PodInfo) {
        pods.append(pod)
        if pod.hasPodAffinity { podsWithAffinity.append(pod) }
        if pod.hasRequiredAntiAffinity { podsWithRequiredAntiAffinity.append(pod) }
        requested.add(pod.requests)
        nonZeroRequested.add(pod.nonZeroRequests)
        usedPorts.append(contentsOf: pod.hostPorts)
        generation &+= 1
    }

    /// Removes the pod with `uid`; false when it is not on this node.
    @discardableResult
    public mutating func remove(uid: String) -> Bool {
        guard let index = pods.firstIndex(where: { $0.uid == uid }) else { return false }
        let pod = pods.remove(at: index)
        if pod.hasPodAffinity { podsWithAffinity.removeAll { $0.uid == uid } }
        if pod.hasRequiredAntiAffinity { podsWithRequiredAntiAffinity.removeAll { $0.uid == uid } }
        requested.subtract(pod.requests)
        nonZeroRequested.subtract(pod.nonZeroRequests)
        for port in pod.hostPorts {
            if let used = usedPorts.firstIndex(of: port) { usedPorts.remove(at: used) }
        }
        generation &+= 1
        return true
    }

    private static func images(of node: Node) -> [String: Int64] {
        var sizes: [String: Int64] = [:]
        for image in node.status.images {
            for name in image.names { sizes[name] = image.sizeBytes ?? 0 }
        }
        return sizes
    }
}
