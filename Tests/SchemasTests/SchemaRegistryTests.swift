import APIMachinery
import XCTest

@testable import Schemas

final class SchemaRegistryTests: XCTestCase {
    let registry = SchemaRegistry.shared

    func testServedKindsResolveToUpstreamDefinitionNames() {
        let expected: [(GroupVersionKind, String)] = [
            (GroupVersionKind(group: "", version: "v1", kind: "Pod"), "io.k8s.api.core.v1.Pod"),
            (GroupVersionKind(group: "", version: "v1", kind: "Event"), "io.k8s.api.core.v1.Event"),
            (GroupVersionKind(group: "events.k8s.io", version: "v1", kind: "Event"), "io.k8s.api.events.v1.Event"),
            (GroupVersionKind(group: "apps", version: "v1", kind: "Deployment"), "io.k8s.api.apps.v1.Deployment"),
            (GroupVersionKind(group: "autoscaling", version: "v1", kind: "Scale"), "io.k8s.api.autoscaling.v1.Scale"),
            (GroupVersionKind(group: "policy", version: "v1", kind: "Eviction"), "io.k8s.api.policy.v1.Eviction"),
            (
                GroupVersionKind(group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRoleBinding"),
                "io.k8s.api.rbac.v1.ClusterRoleBinding"
            ),
            (GroupVersionKind(group: "", version: "v1", kind: "Status"), "io.k8s.apimachinery.pkg.apis.meta.v1.Status"),
            (
                GroupVersionKind(group: "apps", version: "v1", kind: "DeleteOptions"),
                "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"
            ),
        ]
        for (kind, name) in expected {
            XCTAssertEqual(registry.definitionName(for: kind), name, "\(kind)")
            XCTAssertNotNil(registry.schema(for: kind), "\(kind)")
        }
        XCTAssertNil(
            registry.definitionName(for: GroupVersionKind(group: "apps", version: "v1beta1", kind: "Deployment")))
        XCTAssertEqual(registry.kubernetesVersion, "v1.32.0")
    }

    func testEveryServedKindHasAnObjectSchemaWithTypeMeta() {
        let kinds: [(String, String, [String])] = [
            (
                "", "v1",
                [
                    "Namespace", "Pod", "Service", "Endpoints", "Node", "ConfigMap", "Secret", "ServiceAccount",
                    "Event",
                    "LimitRange", "ResourceQuota", "PersistentVolume", "PersistentVolumeClaim", "ReplicationController",
                    "Binding",
                ]
            ),
            ("apps", "v1", ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"]),
            ("batch", "v1", ["Job", "CronJob"]), ("coordination.k8s.io", "v1", ["Lease"]),
            ("events.k8s.io", "v1", ["Event"]),
            ("rbac.authorization.k8s.io", "v1", ["Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"]),
            ("discovery.k8s.io", "v1", ["EndpointSlice"]), ("policy", "v1", ["PodDisruptionBudget", "Eviction"]),
            ("autoscaling", "v1", ["Scale"]),
        ]
        for (group, version, names) in kinds {
            for name in names {
                let kind = GroupVersionKind(group: group, version: version, kind: name)
                guard case .object(let object)? = registry.schema(for: kind)?.type else {
                    XCTFail("no object schema for \(kind)")
                    continue
                }
                XCTAssertNotNil(object.properties["apiVersion"], "\(kind)")
                XCTAssertNotNil(object.properties["metadata"], "\(kind)")
                XCTAssertTrue(object.groupVersionKinds.contains(kind), "\(kind)")
            }
        }
    }

    func testStrategicMergeFactsOfContainers() {
        let pod = GroupVersionKind(group: "", version: "v1", kind: "Pod")
        let containers = registry.field(["spec", "containers"], of: pod)
        XCTAssertEqual(containers?.patchStrategy, "merge")
        XCTAssertEqual(containers?.patchMergeKey, "name")
        XCTAssertEqual(containers?.listType, .map)
        XCTAssertEqual(containers?.listMapKeys, ["name"])

        let ports = registry.field(["spec", "containers", "ports"], of: pod)
        XCTAssertEqual(ports?.patchStrategy, "merge")
        XCTAssertEqual(ports?.patchMergeKey, "containerPort")
        XCTAssertEqual(ports?.listMapKeys, ["containerPort", "protocol"])

        let mounts = registry.field(["spec", "containers", "volumeMounts"], of: pod)
        XCTAssertEqual(mounts?.patchMergeKey, "mountPath")
        XCTAssertEqual(registry.field(["spec", "volumes"], of: pod)?.patchStrategy, "merge,retainKeys")
        XCTAssertEqual(registry.field(["spec", "containers", "args"], of: pod)?.listType, .atomic)
        XCTAssertEqual(registry.field(["metadata", "finalizers"], of: pod)?.listType, .set)

        let deployment = GroupVersionKind(group: "apps", version: "v1", kind: "Deployment")
        XCTAssertEqual(registry.field(["spec", "strategy"], of: deployment)?.patchStrategy, "retainKeys")
        XCTAssertEqual(registry.field(["spec", "selector"], of: deployment)?.mapType, .atomic)
    }

    func testTypesAndFormats() {
        let pod = GroupVersionKind(group: "", version: "v1", kind: "Pod")
        XCTAssertEqual(
            registry.field(["spec", "containers", "ports", "containerPort"], of: pod)?.type,
            .primitive(.integer, format: "int32"))
        XCTAssertEqual(
            registry.field(["spec", "containers", "livenessProbe", "httpGet", "port"], of: pod)?.type, .intOrString)
        XCTAssertEqual(
            registry.field(["metadata", "creationTimestamp"], of: pod)?.type, .primitive(.string, format: "date-time"))
        XCTAssertEqual(registry.field(["metadata", "managedFields", "fieldsV1"], of: pod)?.type, .any)
        guard case .map(let values)? = registry.field(["metadata", "annotations"], of: pod)?.type else {
            return XCTFail("annotations are a map")
        }
        XCTAssertEqual(values.type, .primitive(.string, format: nil))
        let secret = GroupVersionKind(group: "", version: "v1", kind: "Secret")
        guard case .map(let data)? = registry.field(["data"], of: secret)?.type else { return XCTFail("data is a map") }
        XCTAssertEqual(data.type, .primitive(.string, format: "byte"))
        guard case .object(let container)? = registry.definition(named: "io.k8s.api.core.v1.Container")?.type else {
            return XCTFail("Container is an object")
        }
        XCTAssertEqual(container.required, ["name"])
        XCTAssertNil(registry.field(["spec", "nope"], of: pod))
    }

    func testOnlyOurOwnDescriptionsAreEmbedded() {
        var described: [String] = []
        for (name, schema) in registry.definitions where schema.description != nil { described.append(name) }
        XCTAssertLessThanOrEqual(described.count, 15)
        XCTAssertEqual(
            registry.definition(named: "io.k8s.api.core.v1.Pod")?.description,
            "A group of containers scheduled together onto one node.")
        XCTAssertNil(registry.definition(named: "io.k8s.api.core.v1.PodSpec")?.description)
    }

    func testParsingTheEmbeddedDefinitionsIsFast() throws {
        let clock = ContinuousClock()
        let elapsed = try clock.measure {
            let fresh = try SchemaRegistry(definitionsJSON: generatedDefinitionsJSON)
            XCTAssertEqual(fresh.definitions.count, registry.definitions.count)
        }
        // Generous for debug builds on a shared 2-core machine; release parses in a few ms.
        XCTAssertLessThan(elapsed, .seconds(2))
    }

    func testMalformedDefinitionsAreReported() {
        XCTAssertThrowsError(try SchemaRegistry(definitionsJSON: "{}"))
        XCTAssertThrowsError(
            try SchemaRegistry(
                definitionsJSON: #"{"definitions":{"a":{"type":"object","properties":{"b":{"$ref":"c"}}}}}"#))
    }
}
