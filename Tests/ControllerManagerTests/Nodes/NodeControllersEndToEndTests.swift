import Foundation
import TestSupport
import XCTest

/// The node controllers in a real kube-controller-manager, each acting as its own service account under RBAC,
/// with short monitor periods: a node whose kubelet goes silent turns NotReady in `kubectl get nodes`, is
/// tainted unreachable, and its pod is evicted, while the node that keeps renewing its Lease stays Ready; both
/// get podCIDRs and the TTL annotation.
final class NodeControllersEndToEndTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.90" }
    override class var extraFlags: [String] { ["--authorization-mode=RBAC"] }

    private var manager: ComponentProcess?

    override func tearDown() {
        _ = manager?.stop(kill: true)
        manager = nil
        super.tearDown()
    }

    func testASilentNodeIsMarkedTaintedAndEmptiedWhileTheOtherStaysReady() throws {
        let cluster = try cluster
        for (name, zone) in [("quiet", "z1"), ("busy", "z2")] {
            expectSuccess(try cluster.kubectl(["create", "-f", "-"], input: Self.node(name, zone: zone)))
            try postReady(cluster, name)
            expectSuccess(try cluster.kubectl(["create", "-f", "-"], input: Self.lease(name, renewTime: Self.now())))
        }
        expectSuccess(try cluster.kubectl(["create", "-f", "-"], input: Self.pod("web", node: "quiet")))

        let manager = try ComponentProcess(
            executable: "kube-controller-manager",
            arguments: [
                "--kubeconfig=\(try cluster.kubeconfig(forUser: "system:kube-controller-manager"))",
                "--bind-address=\(Self.clusterAddress)", "--secure-port=0", "--leader-elect=false",
                "--use-service-account-credentials", "--v=2",
                "--controllers=nodelifecycle,taint-eviction-controller,nodeipam,ttl",
                "--node-monitor-period=1s", "--node-monitor-grace-period=4s", "--pod-eviction-timeout=5m0s",
                "--allocate-node-cidrs", "--cluster-cidr=10.244.0.0/16", "--service-cluster-ip-range=10.254.0.0/16",
            ], directory: cluster.directory, logName: "controller-manager")
        self.manager = manager

        // The busy node's kubelet renews its Lease every second; the quiet one's never again.
        let status = poll(timeout: 40) { () -> String? in
            _ = try? cluster.kubectl(
                [
                    "patch", "lease", "busy", "-n", "kube-node-lease", "--type=merge", "-p",
                    #"{"spec":{"renewTime":"\#(Self.now())"}}"#,
                ])
            let line = try self.field(cluster, ["get", "node", "quiet", "--no-headers"])
            return line.contains("NotReady") ? line : nil
        }
        XCTAssertNotNil(status, manager.log.suffix(3000).description)
        let reason = try field(
            cluster, ["get", "node", "quiet", "-o", #"jsonpath={.status.conditions[?(@.type=="Ready")].reason}"#])
        XCTAssertEqual(reason, "NodeStatusUnknown")
        let taints = poll { () -> String? in
            let taints = try self.field(
                cluster, ["get", "node", "quiet", "-o", #"jsonpath={range .spec.taints[*]}{.key}:{.effect} {end}"#])
            return taints.contains("node.kubernetes.io/unreachable:NoExecute") ? taints : nil
        }
        XCTAssertNotNil(taints, manager.log.suffix(3000).description)
        let deleting = poll {
            try self.field(cluster, ["get", "pod", "web", "-o", "jsonpath={.metadata.deletionTimestamp}"])
                .isEmpty ? nil : true
        }
        XCTAssertNotNil(deleting, manager.log.suffix(3000).description)
        let busy = try field(cluster, ["get", "node", "busy", "--no-headers"])
        XCTAssertTrue(busy.contains(" Ready "), busy)

        for name in ["quiet", "busy"] {
            let cidr = poll {
                try self.field(cluster, ["get", "node", name, "-o", "jsonpath={.spec.podCIDR}"]).nilIfEmpty
            }
            XCTAssertEqual(cidr?.hasPrefix("10.244."), true, "\(name): \(cidr ?? "none")")
            let ttl = poll {
                try self.field(
                    cluster,
                    ["get", "node", name, "-o", #"jsonpath={.metadata.annotations.node\.alpha\.kubernetes\.io/ttl}"#]
                ).nilIfEmpty
            }
            XCTAssertEqual(ttl, "0")
        }
        XCTAssertTrue(manager.log.contains("pod-eviction-timeout"), "the removed flag is accepted and reported")
    }

    private func postReady(_ cluster: TestCluster, _ name: String) throws {
        let now = Self.now(micro: false)
        let patch =
            #"{"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"kubelet is posting ready status","lastHeartbeatTime":"\#(now)","lastTransitionTime":"\#(now)"}]}}"#
        expectSuccess(
            try cluster.kubectl(["patch", "node", name, "--subresource=status", "--type=merge", "-p", patch]))
    }

    private func field(_ cluster: TestCluster, _ arguments: [String]) throws -> String {
        let output = try cluster.kubectl(arguments)
        guard output.status == 0 else { throw TestClusterError(output.stderr) }
        return output.stdout
    }

    private func poll<T>(timeout: TimeInterval = 20, _ probe: () throws -> T?) -> T? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let value = try? probe() { return value }
            Thread.sleep(forTimeInterval: 0.5)
        }
        return nil
    }

    /// Now in RFC 3339, with microseconds as a Lease's renewTime has them.
    static func now(micro: Bool = true) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = micro ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
        return formatter.string(from: Date())
    }

    static func node(_ name: String, zone: String) -> String {
        #"{"apiVersion":"v1","kind":"Node","metadata":{"name":"\#(name)","labels":{"topology.kubernetes.io/zone":"\#(zone)"}}}"#
    }

    static func lease(_ name: String, renewTime: String) -> String {
        #"""
        {"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"\#(name)","namespace":"kube-node-lease"},
         "spec":{"holderIdentity":"\#(name)","leaseDurationSeconds":40,"renewTime":"\#(renewTime)"}}
        """#
    }

    /// A pod bound to `node` that tolerates the unreachable taint for 2 s (without a toleration of its own,
    /// DefaultTolerationSeconds would give it 300 s).
    static func pod(_ name: String, node: String) -> String {
        #"""
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"\#(name)","namespace":"default"},
         "spec":{"nodeName":"\#(node)","containers":[{"name":"c","image":"nginx"}],
                 "tolerations":[{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute",
                                 "tolerationSeconds":2}]}}
        """#
    }
}

extension String {
    fileprivate var nilIfEmpty: String? { isEmpty ? nil : self }
}
