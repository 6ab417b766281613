import APIMachinery
import Client
import XCTest

@testable import ControllerManager

/// Stateful set ordinal bookkeeping and update order; daemon set eligibility and default tolerations.
final class StatefulSetAndDaemonSetRulesTests: XCTestCase {
    private func statefulSet(replicas: Int32, partition: Int32? = nil, start: Int32? = nil) -> StatefulSet {
        var set = StatefulSet()
        set.metadata.name = "db"
        set.metadata.namespace = "ns"
        set.metadata.uid = "set-uid"
        set.spec.replicas = replicas
        set.spec.serviceName = "db-headless"
        set.spec.selector = ControllerTestBed.selector(app: "db")
        set.spec.template = ControllerTestBed.template(app: "db")
        if let partition {
            var strategy = StatefulSetUpdateStrategy()
            strategy.type = "RollingUpdate"
            var rolling = RollingUpdateStatefulSetStrategy()
            rolling.partition = partition
            strategy.rollingUpdate = rolling
            set.spec.updateStrategy = strategy
        }
        if let start {
            var ordinals = StatefulSetOrdinals()
            ordinals.start = start
            set.spec.ordinals = ordinals
        }
        return set
    }

    private func pod(_ name: String) -> Pod {
        var pod = Pod()
        pod.metadata.name = name
        return pod
    }

    func testOrdinalsParseOnlyMemberNames() {
        let cases: [(String, Int?)] = [
            ("db-0", 0), ("db-12", 12), ("db-01", nil), ("db-", nil), ("db-x", nil), ("dbx-1", nil), ("db-1-2", nil),
            ("db--1", nil),
        ]
        for (name, ordinal) in cases {
            XCTAssertEqual(StatefulSetIdentity.ordinal(of: name, setName: "db"), ordinal, name)
        }
    }

    func testSplitKeepsWantedOrdinalsAndCondemnsTheRestHighestFirst() {
        let set = statefulSet(replicas: 2, start: 1)
        let (replicas, condemned) = StatefulSetIdentity.split(
            ["db-0", "db-1", "db-2", "db-3", "db-5", "other"].map(pod), set: set)
        XCTAssertEqual(replicas.keys.sorted(), [1, 2])
        XCTAssertEqual(condemned.map(\.metadata.name), ["db-5", "db-3", "db-0"])
    }

    func testUpdateOrderIsHighestFirstDownToThePartition() {
        XCTAssertEqual(StatefulSetIdentity.updateOrder(statefulSet(replicas: 4)), [3, 2, 1, 0])
        XCTAssertEqual(StatefulSetIdentity.updateOrder(statefulSet(replicas: 4, partition: 2)), [3, 2])
        XCTAssertEqual(StatefulSetIdentity.updateOrder(statefulSet(replicas: 2, partition: 5)), [])
        XCTAssertEqual(StatefulSetIdentity.updateOrder(statefulSet(replicas: 2, start: 3)), [4, 3])
        let partitioned = statefulSet(replicas: 4, partition: 2)
        XCTAssertTrue(StatefulSetIdentity.usesCurrentRevision(partitioned, ordinal: 1))
        XCTAssertFalse(StatefulSetIdentity.usesCurrentRevision(partitioned, ordinal: 2))
    }

    func testPodIdentityLabelsHostnameAndClaims() {
        var set = statefulSet(replicas: 3)
        var claim = PersistentVolumeClaim()
        claim.metadata.name = "data"
        set.spec.volumeClaimTemplates = [claim]
        let pod = StatefulSetIdentity.pod(
            set, template: set.spec.template ?? PodTemplateSpec(), ordinal: 2, revision: "db-abc")
        XCTAssertEqual(pod.metadata.name, "db-2")
        XCTAssertNil(pod.metadata.generateName)
        XCTAssertEqual(pod.metadata.labels[StatefulSetIdentity.podNameLabel], "db-2")
        XCTAssertEqual(pod.metadata.labels[StatefulSetIdentity.podIndexLabel], "2")
        XCTAssertEqual(pod.metadata.labels[StatefulSetIdentity.revisionLabel], "db-abc")
        XCTAssertEqual(pod.metadata.labels["app"], "db")
        XCTAssertEqual(pod.spec.hostname, "db-2")
        XCTAssertEqual(pod.spec.subdomain, "db-headless")
        XCTAssertEqual(pod.spec.volumes.first { $0.name == "data" }?.persistentVolumeClaim?.claimName, "data-db-2")
        XCTAssertEqual(pod.metadata.controllerRef?.uid, "set-uid")

        let made = StatefulSetIdentity.claim(claim, set: set, ordinal: 2)
        XCTAssertEqual(made.metadata.name, "data-db-2")
        XCTAssertEqual(made.metadata.labels["app"], "db")
        XCTAssertTrue(made.metadata.ownerReferences.isEmpty, "Retain is the default: claims outlive the set")
    }

    func testStatusCompletesTheRolloutOnlyWhenEveryPodIsUpdatedAndReady() {
        let set = statefulSet(replicas: 2)
        func member(_ name: String, revision: String, ready: Bool) -> Pod {
            var pod = pod(name)
            pod.metadata.labels[StatefulSetIdentity.revisionLabel] = revision
            pod.status.phase = ready ? "Running" : "Pending"
            pod.status.conditions = [PodCondition(type: "Ready", status: ready ? "True" : "False")]
            return pod
        }
        let midway = StatefulSetStatusRules.status(
            set, pods: [member("db-0", revision: "old", ready: true), member("db-1", revision: "new", ready: true)],
            currentRevision: "old", updateRevision: "new", collisionCount: nil, now: 0)
        XCTAssertEqual(midway.currentRevision, "old")
        XCTAssertEqual(midway.currentReplicas, 1)
        XCTAssertEqual(midway.updatedReplicas, 1)
        XCTAssertEqual(midway.readyReplicas, 2)
        let done = StatefulSetStatusRules.status(
            set, pods: [member("db-0", revision: "new", ready: true), member("db-1", revision: "new", ready: true)],
            currentRevision: "old", updateRevision: "new", collisionCount: nil, now: 0)
        XCTAssertEqual(done.currentRevision, "new")
        XCTAssertEqual(done.currentReplicas, 2)
    }

    // MARK: DaemonSet

    private func node(_ name: String, labels: [String: String] = [:], taints: [(String, String)] = []) -> Node {
        var node = Node()
        node.metadata.name = name
        node.metadata.labels = labels
        node.spec.taints = taints.map { Taint(key: $0.0, effect: $0.1) }
        return node
    }

    func testDefaultTolerationsMatchUpstream() {
        let keys = DaemonSetRules.defaultTolerations(hostNetwork: false).map { "\($0.key ?? ""):\($0.effect ?? "")" }
        XCTAssertEqual(
            keys,
            [
                "node.kubernetes.io/not-ready:NoExecute", "node.kubernetes.io/unreachable:NoExecute",
                "node.kubernetes.io/disk-pressure:NoSchedule", "node.kubernetes.io/memory-pressure:NoSchedule",
                "node.kubernetes.io/pid-pressure:NoSchedule", "node.kubernetes.io/unschedulable:NoSchedule",
            ])
        XCTAssertTrue(DaemonSetRules.defaultTolerations(hostNetwork: false).allSatisfy { $0.operator == "Exists" })
        XCTAssertEqual(
            DaemonSetRules.defaultTolerations(hostNetwork: true).last?.key, "node.kubernetes.io/network-unavailable")
        // Already present tolerations are not doubled.
        let once = DaemonSetRules.addingDefaultTolerations(
            DaemonSetRules.defaultTolerations(hostNetwork: false), hostNetwork: false)
        XCTAssertEqual(once.count, 6)
    }

    func testPlacementFollowsSelectorsAffinityAndTaints() {
        var template = ControllerTestBed.template(app: "agent")
        template.spec?.nodeSelector = ["role": "edge"]
        let cases: [(String, Node, Bool, Bool)] = [
            ("matching node", node("a", labels: ["role": "edge"]), true, true),
            ("other label", node("b", labels: ["role": "core"]), false, false),
            (
                "NoSchedule taint keeps existing pods",
                node("c", labels: ["role": "edge"], taints: [("gpu", "NoSchedule")]), false, true
            ),
            (
                "NoExecute taint evicts", node("d", labels: ["role": "edge"], taints: [("gpu", "NoExecute")]), false,
                false
            ),
            (
                "cordoned nodes still run daemons",
                node("e", labels: ["role": "edge"], taints: [("node.kubernetes.io/unschedulable", "NoSchedule")]), true,
                true
            ),
            (
                "not-ready nodes still run daemons",
                node("f", labels: ["role": "edge"], taints: [("node.kubernetes.io/not-ready", "NoExecute")]), true, true
            ),
            (
                "PreferNoSchedule is ignored",
                node("g", labels: ["role": "edge"], taints: [("gpu", "PreferNoSchedule")]), true, true
            ),
        ]
        for (name, node, shouldRun, shouldContinue) in cases {
            let placement = DaemonSetRules.placement(node, template: template)
            XCTAssertEqual(placement.shouldRun, shouldRun, name)
            XCTAssertEqual(placement.shouldContinue, shouldContinue, name)
        }
    }

    func testNodeAffinityRequirementsAndPinning() {
        var template = ControllerTestBed.template(app: "agent")
        var requirement = NodeSelectorRequirement()
        requirement.key = "zone"
        requirement.operator = "NotIn"
        requirement.values = ["z2"]
        var term = NodeSelectorTerm()
        term.matchExpressions = [requirement]
        template.spec?.affinity = DaemonSetRules.pinning(nil, to: "placeholder")
        template.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms = [
            term
        ]
        XCTAssertTrue(DaemonSetRules.placement(node("a", labels: ["zone": "z1"]), template: template).shouldRun)
        XCTAssertTrue(DaemonSetRules.placement(node("b"), template: template).shouldRun)
        XCTAssertFalse(DaemonSetRules.placement(node("c", labels: ["zone": "z2"]), template: template).shouldRun)

        var pod = Pod()
        pod.spec.affinity = DaemonSetRules.pinning(template.spec?.affinity, to: "node-7")
        let terms = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms
        XCTAssertEqual(terms?.count, 1)
        XCTAssertEqual(terms?.first?.matchFields.first?.key, "metadata.name")
        XCTAssertEqual(terms?.first?.matchFields.first?.values, ["node-7"])
        XCTAssertNil(pod.spec.nodeName)
        XCTAssertEqual(DaemonSetRules.targetNode(pod), "node-7")
    }

    func testRollingBoundsDefaultsAndPercentages() {
        var set = DaemonSet()
        XCTAssertEqual(DaemonSetRules.rollingBounds(set, desired: 10).maxUnavailable, 1)
        XCTAssertEqual(DaemonSetRules.rollingBounds(set, desired: 10).maxSurge, 0)
        var strategy = DaemonSetUpdateStrategy()
        var rolling = RollingUpdateDaemonSet()
        rolling.maxUnavailable = "25%"
        rolling.maxSurge = "10%"
        strategy.rollingUpdate = rolling
        set.spec.updateStrategy = strategy
        let bounds = DaemonSetRules.rollingBounds(set, desired: 10)
        XCTAssertEqual(bounds.maxUnavailable, 2)
        XCTAssertEqual(bounds.maxSurge, 1)
    }
}
