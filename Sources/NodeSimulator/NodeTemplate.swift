import APIMachinery
public import Client
public import Foundation

/// The annotations and labels through which the simulator and `kubeswift nodes` talk.
public enum SimulatorAnnotations {
    /// On a Node: `stopped` makes the simulated kubelet stop heartbeats and status; absent resumes them.
    public static let state = "kubeswift.dev/simulated-state"
    public static let stopped = "stopped"
    /// On a Node the simulator registered.
    public static let simulated = "kubeswift.dev/simulated"
    /// On a Pod: a new value (`<container or empty>@<nonce>`) kills that container (the first running one when
    /// empty), which exits with 137.
    public static let kill = "kubeswift.dev/kill-container"

    /// The container a kill request names (nil: the first running one).
    public static func container(ofKill request: String) -> String? {
        guard let at = request.lastIndex(of: "@") else { return request.isEmpty ? nil : request }
        let name = String(request[..<at])
        return name.isEmpty ? nil : name
    }
}

/// What a simulated kubelet registers and reports for node `index`.
public struct NodeTemplate: Sendable {
    public let name: String
    public let index: Int
    public let internalIP: String
    let configuration: NodeSimulatorConfiguration

    public init(index: Int, configuration: NodeSimulatorConfiguration) {
        self.index = index
        self.name = configuration.nodeName(index)
        self.internalIP = SimulatedNetwork.internalIP(index: index)
        self.configuration = configuration
    }

    /// The labels the kubelet sets, under the user's.
    public var labels: [String: String] {
        var labels = configuration.labels
        labels["kubernetes.io/hostname"] = name
        labels["kubernetes.io/os"] = "linux"
        labels["kubernetes.io/arch"] = "amd64"
        labels["beta.kubernetes.io/os"] = "linux"
        labels["beta.kubernetes.io/arch"] = "amd64"
        return labels
    }

    /// The Node the kubelet creates on registration, with its first status.
    public func node(readySince: Date, now: Date) -> Node {
        Node(
            metadata: ObjectMeta(
                annotations: [
                    "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                    SimulatorAnnotations.simulated: "true",
                ], labels: labels, name: name),
            spec: NodeSpec(taints: configuration.taints), status: status(readySince: readySince, now: now))
    }

    /// The status a kubelet posts: capacity, addresses, node info and its four conditions, heartbeat `now`.
    public func status(readySince: Date, now: Date) -> NodeStatus {
        var resources: [String: Quantity] = [:]
        for (name, text) in configuration.capacity {
            if let quantity = try? Quantity(parsing: text) { resources[name] = quantity }
        }
        let heartbeat = PodStateMachine.timestamp(now)
        let since = PodStateMachine.timestamp(readySince)
        func condition(_ type: String, _ status: String, _ reason: String, _ message: String) -> NodeCondition {
            NodeCondition(
                type: type, status: status, lastHeartbeatTime: heartbeat, lastTransitionTime: since, message: message,
                reason: reason)
        }
        let digest = SimulatedContainer.hexDigest("node/\(name)")
        let machine = String(digest.prefix(32))
        let uuid = [8, 4, 4, 4, 12].reduce(into: (parts: [String](), rest: Substring(digest))) { state, length in
            state.parts.append(String(state.rest.prefix(length)))
            state.rest = state.rest.dropFirst(length)
        }.parts.joined(separator: "-")
        return NodeStatus(
            addresses: [
                NodeAddress(type: "InternalIP", address: internalIP), NodeAddress(type: "Hostname", address: name),
            ],
            allocatable: resources, capacity: resources,
            conditions: [
                condition(
                    "MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ],
            daemonEndpoints: NodeDaemonEndpoints(kubeletEndpoint: DaemonEndpoint(Port: 10250)),
            nodeInfo: NodeSystemInfo(
                machineID: machine, systemUUID: uuid, bootID: uuid, kernelVersion: "6.8.0-kubeswift",
                osImage: "KubeSwift simulated node", containerRuntimeVersion: "kubeswift://sim",
                kubeletVersion: "v1.32.0", operatingSystem: "linux", architecture: "amd64"))
    }

    /// The node's Lease in `kube-node-lease`, owned by the Node so it goes with it.
    public func lease(nodeUID: String?, renewTime: Date, durationSeconds: Int32) -> Lease {
        var owners: [OwnerReference] = []
        if let nodeUID { owners.append(OwnerReference(apiVersion: "v1", kind: "Node", name: name, uid: nodeUID)) }
        return Lease(
            metadata: ObjectMeta(name: name, namespace: "kube-node-lease", ownerReferences: owners),
            spec: LeaseSpec(
                holderIdentity: name, leaseDurationSeconds: durationSeconds, renewTime: Self.microTime(renewTime)))
    }

    /// `metav1.MicroTime`: RFC 3339 in UTC with microseconds.
    static func microTime(_ date: Date) -> String {
        Timestamp.format(epochMicroseconds: Int64((date.timeIntervalSince1970 * 1_000_000).rounded(.down)))
    }
}
