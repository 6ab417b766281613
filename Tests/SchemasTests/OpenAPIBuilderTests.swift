import APIMachinery
import Schemas
import XCTest

/// The resources the API server serves, as it would pass them to the builder.
enum ServedResources {
    static let all: [OpenAPIResource] = {
        let crud = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
        func core(_ resource: String, _ kind: String, namespaced: Bool = true, sub: [String] = []) -> OpenAPIResource {
            OpenAPIResource(
                group: "", version: "v1", resource: resource, kind: kind, namespaced: namespaced, verbs: crud,
                subresources: sub)
        }
        func named(_ group: String, _ resource: String, _ kind: String, namespaced: Bool = true, sub: [String] = [])
            -> OpenAPIResource
        {
            OpenAPIResource(
                group: group, version: "v1", resource: resource, kind: kind, namespaced: namespaced, verbs: crud,
                subresources: sub)
        }
        return [
            core("namespaces", "Namespace", namespaced: false, sub: ["status"]),
            core("pods", "Pod", sub: ["status", "binding", "eviction", "log"]),
            core("services", "Service", sub: ["status"]), core("endpoints", "Endpoints"),
            core("nodes", "Node", namespaced: false, sub: ["status"]), core("configmaps", "ConfigMap"),
            core("secrets", "Secret"), core("serviceaccounts", "ServiceAccount"), core("events", "Event"),
            core("limitranges", "LimitRange"), core("resourcequotas", "ResourceQuota", sub: ["status"]),
            core("persistentvolumes", "PersistentVolume", namespaced: false, sub: ["status"]),
            core("persistentvolumeclaims", "PersistentVolumeClaim", sub: ["status"]),
            core("replicationcontrollers", "ReplicationController", sub: ["status", "scale"]),
            OpenAPIResource(
                group: "", version: "v1", resource: "bindings", kind: "Binding", namespaced: true, verbs: ["create"]),
            named("apps", "deployments", "Deployment", sub: ["status", "scale"]),
            named("apps", "replicasets", "ReplicaSet", sub: ["status", "scale"]),
            named("apps", "statefulsets", "StatefulSet", sub: ["status", "scale"]),
            named("apps", "daemonsets", "DaemonSet", sub: ["status"]),
            named("batch", "jobs", "Job", sub: ["status"]), named("batch", "cronjobs", "CronJob", sub: ["status"]),
            named("coordination.k8s.io", "leases", "Lease"), named("events.k8s.io", "events", "Event"),
            named("rbac.authorization.k8s.io", "roles", "Role"),
            named("rbac.authorization.k8s.io", "rolebindings", "RoleBinding"),
            named("rbac.authorization.k8s.io", "clusterroles", "ClusterRole", namespaced: false),
            named("rbac.authorization.k8s.io", "clusterrolebindings", "ClusterRoleBinding", namespaced: false),
            named("discovery.k8s.io", "endpointslices", "EndpointSlice"),
            named("policy", "poddisruptionbudgets", "PodDisruptionBudget", sub: ["status"]),
        ]
    }()

    static let documents = OpenAPIBuilder(resources: all).build()
}

final class OpenAPIBuilderTests: XCTestCase {
    let documents = ServedResources.documents

    func testV3RootLinksEveryGroupVersionWithItsHash() throws {
        let root = try JSON.parse(documents.v3Root)
        guard case .object(let paths)? = root["paths"] else { return XCTFail("no paths") }
        XCTAssertEqual(
            paths.keys,
            [
                "api/v1", "apis/apps/v1", "apis/batch/v1", "apis/coordination.k8s.io/v1", "apis/discovery.k8s.io/v1",
                "apis/events.k8s.io/v1", "apis/policy/v1", "apis/rbac.authorization.k8s.io/v1",
            ])
        for (path, entry) in paths {
            let document = try XCTUnwrap(documents.v3[path])
            XCTAssertEqual(entry["serverRelativeURL"]?.stringValue, "/openapi/v3/\(path)?hash=\(document.hash)")
            XCTAssertEqual(document.hash, OpenAPIBuilder.hash(document.bytes))
            XCTAssertEqual(document.hash.count, 16)
        }
        XCTAssertEqual(documents.v3Document(requestPath: "/openapi/v3/apis/apps/v1")?.path, "apis/apps/v1")
        XCTAssertNil(documents.v3Document(requestPath: "/openapi/v3/apis/apps/v2"))
    }

    func testDocumentsAreStable() {
        let again = OpenAPIBuilder(resources: ServedResources.all.reversed()).build()
        XCTAssertEqual(again.v3Root, documents.v3Root)
        XCTAssertEqual(again.v2, documents.v2)
    }

    func testV3PatchOperationsCarryServerSideFieldValidation() throws {
        let apps = try JSON.parse(try XCTUnwrap(documents.v3["apis/apps/v1"]).bytes)
        XCTAssertEqual(apps["openapi"], "3.0.0")
        let item = try XCTUnwrap(apps[path: "paths", "/apis/apps/v1/namespaces/{namespace}/deployments/{name}"])
        for method in ["patch", "put"] {
            let operation = try XCTUnwrap(item[method], method)
            XCTAssertEqual(
                operation["x-kubernetes-group-version-kind"], ["group": "apps", "kind": "Deployment", "version": "v1"])
            let parameters = try XCTUnwrap(operation["parameters"]?.arrayValue)
            let queryNames = parameters.filter { $0["in"] == "query" }.compactMap { $0["name"]?.stringValue }
            XCTAssertTrue(queryNames.contains("fieldValidation"), method)
            XCTAssertTrue(queryNames.contains("dryRun"), method)
            XCTAssertTrue(queryNames.contains("fieldManager"), method)
        }
        XCTAssertEqual(item[path: "patch", "x-kubernetes-action"], "patch")
        XCTAssertNotNil(
            item[path: "patch", "requestBody", "content", "application/strategic-merge-patch+json", "schema", "$ref"])
        let create = try XCTUnwrap(apps[path: "paths", "/apis/apps/v1/namespaces/{namespace}/deployments", "post"])
        XCTAssertEqual(
            create[path: "requestBody", "content", "*/*", "schema", "$ref"],
            "#/components/schemas/io.k8s.api.apps.v1.Deployment")
        let scale = try XCTUnwrap(
            apps[path: "paths", "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale", "patch"])
        XCTAssertEqual(
            scale["x-kubernetes-group-version-kind"], ["group": "autoscaling", "kind": "Scale", "version": "v1"])
    }

    func testV3SchemasResolveAndKeepKubernetesExtensions() throws {
        for (path, document) in documents.v3 {
            let json = try JSON.parse(document.bytes)
            guard case .object(let schemas)? = json[path: "components", "schemas"] else { return XCTFail(path) }
            var references: [String] = []
            collectReferences(json, into: &references)
            for reference in references {
                XCTAssertTrue(reference.hasPrefix("#/components/schemas/"), reference)
                XCTAssertNotNil(
                    schemas[String(reference.dropFirst("#/components/schemas/".count))], "\(path): \(reference)")
            }
            XCTAssertNotNil(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"], path)
            XCTAssertNotNil(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Status"], path)
        }
        let core = try JSON.parse(try XCTUnwrap(documents.v3["api/v1"]).bytes)
        let container = try XCTUnwrap(core[path: "components", "schemas", "io.k8s.api.core.v1.Container"])
        XCTAssertEqual(container[path: "properties", "ports", "x-kubernetes-patch-merge-key"], "containerPort")
        XCTAssertEqual(
            container[path: "properties", "ports", "items", "$ref"],
            "#/components/schemas/io.k8s.api.core.v1.ContainerPort")
        XCTAssertEqual(container["required"], ["name"])
        let pod = try XCTUnwrap(core[path: "components", "schemas", "io.k8s.api.core.v1.Pod"])
        XCTAssertEqual(pod["x-kubernetes-group-version-kind"], [["group": "", "kind": "Pod", "version": "v1"]])
        // A reference with extensions is wrapped, since OpenAPI 3.0 ignores siblings of $ref.
        let apps = try JSON.parse(try XCTUnwrap(documents.v3["apis/apps/v1"]).bytes)
        let strategy = try XCTUnwrap(
            apps[path: "components", "schemas", "io.k8s.api.apps.v1.DeploymentSpec", "properties", "strategy"])
        XCTAssertEqual(
            strategy,
            [
                "allOf": [["$ref": "#/components/schemas/io.k8s.api.apps.v1.DeploymentStrategy"]],
                "x-kubernetes-patch-strategy": "retainKeys",
            ])
        // Group versions only carry the schemas they need.
        XCTAssertNil(apps[path: "components", "schemas", "io.k8s.api.core.v1.Service"])
    }

    func testV2DocumentDescribesEveryServedKind() throws {
        let v2 = try JSON.parse(documents.v2)
        XCTAssertEqual(v2["swagger"], "2.0")
        let definitions = try XCTUnwrap(v2["definitions"]?.objectValue)
        for resource in ServedResources.all {
            let name = try XCTUnwrap(SchemaRegistry.shared.definitionName(for: resource.groupVersionKind))
            XCTAssertNotNil(definitions[name], name)
        }
        XCTAssertNotNil(definitions["io.k8s.api.autoscaling.v1.Scale"])
        XCTAssertNotNil(definitions["io.k8s.api.policy.v1.Eviction"])
        XCTAssertEqual(
            definitions["io.k8s.api.apps.v1.DeploymentSpec"]?[path: "properties", "strategy"],
            [
                "$ref": "#/definitions/io.k8s.api.apps.v1.DeploymentStrategy",
                "x-kubernetes-patch-strategy": "retainKeys",
            ])
        let patch = try XCTUnwrap(v2[path: "paths", "/api/v1/namespaces/{namespace}/pods/{name}", "patch"])
        XCTAssertEqual(patch["x-kubernetes-action"], "patch")
        XCTAssertEqual(patch["operationId"], "patchCoreV1NamespacedPod")
        let names = patch["parameters"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        XCTAssertEqual(Set(names), ["body", "dryRun", "fieldManager", "fieldValidation", "force"])
        XCTAssertNotNil(v2[path: "paths", "/api/v1/namespaces/{namespace}/pods/{name}/eviction", "post"])
        XCTAssertNotNil(v2[path: "paths", "/api/v1/namespaces/{namespace}/pods/{name}/binding", "post"])
        XCTAssertNil(v2[path: "paths", "/api/v1/namespaces/{namespace}/pods/{name}/log"])
        XCTAssertEqual(v2[path: "paths", "/api/v1/pods", "get", "operationId"], "listCoreV1PodForAllNamespaces")
        XCTAssertEqual(
            v2[path: "paths", "/apis/rbac.authorization.k8s.io/v1/clusterroles", "get", "operationId"],
            "listRbacAuthorizationV1ClusterRole")
        XCTAssertNil(v2[path: "paths", "/api/v1/namespaces/{namespace}/nodes"])
    }

    private func collectReferences(_ json: JSON, into references: inout [String]) {
        switch json {
        case .object(let object):
            for (key, value) in object {
                if key == "$ref", let text = value.stringValue { references.append(text) }
                collectReferences(value, into: &references)
            }
        case .array(let values): for value in values { collectReferences(value, into: &references) }
        default: break
        }
    }
}
