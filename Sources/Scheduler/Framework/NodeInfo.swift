public import Client
import Synchronization

/// A node and the pods the scheduler counts on it (bound and assumed), with their sums kept current.
/// A value type with copy-on-write storage: a scheduling cycle reads a snapshot while the cache moves on, and
/// copying a snapshot of thousands of nodes costs one reference per node, not a copy of each node's fields.
public struct NodeInfo: Sendable {
    /// The fields, shared between copies until one of them changes.
    private final class Storage: @unchecked Sendable {
        // Mutated only through `NodeInfo.unique()`, i.e. while exactly one NodeInfo refers to it; that is also
        // why the accesses need no run-time exclusivity checks, which Filter and Score would pay per node.
        // What Filter and Score read for every node comes first, beside the object's header, so a cycle
        // touching hundreds of nodes misses the cache once or twice per node, not once per field.
        @exclusivity(unchecked) var allocatable: Resource
        @exclusivity(unchecked) var requested = Resource()
        @exclusivity(unchecked) var nonZeroRequested = Resource()
        @exclusivity(unchecked) var podCount = 0
        @exclusivity(unchecked) var unschedulable: Bool
        @exclusivity(unchecked) var taints: [Taint]
        @exclusivity(unchecked) var imageSizes: [String: Int64] = [:]
        /// The Node's labels, here rather than only in the box: spreading and affinity read them for every node.
        @exclusivity(unchecked) var labels: [String: String]
        /// Boxed, so that the copy a pod's arrival makes (the cache's node is shared with the loop's snapshot)
        /// takes one reference to the Node, not a copy of its every field.
        @exclusivity(unchecked) var node: NodeBox
        @exclusivity(unchecked) var pods: [PodInfo] = []
        @exclusivity(unchecked) var podsWithAffinity: [PodInfo] = []
        @exclusivity(unchecked) var podsWithRequiredAntiAffinity: [PodInfo] = []
        @exclusivity(unchecked) var usedPorts: [HostPort] = []
        /// Here rather than in the value: a copy of a node (one per node a cycle filters) then retains one
        /// object, not also the name's (a heap string for names over 15 bytes, on a cache line of its own).
        let name: String

        init(node: Node) {
            name = node.metadata.name ?? ""
            self.node = NodeBox(node)
            labels = node.metadata.labels
            allocatable = Resource(node.status.allocatable)
            unschedulable = node.spec.unschedulable == true
            taints = node.spec.taints
            imageSizes = NodeInfo.images(of: node)
        }

        init(copying other: Storage) {
            name = other.name
            node = other.node
            allocatable = other.allocatable
            requested = other.requested
            nonZeroRequested = other.nonZeroRequested
            podCount = other.podCount
            labels = other.labels
            unschedulable = other.unschedulable
            taints = other.taints
            pods = other.pods
            podsWithAffinity = other.podsWithAffinity
            podsWithRequiredAntiAffinity = other.podsWithRequiredAntiAffinity
            usedPorts = other.usedPorts
            imageSizes = other.imageSizes
        }
    }

    private var storage: Storage
    /// Changes with every change to the node or its pods and is never reused: PreFilter plugins that keep
    /// counts across cycles recount only the nodes whose generation moved. Kept in the value, not the storage,
    /// so comparing every node's generation reads the snapshot's array alone, not one object per node.
    public private(set) var generation: UInt64

    /// The source of generations: one counter for all nodes, so equal generations mean the same node state.
    private static let generations = Atomic<UInt64>(0)

    private static func nextGeneration() -> UInt64 {
        generations.wrappingAdd(1, ordering: .relaxed).newValue
    }

    public init(node: Node) {
        storage = Storage(node: node)
        generation = Self.nextGeneration()
    }

    public var name: String { storage.name }

    // The accessors yield in place rather than return a copy: a plugin reading `node.node.metadata.labels` for
    // each of thousands of nodes must not copy (retain every field of) the whole Node to reach one dictionary.
    public var node: Node { _read { yield storage.node.node } }
    /// The node's labels, reached without copying the Node.
    public var labels: [String: String] { _read { yield storage.labels } }
    public var allocatable: Resource { _read { yield storage.allocatable } }
    /// The sum of the pods' requests.
    public var requested: Resource { _read { yield storage.requested } }
    /// The sum with upstream's defaults for absent CPU and memory requests (for scoring).
    public var nonZeroRequested: Resource { _read { yield storage.nonZeroRequested } }
    public var pods: [PodInfo] { _read { yield storage.pods } }
    /// `pods.count`, kept beside the sums so Filter need not reach the array.
    public var podCount: Int { storage.podCount }
    /// `spec.unschedulable` (cordoned).
    public var unschedulable: Bool { storage.unschedulable }
    /// `spec.taints`, read per node by TaintToleration without copying the whole Node.
    public var taints: [Taint] { _read { yield storage.taints } }
    /// The pods with pod affinity or anti-affinity terms, so InterPodAffinity need not walk every pod.
    public var podsWithAffinity: [PodInfo] { _read { yield storage.podsWithAffinity } }
    /// The pods with required anti-affinity, which every incoming pod is checked against.
    public var podsWithRequiredAntiAffinity: [PodInfo] { _read { yield storage.podsWithRequiredAntiAffinity } }
    public var usedPorts: [HostPort] { _read { yield storage.usedPorts } }
    /// Image name → size, from the node's status (for ImageLocality).
    public var imageSizes: [String: Int64] { _read { yield storage.imageSizes } }
    /// Whether one more pod with `requests` fits in what the node has left: the pod count, CPU, memory and
    /// ephemeral storage (NodeResourcesFit's question for most nodes, read in place without copying the sums).
    /// Extended resources are left to the caller.
    public func hasRoom(for want: Resource) -> Bool {
        let fields = storage
        let have = fields.allocatable.allowedPodNumber
        guard Int64(fields.podCount) + 1 <= have else { return false }
        if want.milliCPU > 0 && fields.allocatable.milliCPU < want.milliCPU + fields.requested.milliCPU {
            return false
        }
        if want.memory > 0 && fields.allocatable.memory < want.memory + fields.requested.memory { return false }
        return want.ephemeralStorage == 0
            || fields.allocatable.ephemeralStorage >= want.ephemeralStorage + fields.requested.ephemeralStorage
    }

    /// One resource's amount allocatable and requested (or requested with upstream's defaults for absent CPU
    /// and memory requests), read in place for scoring.
    public func amounts(of name: String, nonZero: Bool) -> (requested: Int64, allocatable: Int64) {
        amounts(of: ResourceName(name), nonZero: nonZero)
    }

    /// `amounts(of:nonZero:)` with the name resolved beforehand.
    func amounts(of name: ResourceName, nonZero: Bool) -> (requested: Int64, allocatable: Int64) {
        let fields = storage
        let requested = nonZero ? fields.nonZeroRequested.amount(of: name) : fields.requested.amount(of: name)
        return (requested, fields.allocatable.amount(of: name))
    }

    /// Runs `body` on the node at `pointer` without retaining its storage. A copy read out of an unsafe buffer
    /// is retained for the call, and that atomic increment is the first touch of each node's storage: a cache
    /// miss the lock prefix serialises (a fifth of a SchedulingBasic cycle). The buffer keeps the node alive.
    @inline(__always)
    static func withUnretained<R>(_ pointer: UnsafePointer<NodeInfo>, _ body: (NodeInfo) -> R) -> R {
        let generation = pointer.pointee.generation
        return Unmanaged.passUnretained(pointer.pointee.storage)._withUnsafeGuaranteedRef { storage in
            body(NodeInfo(borrowing: storage, generation: generation))
        }
    }

    /// Asks the CPU to start loading the storage of the node at `pointer`, which a loop will read a few nodes
    /// later. A cycle reads hundreds of nodes, each a few cache lines of its own that the last cycle did not
    /// touch (the search rotates), and without this each node's first read stalled on memory (a tenth of the
    /// scheduler's CPU in SchedulingBasic).
    @inline(__always)
    static func prefetch(_ pointer: UnsafePointer<NodeInfo>) {
        let address = UnsafeRawPointer(Unmanaged.passUnretained(pointer.pointee.storage).toOpaque())
        // The fields Filter and Score read span the object's first three lines.
        llvmPrefetch(address, 0, 3, 1)
        llvmPrefetch(address + 64, 0, 3, 1)
        llvmPrefetch(address + 128, 0, 3, 1)
    }

    @inline(__always)
    private init(borrowing storage: Storage, generation: UInt64) {
        self.storage = storage
        self.generation = generation
    }

    /// CPU and memory requested (with upstream's defaults for absent requests when `nonZero`) and allocatable,
    /// read in place: the default resource scorers' whole question.
    func cpuAndMemory(nonZero: Bool) -> (
        requestedCPU: Int64, allocatableCPU: Int64, requestedMemory: Int64, allocatableMemory: Int64
    ) {
        let fields = storage
        return nonZero
            ? (
                fields.nonZeroRequested.milliCPU, fields.allocatable.milliCPU, fields.nonZeroRequested.memory,
                fields.allocatable.memory
            )
            : (
                fields.requested.milliCPU, fields.allocatable.milliCPU, fields.requested.memory,
                fields.allocatable.memory
            )
    }

    /// The storage, copied first if another NodeInfo shares it.
    private mutating func unique() -> Storage {
        if !isKnownUniquelyReferenced(&storage) { storage = Storage(copying: storage) }
        return storage
    }

    public mutating func update(node: Node) {
        let storage = unique()
        generation = Self.nextGeneration()
        storage.node = NodeBox(node)
        storage.labels = node.metadata.labels
        storage.allocatable = Resource(node.status.allocatable)
        storage.unschedulable = node.spec.unschedulable == true
        storage.taints = node.spec.taints
        storage.imageSizes = Self.images(of: node)
    }

    public mutating func add(_ pod: PodInfo) {
        let storage = unique()
        generation = Self.nextGeneration()
        storage.pods.append(pod)
        storage.podCount = storage.pods.count
        if pod.hasPodAffinity { storage.podsWithAffinity.append(pod) }
        if pod.hasRequiredAntiAffinity { storage.podsWithRequiredAntiAffinity.append(pod) }
        storage.requested.add(pod.requests)
        storage.nonZeroRequested.add(pod.nonZeroRequests)
        storage.usedPorts.append(contentsOf: pod.hostPorts)
    }

    /// Removes the pod with `uid`; false when it is not on this node.
    @discardableResult
    public mutating func remove(uid: String) -> Bool {
        guard let index = storage.pods.firstIndex(where: { $0.uid == uid }) else { return false }
        let storage = unique()
        generation = Self.nextGeneration()
        let pod = storage.pods.remove(at: index)
        storage.podCount = storage.pods.count
        if pod.hasPodAffinity { storage.podsWithAffinity.removeAll { $0.uid == uid } }
        if pod.hasRequiredAntiAffinity { storage.podsWithRequiredAntiAffinity.removeAll { $0.uid == uid } }
        storage.requested.subtract(pod.requests)
        storage.nonZeroRequested.subtract(pod.nonZeroRequests)
        for port in pod.hostPorts {
            if let used = storage.usedPorts.firstIndex(of: port) { storage.usedPorts.remove(at: used) }
        }
        return true
    }

    fileprivate static func images(of node: Node) -> [String: Int64] {
        var sizes: [String: Int64] = [:]
        for image in node.status.images {
            for name in image.names { sizes[name] = image.sizeBytes ?? 0 }
        }
        return sizes
    }
}

/// LLVM's prefetch intrinsic (`prefetcht0` on x86-64, `prfm` on arm64): a hint that never faults, which
/// Swift has no spelling for. Arguments: address, 0 for a read, locality 3 (keep in all levels), 1 for data.
@_silgen_name("llvm.prefetch.p0")
private func llvmPrefetch(_ address: UnsafeRawPointer, _ write: Int32, _ locality: Int32, _ data: Int32)

/// A Node behind one reference, immutable: replaced whole when the node changes.
private final class NodeBox: Sendable {
    let node: Node

    init(_ node: Node) { self.node = node }
}
