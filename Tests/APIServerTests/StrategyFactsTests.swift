import APIMachinery
import Storage
import XCTest

@testable import APIServer

/// What upstream's registry strategies do on create and update beyond defaulting, through the generic store on an
/// in-memory storage: generation per kind, a DaemonSet's template generation, a PersistentVolume's phase clock, a
/// PriorityClass's dropped false default and a Job's required restart policy.
final class StrategyFactsTests: XCTestCase {
    private static let storage = MemoryStore()

    private func store(_ group: String, _ resource: String) throws -> RegistryStore {
        let definition = try XCTUnwrap(Catalog.resources.first { $0.group == group && $0.resource == resource })
        let range = try XCTUnwrap(IPv4Range(cidr: "10.0.0.0/24"))
        let storage = Self.storage
        let context = RegistryContext(
            storage: storage, storagePrefix: "/registry",
            serviceIPs: ServiceIPAllocator(range: range, storage: storage, storagePrefix: "/registry"),
            nodePorts: NodePortAllocator(range: 30000...32767, storage: storage, storagePrefix: "/registry"))
        return RegistryStore(
            definition: definition, storage: storage, context: context, storagePrefix: "/registry", watchCache: nil)
    }

    private func create(_ group: String, _ resource: String, _ object: JSON) async throws -> JSON {
        let store = try store(group, resource)
        let namespace: String? = store.definition.namespaced ? "default" : nil
        return try await store.create(namespace: namespace, object: object, options: WriteOptions())
    }

    private func update(
        _ group: String, _ resource: String, _ name: String, _ change: @escaping @Sendable (inout JSON) -> Void
    ) async throws -> JSON {
        let store = try store(group, resource)
        let namespace: String? = store.definition.namespaced ? "default" : nil
        return try await store.update(namespace: namespace, name: name, options: WriteOptions()) {
            var object = $0
            change(&object)
            return object
        }.object
    }

    private static let podTemplate: JSON = [
        "metadata": ["labels": ["app": "a"]],
        "spec": ["containers": [["name": "c", "image": "busybox"]]],
    ]

    func testGenerationStartsAtOneExactlyForTheKindsWhoseUpstreamStrategySetsIt() async throws {
        let cases: [(group: String, resource: String, object: JSON, generation: JSON?)] = [
            (
                "apps", "deployments",
                [
                    "metadata": ["name": "d"],
                    "spec": ["selector": ["matchLabels": ["app": "a"]], "template": Self.podTemplate],
                ],
                1
            ),
            (
                "discovery.k8s.io", "endpointslices",
                ["metadata": ["name": "s"], "addressType": "IPv4", "endpoints": []], 1
            ),
            ("scheduling.k8s.io", "priorityclasses", ["metadata": ["name": "p"], "value": 10], 1),
            ("admissionregistration.k8s.io", "mutatingwebhookconfigurations", ["metadata": ["name": "m"]], 1),
            ("admissionregistration.k8s.io", "validatingwebhookconfigurations", ["metadata": ["name": "v"]], 1),
            (
                "autoscaling", "horizontalpodautoscalers",
                [
                    "metadata": ["name": "h"],
                    "spec": [
                        "scaleTargetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": "d"],
                        "maxReplicas": 3,
                    ],
                ],
                nil
            ),
            (
                "", "persistentvolumes",
                [
                    "metadata": ["name": "pv"],
                    "spec": [
                        "capacity": ["storage": "1Gi"], "accessModes": ["ReadWriteOnce"], "hostPath": ["path": "/tmp"],
                    ],
                ],
                nil
            ),
            (
                "", "persistentvolumeclaims",
                [
                    "metadata": ["name": "pvc"],
                    "spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "1Gi"]]],
                ],
                nil
            ),
            ("", "resourcequotas", ["metadata": ["name": "q"], "spec": ["hard": ["pods": "3"]]], nil),
        ]
        for (group, resource, object, generation) in cases {
            let created = try await create(group, resource, object)
            XCTAssertEqual(created[path: "metadata", "generation"], generation, resource)
        }
    }

    func testGenerationMovesOnlyWithTheFieldsUpstreamWatches() async throws {
        let slices = "discovery.k8s.io"
        _ = try await create(slices, "endpointslices", ["metadata": ["name": "bump"], "addressType": "IPv4"])
        let relabelled = try await update(slices, "endpointslices", "bump") { $0.setMeta("labels", ["a": "b"]) }
        XCTAssertEqual(relabelled[path: "metadata", "generation"], 1)
        let moved = try await update(slices, "endpointslices", "bump") {
            $0["endpoints"] = [["addresses": ["10.0.0.1"]]]
        }
        XCTAssertEqual(moved[path: "metadata", "generation"], 2)

        let webhooks = "admissionregistration.k8s.io"
        _ = try await create(webhooks, "validatingwebhookconfigurations", ["metadata": ["name": "bump"]])
        let hooked = try await update(webhooks, "validatingwebhookconfigurations", "bump") {
            $0["webhooks"] = [
                [
                    "name": "a.example.com", "sideEffects": "None", "admissionReviewVersions": ["v1"],
                    "clientConfig": ["url": "https://example.com"],
                ]
            ]
        }
        XCTAssertEqual(hooked[path: "metadata", "generation"], 2)

        _ = try await create("scheduling.k8s.io", "priorityclasses", ["metadata": ["name": "bump"], "value": 5])
        let described = try await update("scheduling.k8s.io", "priorityclasses", "bump") { $0["description"] = "x" }
        XCTAssertEqual(described[path: "metadata", "generation"], 1)

        _ = try await create("", "resourcequotas", ["metadata": ["name": "bump"], "spec": ["hard": ["pods": "1"]]])
        let raised = try await update("", "resourcequotas", "bump") { $0.set(["spec", "hard", "pods"], to: "2") }
        XCTAssertNil(raised[path: "metadata", "generation"])
    }

    func testADaemonSetCarriesItsTemplateGenerationAsUpstreamsAnnotation() async throws {
        let key = WorkloadStrategy.templateGenerationAnnotation
        let created = try await create(
            "apps", "daemonsets",
            [
                "metadata": ["name": "ds"],
                "spec": ["selector": ["matchLabels": ["app": "a"]], "template": Self.podTemplate],
            ])
        XCTAssertEqual(created[path: "metadata", "annotations", key], "1")

        let retagged = try await update("apps", "daemonsets", "ds") {
            $0.set(["spec", "template", "spec", "containers"], to: [["name": "c", "image": "busybox:2"]])
        }
        XCTAssertEqual(retagged[path: "metadata", "annotations", key], "2")
        XCTAssertEqual(retagged[path: "metadata", "generation"], 2)

        // A client may not move it, and a change outside the template leaves it.
        let forged = try await update("apps", "daemonsets", "ds") {
            $0.set(["metadata", "annotations", key], to: "9")
            $0.set(["spec", "minReadySeconds"], to: 5)
        }
        XCTAssertEqual(forged[path: "metadata", "annotations", key], "2")
        XCTAssertEqual(forged[path: "metadata", "generation"], 3)
    }

    func testAPersistentVolumeStampsItsPhaseTransitions() throws {
        let strategy = PersistentVolumeStrategy(
            base: ColumnsStrategy(columns: [.name], cellsFor: { _ in [] }, tracksGeneration: true), now: { "T1" })
        var volume: JSON = ["metadata": ["name": "pv"], "status": ["phase": "Bound"]]
        strategy.prepareForCreate(&volume)
        XCTAssertEqual(volume["status"], ["phase": "Pending", "lastPhaseTransitionTime": "T1"])

        let later = PersistentVolumeStrategy(base: strategy.base, now: { "T2" })
        var available = volume
        available.set(["status", "phase"], to: "Available")
        later.prepareForStatusUpdate(&available, old: volume)
        XCTAssertEqual(available[path: "status", "lastPhaseTransitionTime"], "T2")

        var samePhase = available
        samePhase.set(["status", "message"], to: "still available")
        PersistentVolumeStrategy(base: strategy.base, now: { "T3" }).prepareForStatusUpdate(&samePhase, old: available)
        XCTAssertEqual(samePhase[path: "status", "lastPhaseTransitionTime"], "T2")

        var ownStamp = available
        ownStamp["status"] = ["phase": "Released", "lastPhaseTransitionTime": "T0"]
        later.prepareForStatusUpdate(&ownStamp, old: available)
        XCTAssertEqual(ownStamp[path: "status", "lastPhaseTransitionTime"], "T0")
    }

    func testANewPersistentVolumeIsPendingWithAStampedTransition() async throws {
        let created = try await create(
            "", "persistentvolumes",
            [
                "metadata": ["name": "stamped"],
                "spec": [
                    "capacity": ["storage": "1Gi"], "accessModes": ["ReadWriteOnce"], "hostPath": ["path": "/tmp"],
                ],
            ])
        XCTAssertEqual(created[path: "status", "phase"], "Pending")
        XCTAssertNotNil(created[path: "status", "lastPhaseTransitionTime"]?.stringValue)
    }

    func testAPriorityClassDropsAFalseGlobalDefaultAsGoEncodesIt() async throws {
        let plain = try await create(
            "scheduling.k8s.io", "priorityclasses", ["metadata": ["name": "plain"], "value": 1, "globalDefault": false])
        XCTAssertNil(plain["globalDefault"])
        let chosen = try await create(
            "scheduling.k8s.io", "priorityclasses", ["metadata": ["name": "chosen"], "value": 2, "globalDefault": true])
        XCTAssertEqual(chosen["globalDefault"], true)
    }

    func testAJobWithoutAnExplicitRestartPolicyIsRefusedAsUpstream() async throws {
        for (resource, name, object) in [
            ("jobs", "job", ["metadata": ["name": "nopolicy"], "spec": ["template": Self.podTemplate]] as JSON),
            (
                "cronjobs", "cronjob",
                [
                    "metadata": ["name": "nopolicy"],
                    "spec": ["schedule": "* * * * *", "jobTemplate": ["spec": ["template": Self.podTemplate]]],
                ] as JSON
            ),
        ] {
            do {
                _ = try await create("batch", resource, object)
                XCTFail("a \(name) without restartPolicy was accepted")
            } catch let error as APIError {
                let path = resource == "jobs" ? "spec.template" : "spec.jobTemplate.spec.template"
                XCTAssertEqual(error.code, 422)
                XCTAssertTrue(
                    error.message.contains(
                        #"\#(path).spec.restartPolicy: Required value: valid values: "OnFailure", "Never""#),
                    error.message)
            }
        }
        var onFailure = Self.podTemplate
        onFailure.set(["spec", "restartPolicy"], to: "OnFailure")
        let job = try await create(
            "batch", "jobs", ["metadata": ["name": "onfailure"], "spec": ["template": onFailure]])
        XCTAssertEqual(job[path: "spec", "template", "spec", "restartPolicy"], "OnFailure")
    }
}
