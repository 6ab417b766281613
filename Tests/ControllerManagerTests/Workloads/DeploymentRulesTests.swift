import APIMachinery
import Client
import XCTest

@testable import ControllerManager

final class DeploymentRulesTests: XCTestCase {
    func testSurgeRoundsUpUnavailableRoundsDownAndBothZeroAllowsOneUnavailable() throws {
        let cases: [(IntOrString?, IntOrString?, Int, Int, Int)] = [
            (.string("25%"), .string("25%"), 10, 3, 2),
            (.string("25%"), .string("25%"), 4, 1, 1),
            (.string("25%"), .string("25%"), 3, 1, 0),
            (.string("25%"), .string("25%"), 1, 1, 0),
            (.string("50%"), .int(0), 3, 2, 0),
            (.int(0), .string("30%"), 10, 0, 3),
            (.int(2), .int(1), 5, 2, 1),
            (.int(0), .int(0), 5, 0, 1),
            (.string("0%"), .string("0%"), 10, 0, 1),
            (.string("1%"), .string("1%"), 10, 1, 0),
            (nil, nil, 3, 0, 1),
        ]
        for (surge, unavailable, desired, wantSurge, wantUnavailable) in cases {
            let result = try DeploymentRules.resolveFenceposts(
                maxSurge: surge, maxUnavailable: unavailable, desired: desired)
            XCTAssertEqual(result.surge, wantSurge, "\(String(describing: surge)) of \(desired)")
            XCTAssertEqual(result.unavailable, wantUnavailable, "\(String(describing: unavailable)) of \(desired)")
        }
        XCTAssertThrowsError(
            try DeploymentRules.resolveFenceposts(maxSurge: .string("x"), maxUnavailable: nil, desired: 3))
    }

    func testMaxUnavailableIsCappedAtReplicasAndZeroForRecreate() {
        XCTAssertEqual(DeploymentRules.maxUnavailable(deployment(replicas: 2, surge: .int(0), unavailable: .int(5))), 2)
        XCTAssertEqual(DeploymentRules.maxUnavailable(deployment(replicas: 0, surge: .int(1), unavailable: .int(1))), 0)
        XCTAssertEqual(DeploymentRules.maxSurge(deployment(replicas: 10)), 3)
        XCTAssertEqual(DeploymentRules.maxUnavailable(deployment(replicas: 10)), 2)
        var recreate = deployment(replicas: 10)
        recreate.spec.strategy = DeploymentStrategy(type: "Recreate")
        XCTAssertEqual(DeploymentRules.maxSurge(recreate), 0)
        XCTAssertEqual(DeploymentRules.maxUnavailable(recreate), 0)
    }

    func testTheNewReplicaSetGrowsOnlyWithinTheSurge() {
        // (replicas, maxSurge, new size, old size) → new size this pass
        let cases: [(Int32, Int32, Int32, Int32, Int)] = [
            (3, 1, 0, 3, 1),
            (3, 1, 1, 3, 1),
            (3, 1, 1, 2, 2),
            (10, 3, 0, 10, 3),
            (10, 3, 8, 2, 10),
            (3, 0, 0, 3, 0),
        ]
        for (replicas, surge, newSize, oldSize, expected) in cases {
            let owner = deployment(replicas: replicas, surge: .int(surge), unavailable: .int(1))
            let new = replicaSet(replicas: newSize)
            let old = replicaSet(replicas: oldSize)
            XCTAssertEqual(
                DeploymentRules.newReplicaSetReplicas(owner, all: [old, new], new: new), expected,
                "replicas \(replicas) surge \(surge) new \(newSize) old \(oldSize)")
        }
        var recreate = deployment(replicas: 4)
        recreate.spec.strategy = DeploymentStrategy(type: "Recreate")
        XCTAssertEqual(DeploymentRules.newReplicaSetReplicas(recreate, all: [], new: replicaSet(replicas: 0)), 4)
    }

    func testRevisionsAndTemplatesIgnoringTheHashLabel() {
        var a = replicaSet(replicas: 1)
        a.metadata.annotations[DeploymentRules.revisionAnnotation] = "3"
        var b = replicaSet(replicas: 1)
        b.metadata.annotations[DeploymentRules.revisionAnnotation] = "7"
        var c = replicaSet(replicas: 1)
        c.metadata.annotations[DeploymentRules.revisionAnnotation] = "not a number"
        XCTAssertEqual(DeploymentRules.maxRevision([a, b, c]), 7)
        XCTAssertEqual(DeploymentRules.lastRevision([a, b, c]), 3)
        XCTAssertEqual(DeploymentRules.lastRevision([b]), 0)

        var hashed = Self.template(image: "nginx")
        hashed.metadata?.labels[PodTemplateHash.labelKey] = "abc"
        XCTAssertTrue(DeploymentRules.equalIgnoringHash(hashed, Self.template(image: "nginx")))
        XCTAssertFalse(DeploymentRules.equalIgnoringHash(hashed, Self.template(image: "nginx:2")))
    }

    func testProgressPredicates() {
        var owner = deployment(replicas: 3)
        owner.metadata.generation = 2
        var status = DeploymentStatus()
        status.replicas = 3
        status.updatedReplicas = 3
        status.availableReplicas = 3
        status.observedGeneration = 2
        XCTAssertTrue(DeploymentRules.isComplete(owner, status))
        status.observedGeneration = 1
        XCTAssertFalse(DeploymentRules.isComplete(owner, status))

        owner.status.replicas = 4
        owner.status.updatedReplicas = 1
        var next = owner.status
        XCTAssertFalse(DeploymentRules.isProgressing(owner, next))
        next.updatedReplicas = 2
        XCTAssertTrue(DeploymentRules.isProgressing(owner, next))
        next = owner.status
        next.replicas = 3
        XCTAssertTrue(DeploymentRules.isProgressing(owner, next), "fewer old replicas is progress")
    }

    // MARK: Builders

    static func template(image: String) -> PodTemplateSpec {
        var metadata = ObjectMeta()
        metadata.labels = ["app": "web"]
        return PodTemplateSpec(metadata: metadata, spec: PodSpec(containers: [Container(name: "web", image: image)]))
    }

    private func deployment(replicas: Int32, surge: IntOrString? = nil, unavailable: IntOrString? = nil) -> Deployment {
        var deployment = Deployment()
        deployment.spec.replicas = replicas
        var strategy = DeploymentStrategy(type: "RollingUpdate")
        if surge != nil || unavailable != nil {
            strategy.rollingUpdate = RollingUpdateDeployment(maxSurge: surge, maxUnavailable: unavailable)
        }
        deployment.spec.strategy = strategy
        return deployment
    }

    private func replicaSet(replicas: Int32) -> ReplicaSet {
        var replicaSet = ReplicaSet()
        replicaSet.spec.replicas = replicas
        return replicaSet
    }
}

final class PodTemplateHashTests: XCTestCase {
    func testFNV32aAndTheSafeAlphabetMatchUpstreamsAlgorithm() {
        // FNV-1a reference values, rendered as upstream renders Sum32: decimal digits mapped through
        // "bcdfghjklmnpqrstvwxz2456789" by byte value modulo 27 (so 0–9 become 4 5 6 7 8 9 b c d f).
        XCTAssertEqual(PodTemplateHash.fnv32a([]), 0x811c_9dc5)
        XCTAssertEqual(PodTemplateHash.fnv32a(Array("a".utf8)), 0xe40c_292c)
        XCTAssertEqual(PodTemplateHash.fnv32a(Array("foobar".utf8)), 0xbf9c_f968)
        XCTAssertEqual(PodTemplateHash.safeEncode("0123456789"), "456789bcdf")
        XCTAssertEqual(PodTemplateHash.safeEncode(String(PodTemplateHash.fnv32a([]))), "65bb57b6b5")
        XCTAssertEqual(PodTemplateHash.safeEncode(String(PodTemplateHash.fnv32a(Array("a".utf8)))), "7d6b446664")
    }

    func testTheTemplateHashCoversTheCanonicalTemplateAndTheCollisionCount() {
        // FNV-32a of {"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"image":"nginx","name":"web"}]}}
        // is 1332816615; with collision count 1 appended as four little-endian bytes, 1603957574.
        let template = DeploymentRulesTests.template(image: "nginx")
        XCTAssertEqual(PodTemplateHash.compute(template, collisionCount: nil), "5776d5bb59")
        XCTAssertEqual(PodTemplateHash.compute(template, collisionCount: 1), "5b47f9c9c8")
        XCTAssertNotEqual(
            PodTemplateHash.compute(DeploymentRulesTests.template(image: "nginx:2"), collisionCount: nil),
            "5776d5bb59")
    }
}
