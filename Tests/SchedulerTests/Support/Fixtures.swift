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
