import APIMachinery
import Client

@testable import Scheduler

/// Builders for the pods and nodes scheduler tests place; every argument has a plain default.
enum Fixtures {
    static func node(
        _ name: String, cpu: String = "4", memory: String = "8Gi", pods: String = "110",
        labels: [String: String] = [:], taints: [Taint] = [], unschedulable: Bool? = nil,
        extra: [String: String] = [:]
    ) -> Node {
        var allocatable: [String: Quantity] = [:]
        for (key, value) in ["cpu": cpu, "memory": memory, "pods": pods].merging(extra, uniquingKeysWith: { $1 }) {
            allocatable[key] = try? Quantity(parsing: value)
        }
        var labels = labels
        labels["kubernetes.io/hostname"] = labels["kubernetes.io/hostname"] ?? name
        return Node(
            metadata: ObjectMeta(labels: labels, name: name, uid: "node-\(name)"),
            spec: NodeSpec(taints: taints, unschedulable: unschedulable),
            status: NodeStatus(allocatable: allocatable, capacity: allocatable))
    }

    static func pod(
        _ name: String, namespace: String = "default", cpu: String? = nil, memory: String? = nil,
        nodeName: String? = nil, priority: Int32? = nil, labels: [String: String] = [:],
        configure: (inout Pod) -> Void = { _ in }
    ) -> Pod {
        var requests: [String: Quantity] = [:]
        if let cpu { requests["cpu"] = try? Quantity(parsing: cpu) }
        if let memory { requests["memory"] = try? Quantity(parsing: memory) }
        var pod = Pod(
            metadata: ObjectMeta(labels: labels, name: name, namespace: namespace, uid: "uid-\(namespace)-\(name)"),
            spec: PodSpec(
                containers: [
                    Container(name: "c", image: "nginx", resources: ResourceRequirements(requests: requests))
                ], nodeName: nodeName, priority: priority))
        configure(&pod)
        return pod
    }

    static func info(_ pod: Pod) -> PodInfo { PodInfo(pod) }

    static func nodeInfo(_ node: Node, pods: [Pod] = []) -> NodeInfo {
        var info = NodeInfo(node: node)
        for pod in pods { info.add(PodInfo(pod)) }
        return info
    }
}

/// Builders for the objects plugin tests look up through the handle (claims, volumes, classes, budgets).
extension Fixtures {
    static func claim(
        _ name: String, namespace: String = "default", volumeName: String? = nil, storageClass: String? = nil,
        accessModes: [String] = ["ReadWriteOnce"]
    ) -> PersistentVolumeClaim {
        PersistentVolumeClaim(
            metadata: ObjectMeta(name: name, namespace: namespace),
            spec: PersistentVolumeClaimSpec(
                accessModes: accessModes, storageClassName: storageClass, volumeName: volumeName))
    }

    static func volume(
        _ name: String, labels: [String: String] = [:], csiDriver: String? = nil,
        nodeAffinity: [NodeSelectorTerm]? = nil
    ) -> PersistentVolume {
        var spec = PersistentVolumeSpec()
        if let csiDriver { spec.csi = CSIPersistentVolumeSource(driver: csiDriver, volumeHandle: "handle-\(name)") }
        if let nodeAffinity {
            spec.nodeAffinity = VolumeNodeAffinity(required: NodeSelector(nodeSelectorTerms: nodeAffinity))
        }
        return PersistentVolume(metadata: ObjectMeta(labels: labels, name: name), spec: spec)
    }

    static func storageClass(
        _ name: String, provisioner: String = "csi.example.com", waitForFirstConsumer: Bool = false
    )
        -> StorageClass
    {
        StorageClass(
            provisioner: provisioner, metadata: ObjectMeta(name: name),
            volumeBindingMode: waitForFirstConsumer ? "WaitForFirstConsumer" : "Immediate")
    }

    /// A pod volume that mounts `claim`.
    static func claimVolume(_ claim: String) -> Volume {
        var volume = Volume(name: claim)
        volume.persistentVolumeClaim = PersistentVolumeClaimVolumeSource(claimName: claim)
        return volume
    }

    /// A handle whose lookups read these objects.
    static func handle(
        claims: [PersistentVolumeClaim] = [], volumes: [PersistentVolume] = [], classes: [StorageClass] = [],
        csiNodes: [CSINode] = [], namespaces: [String: [String: String]] = [:],
        budgets: [PodDisruptionBudget] = []
    ) -> FrameworkHandle {
        FrameworkHandle(
            disruptionBudgets: { budgets },
            persistentVolumeClaim: { namespace, name in
                claims.first { $0.metadata.namespace == namespace && $0.metadata.name == name }
            },
            persistentVolume: { name in volumes.first { $0.metadata.name == name } },
            storageClass: { name in classes.first { $0.metadata.name == name } },
            csiNode: { name in csiNodes.first { $0.metadata.name == name } },
            namespaceLabels: { namespaces[$0] })
    }

    /// A required or preferred pod (anti-)affinity term selecting `labels` over `topologyKey`.
    static func term(
        _ labels: [String: String], topologyKey: String = "kubernetes.io/hostname", namespaces: [String] = [],
        namespaceSelector: MetaLabelSelector? = nil
    ) -> PodAffinityTerm {
        PodAffinityTerm(
            topologyKey: topologyKey, labelSelector: MetaLabelSelector(matchLabels: labels),
            namespaceSelector: namespaceSelector, namespaces: namespaces)
    }
}
