import Foundation
import TestSupport
import XCTest

/// CustomResourceDefinitions and their custom resources through kubectl against a real server: served once
/// Established, CRUD, tables with printer columns, status and scale subresources, apply (client- and
/// server-side), categories and api-resources, name conflicts, versions, and deletion taking the resources.
final class CustomResourceEndToEndTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.111" }
    override class var controllers: [String]? { nil }

    /// A definition of `kind` in `group`; `extra` is YAML appended under the single version.
    func definition(
        group: String, kind: String, plural: String, scope: String = "Namespaced", versions: String? = nil,
        shortNames: String = "[]", categories: String = "[]"
    ) -> String {
        let version =
            versions ?? """
                  - name: v1
                    served: true
                    storage: true
                    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
                """
        return """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: \(plural).\(group)}
            spec:
              group: \(group)
              scope: \(scope)
              names: {plural: \(plural), kind: \(kind), shortNames: \(shortNames), categories: \(categories)}
              versions:
            \(version)
            """
    }

    func establish(_ cluster: TestCluster, _ manifest: String, name: String) throws {
        expectSuccess(try cluster.kubectl(["create", "-f", "-"], input: manifest))
        expectSuccess(
            try cluster.kubectl(["wait", "--for=condition=Established", "crd/\(name)", "--timeout=20s"]))
    }

    func testCustomResourcesAreServedWithTablesSubresourcesAndApply() throws {
        let cluster = try cluster
        let versions = """
              - name: v1
                served: true
                storage: true
                schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
                subresources:
                  status: {}
                  scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
                additionalPrinterColumns:
                - {name: Replicas, type: integer, jsonPath: .spec.replicas}
                - {name: Color, type: string, jsonPath: .spec.color}
            """
        try establish(
            cluster,
            definition(
                group: "shop.kubeswift.test", kind: "Widget", plural: "widgets", versions: versions,
                shortNames: "[wd]", categories: "[all]"),
            name: "widgets.shop.kubeswift.test")
        let widget = """
            apiVersion: shop.kubeswift.test/v1
            kind: Widget
            metadata: {name: w1, namespace: default, labels: {tier: a}}
            spec: {replicas: 2, color: red}
            """
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl(["apply", "-f", "-"], input: widget)),
            "widget.shop.kubeswift.test/w1 created\n")
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl(["apply", "-f", "-"], input: widget)),
            "widget.shop.kubeswift.test/w1 unchanged\n")
        // Status has its own endpoint: a create does not set it.
        let withStatus =
            "apiVersion: shop.kubeswift.test/v1\nkind: Widget\nmetadata: {name: w3}\nstatus: {replicas: 9}\n"
        expectSuccess(try cluster.kubectl(["create", "-f", "-"], input: withStatus))
        XCTAssertEqual(
            expectSuccess(
                try cluster.kubectl(["get", "wd", "w3", "-o", "jsonpath={.status}|{.metadata.generation}"])), "|1")
        expectSuccess(try cluster.kubectl(["delete", "wd", "w3"]))
        let table = expectSuccess(try cluster.kubectl(["get", "widgets"]))
        XCTAssertTrue(table.hasPrefix("NAME   REPLICAS   COLOR\nw1     2          red\n"), table)
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl(["get", "widgets", "-l", "tier=a", "-o", "name"])),
            "widget.shop.kubeswift.test/w1\n")
        XCTAssertEqual(expectSuccess(try cluster.kubectl(["get", "widgets", "-l", "tier=b", "-o", "name"])), "")
        XCTAssertEqual(
            expectSuccess(
                try cluster.kubectl(["get", "widgets", "--field-selector", "metadata.name=w1", "-o", "name"])),
            "widget.shop.kubeswift.test/w1\n")

        // The status endpoint writes only status; the object's writes leave status alone.
        expectSuccess(
            try cluster.kubectl([
                "patch", "widget", "w1", "--subresource=status", "--type=merge", "-p",
                #"{"status":{"replicas":2},"spec":{"color":"blue"}}"#,
            ]))
        expectSuccess(
            try cluster.kubectl(["patch", "widget", "w1", "--type=merge", "-p", #"{"status":{"replicas":7}}"#]))
        XCTAssertEqual(
            expectSuccess(
                try cluster.kubectl([
                    "get", "widget", "w1", "-o", "jsonpath={.spec.color}|{.status.replicas}|{.metadata.generation}",
                ])), "red|2|1")

        XCTAssertEqual(
            expectSuccess(try cluster.kubectl(["scale", "widget", "w1", "--replicas=5"])),
            "widget.shop.kubeswift.test/w1 scaled\n")
        XCTAssertEqual(
            expectSuccess(
                try cluster.kubectl([
                    "get", "widget", "w1", "-o", "jsonpath={.spec.replicas}|{.metadata.generation}",
                ])), "5|2")
        let scale = expectSuccess(
            try cluster.kubectl([
                "get", "--raw", "/apis/shop.kubeswift.test/v1/namespaces/default/widgets/w1/scale",
            ]))
        XCTAssertTrue(scale.contains(#""spec":{"replicas":5},"status":{"replicas":2}"#), scale)

        expectFailure(
            try cluster.kubectl(["patch", "widget", "w1", "--type=strategic", "-p", #"{"spec":{"color":"green"}}"#]),
            "error: application/strategic-merge-patch+json is not supported by shop.kubeswift.test/v1, Kind=Widget: "
                + "the body of the request was in an unknown format - accepted media types include: "
                + "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml")

        let applied = """
            apiVersion: shop.kubeswift.test/v1
            kind: Widget
            metadata: {name: w2, namespace: default}
            spec: {color: green, parts: [a, b]}
            """
        XCTAssertEqual(
            expectSuccess(
                try cluster.kubectl(["apply", "--server-side", "--field-manager=tester", "-f", "-"], input: applied)),
            "widget.shop.kubeswift.test/w2 serverside-applied\n")
        XCTAssertEqual(
            expectSuccess(
                try cluster.kubectl([
                    "get", "widget", "w2", "-o", "jsonpath={.spec.parts}|{.metadata.managedFields[0].manager}",
                ])), #"["a","b"]|tester"#)

        let all = expectSuccess(try cluster.kubectl(["get", "all", "-o", "name"]))
        XCTAssertTrue(all.contains("widget.shop.kubeswift.test/w1\n"), all)
        let resources = expectSuccess(try cluster.kubectl(["api-resources", "--api-group=shop.kubeswift.test"]))
        let rows = resources.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        XCTAssertEqual(rows.last, ["widgets", "wd", "shop.kubeswift.test/v1", "true", "Widget"], resources)

        let watch = expectSuccess(
            try cluster.kubectl([
                "get", "--raw",
                "/apis/shop.kubeswift.test/v1/namespaces/default/widgets?watch=1&timeoutSeconds=1&fieldSelector=metadata.name%3Dw1",
            ]))
        XCTAssertTrue(watch.hasPrefix(#"{"type":"ADDED","object":{"apiVersion":"shop.kubeswift.test/v1""#), watch)

        XCTAssertEqual(
            expectSuccess(try cluster.kubectl(["delete", "widget", "w2"])),
            "widget.shop.kubeswift.test \"w2\" deleted\n")
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl(["get", "widgets", "-o", "name"])), "widget.shop.kubeswift.test/w1\n")
    }

    /// A version's schema prunes, defaults and validates (CEL rules included), and unknown fields meet
    /// `fieldValidation` as for built-in kinds: kubectl's default Strict refuses them.
    func testTheSchemaDefaultsValidatesAndRefusesUnknownFields() throws {
        let cluster = try cluster
        let versions = """
              - name: v1
                served: true
                storage: true
                schema:
                  openAPIV3Schema:
                    type: object
                    properties:
                      spec:
                        type: object
                        x-kubernetes-validations:
                        - {rule: "self.replicas <= self.maxReplicas", message: "replicas must not exceed maxReplicas"}
                        properties:
                          replicas: {type: integer, minimum: 0, default: 1}
                          maxReplicas: {type: integer, default: 10}
                          color: {type: string, enum: [red, blue]}
            """
        try establish(
            cluster, definition(group: "tools.kubeswift.test", kind: "Gadget", plural: "gadgets", versions: versions),
            name: "gadgets.tools.kubeswift.test")
        let unknown =
            "apiVersion: tools.kubeswift.test/v1\nkind: Gadget\nmetadata: {name: g1, namespace: default}\n"
            + "spec: {color: red, extra: 1}\n"
        expectFailure(
            try cluster.kubectl(["apply", "-f", "-"], input: unknown),
            #"Error from server (BadRequest): error when creating "STDIN": Gadget in version "v1" cannot be handled as a Gadget: strict decoding error: unknown field "spec.extra""#
        )
        expectSuccess(try cluster.kubectl(["apply", "--validate=false", "-f", "-"], input: unknown))
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl(["get", "gadget", "g1", "-o", "jsonpath={.spec}"])),
            #"{"color":"red","maxReplicas":10,"replicas":1}"#)
        let invalid = try cluster.kubectl(
            ["apply", "-f", "-"],
            input: "apiVersion: tools.kubeswift.test/v1\nkind: Gadget\nmetadata: {name: g2, namespace: default}\n"
                + "spec: {color: green, replicas: 20}\n")
        XCTAssertNotEqual(invalid.status, 0)
        XCTAssertTrue(
            invalid.stderr.contains(#"spec.color: Unsupported value: "green": supported values: "red", "blue""#),
            invalid.stderr)
        XCTAssertTrue(
            invalid.stderr.contains(#"spec: Invalid value: "object": replicas must not exceed maxReplicas"#),
            invalid.stderr)
    }

    func testConflictingNamesAreNotAccepted() throws {
        let cluster = try cluster
        try establish(
            cluster, definition(group: "names.kubeswift.test", kind: "Gear", plural: "gears"),
            name: "gears.names.kubeswift.test")
        expectSuccess(
            try cluster.kubectl(
                ["create", "-f", "-"], input: definition(group: "names.kubeswift.test", kind: "Gear", plural: "cogs")))
        expectSuccess(
            try cluster.kubectl([
                "wait", "--for=condition=NamesAccepted=False", "crd/cogs.names.kubeswift.test", "--timeout=20s",
            ]))
        let condition = expectSuccess(
            try cluster.kubectl([
                "get", "crd", "cogs.names.kubeswift.test", "-o",
                #"jsonpath={.status.conditions[?(@.type=="NamesAccepted")].reason}: {.status.conditions[?(@.type=="NamesAccepted")].message}|{.status.conditions[?(@.type=="Established")].status}"#,
            ]))
        XCTAssertEqual(condition, #"ListKindConflict: "GearList" is already in use|False"#)
        expectFailure(
            try cluster.kubectl(["get", "cogs"]),
            #"error: the server doesn't have a resource type "cogs""#)
    }

    func testDeletingADefinitionDeletesItsResources() throws {
        let cluster = try cluster
        let manifest = definition(group: "gone.kubeswift.test", kind: "Leaf", plural: "leaves", scope: "Cluster")
        try establish(cluster, manifest, name: "leaves.gone.kubeswift.test")
        for name in ["one", "two"] {
            expectSuccess(
                try cluster.kubectl(
                    ["create", "-f", "-"],
                    input: "apiVersion: gone.kubeswift.test/v1\nkind: Leaf\nmetadata: {name: \(name)}\n"))
        }
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl(["delete", "crd", "leaves.gone.kubeswift.test", "--timeout=20s"])),
            "customresourcedefinition.apiextensions.k8s.io \"leaves.gone.kubeswift.test\" deleted\n")
        // Created again, the definition finds no instance left behind in storage.
        try establish(cluster, manifest, name: "leaves.gone.kubeswift.test")
        XCTAssertEqual(expectSuccess(try cluster.kubectl(["get", "leaves", "-o", "name"])), "")
    }

    func testASecondServedVersionRewritesAPIVersionAndWarnsWhenDeprecated() throws {
        let cluster = try cluster
        let versions = """
              - name: v1beta1
                served: true
                storage: false
                deprecated: true
                schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
              - name: v1
                served: true
                storage: true
                schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
            """
        try establish(
            cluster, definition(group: "versions.kubeswift.test", kind: "Tool", plural: "tools", versions: versions),
            name: "tools.versions.kubeswift.test")
        let created = try cluster.kubectl(
            ["create", "-f", "-"],
            input:
                "apiVersion: versions.kubeswift.test/v1beta1\nkind: Tool\nmetadata: {name: saw, namespace: default}\n")
        XCTAssertEqual(expectSuccess(created), "tool.versions.kubeswift.test/saw created\n")
        XCTAssertTrue(
            created.stderr.contains("Warning: versions.kubeswift.test/v1beta1 Tool is deprecated"), created.stderr)
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl(["get", "tools", "saw", "-o", "jsonpath={.apiVersion}"])),
            "versions.kubeswift.test/v1")
        XCTAssertEqual(
            expectSuccess(
                try cluster.kubectl([
                    "get", "tools.v1beta1.versions.kubeswift.test", "saw", "-o", "jsonpath={.apiVersion}",
                ])),
            "versions.kubeswift.test/v1beta1")
        let stored = expectSuccess(
            try cluster.kubectl([
                "get", "crd", "tools.versions.kubeswift.test", "-o", "jsonpath={.status.storedVersions}",
            ]))
        XCTAssertEqual(stored, #"["v1"]"#)
    }
}
