import Foundation
import TestSupport
import XCTest

/// A real kube-apiserver shared by the class (see `SharedClusterTestCase`) with one real kube-scheduler process
/// beside it, plus the object builders and polling the scheduler's end-to-end tests share.
class SchedulerClusterTestCase: SharedClusterTestCase {
    nonisolated(unsafe) private static var schedulers: [ObjectIdentifier: ComponentProcess] = [:]

    override class func clusterStarted(_ cluster: TestCluster) throws {
        schedulers[ObjectIdentifier(self)] = try ComponentProcess(
            executable: "kube-scheduler",
            arguments: [
                "--kubeconfig=\(cluster.kubeconfig)", "--bind-address=\(clusterAddress)", "--secure-port=10259",
                "--leader-elect=false", "--v=2",
            ], directory: cluster.directory)
    }

    override class func tearDown() {
        schedulers.removeValue(forKey: ObjectIdentifier(self))?.stop()
        super.tearDown()
    }

    /// This class's kube-scheduler.
    var scheduler: ComponentProcess? { Self.schedulers[ObjectIdentifier(type(of: self))] }

    /// Creates a Ready node with `cpu` cores, 32Gi and 110 pods, its hostname label and `labels`.
    func createNode(
        _ cluster: TestCluster, _ name: String, cpu: String, labels: [String: String] = [:], taints: String = "[]"
    ) throws {
        var allLabels = labels
        allLabels["kubernetes.io/hostname"] = name
        let labelJSON = allLabels.map { #""\#($0.key)":"\#($0.value)""# }.joined(separator: ",")
        let resources = #"{"cpu":"\#(cpu)","memory":"32Gi","pods":"110"}"#
        let node = #"""
            {"apiVersion":"v1","kind":"Node","metadata":{"name":"\#(name)","labels":{\#(labelJSON)}},
             "spec":{"taints":\#(taints)},
             "status":{"capacity":\#(resources),"allocatable":\#(resources),
                       "conditions":[{"type":"Ready","status":"True"}]}}
            """#
        expectSuccess(try cluster.kubectl(["create", "-f", "-"], input: node))
    }

    /// Creates a one-container pod requesting `cpu`; `extraSpec` is spliced into its spec (end it with a comma).
    func createPod(
        _ cluster: TestCluster, _ namespace: String, _ name: String, cpu: String = "100m", extraSpec: String = ""
    ) throws {
        let pod = #"""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"\#(name)","namespace":"\#(namespace)"},
             "spec":{\#(extraSpec)"containers":[{"name":"c","image":"nginx",
                     "resources":{"requests":{"cpu":"\#(cpu)","memory":"64Mi"}}}]}}
            """#
        expectSuccess(try cluster.kubectl(["create", "-f", "-"], input: pod))
    }

    /// A pod's field by JSONPath, or nil while it is empty.
    func podField(_ cluster: TestCluster, _ namespace: String, _ name: String, _ path: String) throws -> String? {
        let output = try cluster.kubectl(["get", "pod", name, "-n", namespace, "-o", "jsonpath=\(path)"])
        return output.stdout.isEmpty ? nil : output.stdout
    }

    /// The messages of the events matching `selector` in `namespace`, once there are any.
    func eventMessages(_ cluster: TestCluster, _ namespace: String, _ selector: String) throws -> String? {
        try poll {
            let output = try cluster.kubectl([
                "get", "events", "-n", namespace, "--field-selector", selector, "-o", "jsonpath={.items[*].message}",
            ])
            return output.stdout.isEmpty ? nil : output.stdout
        }
    }

    /// Calls `probe` until it gives a value (nil after `timeout`, with the scheduler's log printed).
    func poll(timeout: TimeInterval = 20, _ probe: () throws -> String?) rethrows -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let value = try probe() { return value }
            Thread.sleep(forTimeInterval: 0.2)
        }
        if let log = scheduler?.log { print("kube-scheduler log:\n\(log.suffix(4000))") }
        return nil
    }
}
