import APIMachinery
import Client
import Foundation
import XCTest

@testable import ControllerManager

/// The stateful set and daemon set controllers against the in-process API server.
final class StatefulSetDaemonSetControllerTests: XCTestCase {
    private func statefulSet(replicas: Int32) -> StatefulSet {
        var set = StatefulSet()
        set.metadata.name = "db"
        set.spec.replicas = replicas
        set.spec.serviceName = "db"
        set.spec.selector = ControllerTestBed.selector(app: "db")
        set.spec.template = ControllerTestBed.template(app: "db")
        var claim = PersistentVolumeClaim()
        claim.metadata.name = "data"
        claim.spec.accessModes = ["ReadWriteOnce"]
        claim.spec.resources = VolumeResourceRequirements(requests: ["storage": Quantity(1 << 30)])
        set.spec.volumeClaimTemplates = [claim]
        return set
    }

    func testOrderedCreationClaimsRollingUpdateWithPartitionAndScaleDown() async throws {
        let bed = try await ControllerTestBed(prefix: "sts")
        await bed.run([StatefulSetController(context: try bed.context())])
        do {
            let sets = bed.resource(StatefulSet.self)
            _ = try await sets.create(statefulSet(replicas: 3))

            // OrderedReady: db-1 waits until db-0 is Running and Ready.
            _ = try await bed.eventually("db-0 and its status") {
                let set = try await sets.get("db")
                return set.status.replicas == 1 ? set : nil
            }
            let onlyFirst = try await bed.livePods().map(\.metadata.name)
            XCTAssertEqual(onlyFirst, ["db-0"])
            let first = try await bed.pods.get("db-0")
            XCTAssertEqual(first.spec.hostname, "db-0")
            XCTAssertEqual(first.spec.subdomain, "db")
            XCTAssertEqual(first.metadata.labels[StatefulSetIdentity.podIndexLabel], "0")

            bed.startKubelet()
            let ready = try await bed.eventually("three ready replicas") {
                let set = try await sets.get("db")
                return set.status.readyReplicas == 3 && set.status.currentReplicas == 3 ? set : nil
            }
            XCTAssertEqual(ready.status.currentRevision, ready.status.updateRevision)
            XCTAssertEqual(ready.status.observedGeneration, ready.metadata.generation)
            let claims = try await bed.resource(PersistentVolumeClaim.self).list().items.compactMap(\.metadata.name)
            XCTAssertEqual(claims.sorted(), ["data-db-0", "data-db-1", "data-db-2"])
            let revisions = try await bed.resource(ControllerRevision.self).list().items
            XCTAssertEqual(revisions.map(\.metadata.name), [ready.status.updateRevision])

            // A new template with partition 2 replaces only db-2.
            var changed = try await sets.get("db")
            changed.spec.template?.spec?.containers[0].image = "nginx:2"
            var strategy = StatefulSetUpdateStrategy()
            strategy.type = "RollingUpdate"
            var rolling = RollingUpdateStatefulSetStrategy()
            rolling.partition = 2
            strategy.rollingUpdate = rolling
            changed.spec.updateStrategy = strategy
            _ = try await sets.update(changed)
            let partial = try await bed.eventually("db-2 updated") {
                let set = try await sets.get("db")
                return set.status.updatedReplicas == 1 && set.status.readyReplicas == 3 ? set : nil
            }
            XCTAssertNotEqual(partial.status.updateRevision, partial.status.currentRevision)
            let images = try await bed.livePods().map { $0.spec.containers[0].image ?? "" }
            XCTAssertEqual(images, ["nginx", "nginx", "nginx:2"])

            // Scaling down removes the highest ordinals; the claims stay (Retain).
            var smaller = try await sets.get("db")
            smaller.spec.replicas = 1
            _ = try await sets.update(smaller)
            _ = try await bed.eventually("one replica left") {
                let names = try await bed.livePods().map(\.metadata.name)
                return names == ["db-0"] ? names : nil
            }
            let kept = try await bed.resource(PersistentVolumeClaim.self).list().items
            XCTAssertEqual(kept.count, 3)
            let deleted = try await bed.events(about: "db", reason: "SuccessfulDelete")
            XCTAssertTrue(deleted.contains("delete Pod db-2 in StatefulSet db successful"), "\(deleted)")
        } catch {
            await bed.stop()
            throw error
        }
        await bed.stop()
    }

    func testDaemonPodsPerEligibleNodeAndRollingUpdate() async throws {
        let bed = try await ControllerTestBed(prefix: "ds")
        let nodes = bed.resource(Node.self)
        let label = ["daemon-test": bed.namespace]
        var names: [String] = []
        for (suffix, taint) in [("a", nil), ("b", nil), ("c", "NoSchedule")] as [(String, String?)] {
            var node = Node()
            node.metadata.name = "\(bed.namespace)-\(suffix)"
            node.metadata.labels = label
            if let taint { node.spec.taints = [Taint(key: "dedicated", effect: taint, value: "db")] }
            names.append(node.metadata.name ?? "")
            _ = try await nodes.create(node)
        }
        await bed.run([DaemonSetController(context: try bed.context())])
        do {
            var set = DaemonSet()
            set.metadata.name = "agent"
            set.spec.selector = ControllerTestBed.selector(app: "agent")
            var template = ControllerTestBed.template(app: "agent")
            template.spec?.nodeSelector = label
            set.spec.template = template
            let sets = bed.resource(DaemonSet.self)
            _ = try await sets.create(set)

            let placed = try await bed.eventually("a pod on each untainted node") {
                let pods = try await bed.livePods()
                return pods.count == 2 ? pods : nil
            }
            XCTAssertEqual(placed.compactMap(DaemonSetRules.targetNode).sorted(), [names[0], names[1]])
            XCTAssertTrue(placed.allSatisfy { $0.spec.nodeName == nil })
            XCTAssertTrue(
                placed.allSatisfy { $0.spec.tolerations.contains { $0.key == "node.kubernetes.io/unschedulable" } })

            bed.startKubelet()
            let ready = try await bed.eventually("two ready daemons") {
                let set = try await sets.get("agent")
                return set.status.numberReady == 2 ? set : nil
            }
            XCTAssertEqual(ready.status.desiredNumberScheduled, 2)
            XCTAssertEqual(ready.status.currentNumberScheduled, 2)
            XCTAssertEqual(ready.status.updatedNumberScheduled, 2)
            XCTAssertEqual(ready.status.numberMisscheduled, 0)

            var changed = try await sets.get("agent")
            changed.spec.template?.spec?.containers[0].image = "nginx:2"
            _ = try await sets.update(changed)
            _ = try await bed.eventually("both daemons replaced") {
                let pods = try await bed.livePods()
                let set = try await sets.get("agent")
                return pods.count == 2 && pods.allSatisfy({ $0.spec.containers[0].image == "nginx:2" })
                    && set.status.updatedNumberScheduled == 2 && set.status.numberAvailable == 2
                    && set.status.observedGeneration == set.metadata.generation ? pods : nil
            }
            let revisions = try await bed.resource(ControllerRevision.self).list().items
            XCTAssertEqual(revisions.count, 2)
        } catch {
            for name in names { try? await nodes.delete(name) }
            await bed.stop()
            throw error
        }
        for name in names { try? await nodes.delete(name) }
        await bed.stop()
    }
}
