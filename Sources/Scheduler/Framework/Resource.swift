public import APIMachinery
public import Client

/// An amount of each schedulable resource, in the units the scheduler compares: millicores for CPU,
/// bytes for memory and ephemeral storage, counts for pods and extended resources.
public struct Resource: Sendable, Hashable {
    public var milliCPU: Int64 = 0
    public var memory: Int64 = 0
    public var ephemeralStorage: Int64 = 0
    /// How many pods a node takes (`pods` in allocatable); unused in a request.
    public var allowedPodNumber: Int64 = 0
    /// Extended and hugepages resources by name (`nvidia.com/gpu`, `hugepages-2Mi`).
    public var scalar: [String: Int64] = [:]

    public init(milliCPU: Int64 = 0, memory: Int64 = 0, ephemeralStorage: Int64 = 0, allowedPodNumber: Int64 = 0) {
        self.milliCPU = milliCPU
        self.memory = memory
        self.ephemeralStorage = ephemeralStorage
        self.allowedPodNumber = allowedPodNumber
    }

    /// Reads a resource list (`requests`, `allocatable`, `overhead`).
    public init(_ list: [String: Quantity]) {
        for (name, quantity) in list { add(name, quantity) }
    }

    public mutating func add(_ name: String, _ quantity: Quantity) {
        switch name {
        case "cpu": milliCPU += quantity.milliValue
        case "memory": memory += quantity.value
        case "ephemeral-storage": ephemeralStorage += quantity.value
        case "pods": allowedPodNumber += quantity.value
        default:
            if Self.isScalar(name) { scalar[name, default: 0] += quantity.value }
        }
    }

    public mutating func add(_ other: Resource) {
        milliCPU += other.milliCPU
        memory += other.memory
        ephemeralStorage += other.ephemeralStorage
        allowedPodNumber += other.allowedPodNumber
        for (name, value) in other.scalar { scalar[name, default: 0] += value }
    }

    public mutating func subtract(_ other: Resource) {
        milliCPU -= other.milliCPU
        memory -= other.memory
        ephemeralStorage -= other.ephemeralStorage
        allowedPodNumber -= other.allowedPodNumber
        for (name, value) in other.scalar { scalar[name, default: 0] -= value }
    }

    /// Raises each amount to at least `other`'s (an init container runs alone, so it needs the max, not the sum).
    public mutating func raise(to other: Resource) {
        milliCPU = max(milliCPU, other.milliCPU)
        memory = max(memory, other.memory)
        ephemeralStorage = max(ephemeralStorage, other.ephemeralStorage)
        for (name, value) in other.scalar { scalar[name] = max(scalar[name] ?? 0, value) }
    }

    /// The amount of one named resource.
    public func amount(of name: String) -> Int64 {
        amount(of: ResourceName(name))
    }

    /// The amount of one resource, its name resolved beforehand (scoring asks this per node).
    func amount(of name: ResourceName) -> Int64 {
        switch name {
        case .cpu: milliCPU
        case .memory: memory
        case .ephemeralStorage: ephemeralStorage
        case .pods: allowedPodNumber
        case .other(let name, _): scalar[name] ?? 0
        }
    }

    public var isEmpty: Bool {
        milliCPU == 0 && memory == 0 && ephemeralStorage == 0 && scalar.values.allSatisfy { $0 == 0 }
    }

    /// Extended resources (`domain/name`, not `kubernetes.io/…`), hugepages and attachable volumes count as scalar.
    static func isScalar(_ name: String) -> Bool {
        if name.hasPrefix("hugepages-") || name.hasPrefix("attachable-volumes-") { return true }
        guard let slash = name.firstIndex(of: "/") else { return false }
        let domain = name[..<slash]
        return !(domain == "kubernetes.io" || domain.hasSuffix(".kubernetes.io"))
    }
}

/// A resource name resolved once, where a plugin is configured, so scoring a node compares no strings.
enum ResourceName: Sendable, Equatable {
    case cpu
    case memory
    case ephemeralStorage
    case pods
    /// Any other name; `isScalar` as `Resource.isScalar` says (only those are ever counted).
    case other(String, isScalar: Bool)

    init(_ name: String) {
        switch name {
        case "cpu": self = .cpu
        case "memory": self = .memory
        case "ephemeral-storage": self = .ephemeralStorage
        case "pods": self = .pods
        default: self = .other(name, isScalar: Resource.isScalar(name))
        }
    }

    /// CPU or memory: the resources with upstream's defaults for absent requests.
    var hasNonZeroDefault: Bool {
        switch self {
        case .cpu, .memory: true
        default: false
        }
    }

    var isScalar: Bool {
        if case .other(_, let isScalar) = self { return isScalar }
        return false
    }
}

extension Resource {
    /// What a pod asks of a node, as upstream computes it: the sum of its containers, raised to each
    /// init container's (sidecars — init containers that always restart — add to both), plus overhead.
    public init(podRequests pod: Pod) {
        self.init()
        var sidecars = Resource()
        var initMax = Resource()
        for container in pod.spec.initContainers {
            let request = Resource(container.resources?.requests ?? [:])
            if container.restartPolicy == "Always" {
                sidecars.add(request)
                initMax.raise(to: sidecars)
            } else {
                var running = request
                running.add(sidecars)
                initMax.raise(to: running)
            }
        }
        for container in pod.spec.containers {
            add(Resource(container.resources?.requests ?? [:]))
        }
        add(sidecars)
        raise(to: initMax)
        add(Resource(pod.spec.overhead))
    }

    /// CPU and memory for scoring, counting an absent request as upstream's defaults (100m, 200Mi), so
    /// best-effort pods still spread instead of all landing on one "empty" node.
    public static func nonZeroRequests(of pod: Pod) -> Resource {
        var total = Resource()
        func nonZero(_ requests: [String: Quantity]) -> Resource {
            Resource(
                milliCPU: requests["cpu"].map(\.milliValue) ?? defaultMilliCPU,
                memory: requests["memory"].map(\.value) ?? defaultMemory)
        }
        var initMax = Resource()
        for container in pod.spec.initContainers where container.restartPolicy != "Always" {
            initMax.raise(to: nonZero(container.resources?.requests ?? [:]))
        }
        for container in pod.spec.containers + pod.spec.initContainers.filter({ $0.restartPolicy == "Always" }) {
            total.add(nonZero(container.resources?.requests ?? [:]))
        }
        total.raise(to: initMax)
        let overhead = Resource(pod.spec.overhead)
        total.milliCPU += overhead.milliCPU
        total.memory += overhead.memory
        return total
    }

    static let defaultMilliCPU: Int64 = 100
    static let defaultMemory: Int64 = 200 * 1024 * 1024
}
