public import Client

/// A pod with what the scheduler computes from it once, not once per node: its requests, host ports
/// and priority.
public final class PodInfo: Sendable {
    // What PreFilter reads of every pod in the cluster each cycle comes first, beside the object's header,
    // so counting pods does not also reach into the Pod's fields (a cache miss per field otherwise).
    public let labels: [String: String]
    public let namespace: String
    public let uid: String
    /// `metadata.deletionTimestamp` is set: the pod is going away.
    public let isTerminating: Bool
    public let pod: Pod
    public let key: ObjectKey
    public let requests: Resource
    /// CPU and memory with upstream's defaults for absent requests (for scoring).
    public let nonZeroRequests: Resource
    public let hostPorts: [HostPort]
    public let priority: Int32
    /// The pod has pod affinity or anti-affinity terms of any kind (InterPodAffinity looks only at these).
    public let hasPodAffinity: Bool
    /// The pod has required anti-affinity terms, which every incoming pod must respect.
    public let hasRequiredAntiAffinity: Bool
    /// The pod has terms that score other pods' placement (required affinity, preferred affinity or
    /// anti-affinity): PreScore passes over pods with required anti-affinity alone, which score nothing.
    public let scoresOthers: Bool
    /// The pod's affinity terms with their selectors parsed, once when the pod is first seen (as upstream's
    /// PodInfo keeps them), not in every cycle that counts the pods already placed.
    let affinityTerms: PodAffinityTerms?

    public init(_ pod: Pod) {
        labels = pod.metadata.labels
        namespace = pod.metadata.namespace ?? ""
        uid = pod.metadata.uid ?? ""
        isTerminating = pod.metadata.deletionTimestamp != nil
        self.pod = pod
        key = ObjectKey(namespace: pod.metadata.namespace ?? "", name: pod.metadata.name ?? "")
        requests = Resource(podRequests: pod)
        nonZeroRequests = Resource.nonZeroRequests(of: pod)
        hostPorts = HostPort.of(pod)
        priority = pod.spec.priority ?? 0
        let affinity = pod.spec.affinity
        hasRequiredAntiAffinity =
            !(affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution.isEmpty ?? true)
        hasPodAffinity = affinity?.podAffinity != nil || affinity?.podAntiAffinity != nil
        affinityTerms = hasPodAffinity ? PodAffinityTerms.existing(pod) : nil
        scoresOthers =
            affinityTerms.map {
                !$0.requiredAffinity.isEmpty || !$0.preferredAffinity.isEmpty || !$0.preferredAntiAffinity.isEmpty
            } ?? false
    }

    public var name: String { pod.metadata.name ?? "" }
}

/// A host port a container binds (`hostIP` 0.0.0.0 when unset, as upstream normalises it).
public struct HostPort: Sendable, Hashable {
    public var ip: String
    public var proto: String
    public var port: Int32

    public init(ip: String, proto: String, port: Int32) {
        self.ip = ip
        self.proto = proto
        self.port = port
    }

    static func of(_ pod: Pod) -> [HostPort] {
        var ports: [HostPort] = []
        for container in pod.spec.initContainers + pod.spec.containers {
            for port in container.ports {
                guard let hostPort = port.hostPort, hostPort > 0 else { continue }
                let ip = port.hostIP.flatMap { $0.isEmpty ? nil : $0 } ?? "0.0.0.0"
                ports.append(HostPort(ip: ip, proto: port.protocol ?? "TCP", port: hostPort))
            }
        }
        return ports
    }

    /// Two bindings conflict on the same port and protocol when either is the wildcard address or both match.
    public func conflicts(with other: HostPort) -> Bool {
        port == other.port && proto == other.proto && (ip == other.ip || ip == "0.0.0.0" || other.ip == "0.0.0.0")
    }
}
