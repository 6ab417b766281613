import APIMachinery
import Foundation
import TestSupport
import XCTest

/// Custom resources in the OpenAPI documents through kubectl against a real server: `kubectl explain` of a
/// definition's fields, the v2 and v3 documents following the definition as it changes, loses a served
/// version and goes, kubectl's own client-side validation, and schema defaults added later showing on reads.
final class CustomResourceOpenAPITests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.144" }
    override class var controllers: [String]? { nil }

    /// Polls `check` every 100 ms for up to 10 s: the definition controller serves changes asynchronously.
    func eventually(_ what: String, file: StaticString = #filePath, line: UInt = #line, _ check: () throws -> Bool)
        rethrows
    {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if try check() { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTFail("timed out waiting until \(what)", file: file, line: line)
    }

    func json(_ cluster: TestCluster, _ path: String) throws -> JSON {
        try JSON.parse(expectSuccess(try cluster.kubectl(["get", "--raw", path])))
    }

    func establish(_ cluster: TestCluster, _ manifest: String, name: String) throws {
        expectSuccess(try cluster.kubectl(["create", "-f", "-"], input: manifest))
        expectSuccess(try cluster.kubectl(["wait", "--for=condition=Established", "crd/\(name)", "--timeout=20s"]))
    }

    static let cronTabs = """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: crontabs.stable.example.com}
        spec:
          group: stable.example.com
          scope: Namespaced
          names: {plural: crontabs, kind: CronTab, shortNames: [ct]}
          versions:
          - name: v1
            served: true
            storage: true
            schema:
              openAPIV3Schema:
                type: object
                description: CronTab runs a command on a schedule.
                properties:
                  spec:
                    type: object
                    description: What the cron tab runs and when.
                    properties:
                      cronSpec: {type: string, description: The schedule in cron format.}
                      replicas: {type: integer, default: 1}
                      note: {type: string, nullable: true}
          - name: v1beta1
            served: true
            storage: false
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec: {type: object, properties: {schedule: {type: string, description: The old schedule.}}}
        """

    func testExplainAndTheDocumentsFollowTheDefinition() throws {
        let cluster = try cluster
        try establish(cluster, Self.cronTabs, name: "crontabs.stable.example.com")
        let explained = expectSuccess(try cluster.kubectl(["explain", "crontabs"]))
        XCTAssertTrue(explained.contains("KIND:       CronTab\nVERSION:    v1\n"), explained)
        XCTAssertTrue(explained.contains("DESCRIPTION:\n    CronTab runs a command on a schedule."), explained)
        XCTAssertTrue(explained.contains("  spec\t<Object>\n    What the cron tab runs and when."), explained)
        XCTAssertTrue(explained.contains("  metadata\t<ObjectMeta>\n"), explained)
        let field = expectSuccess(try cluster.kubectl(["explain", "ct.spec.cronSpec"]))
        XCTAssertTrue(field.contains("FIELD: cronSpec <string>"), field)
        XCTAssertTrue(field.contains("The schedule in cron format."), field)
        let old = expectSuccess(
            try cluster.kubectl(["explain", "crontabs.spec", "--api-version=stable.example.com/v1beta1"]))
        XCTAssertTrue(old.contains("VERSION:    v1beta1"), old)
        XCTAssertTrue(old.contains("  schedule\t<string>\n    The old schedule."), old)

        let v2 = try json(cluster, "/openapi/v2")
        let kind = try XCTUnwrap(v2["definitions"]?["com.example.stable.v1.CronTab"])
        XCTAssertEqual(
            kind["x-kubernetes-group-version-kind"],
            [["group": "stable.example.com", "kind": "CronTab", "version": "v1"]])
        let spec = kind["properties"]?["spec"]?["properties"]
        XCTAssertEqual(spec?["note"], [:], "v2 cannot say nullable: the field has no type")
        XCTAssertEqual(spec?["replicas"], ["type": "integer"], "v2 publishes no defaults")
        XCTAssertNotNil(v2["definitions"]?["com.example.stable.v1beta1.CronTabList"])
        XCTAssertNotNil(v2["paths"]?["/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}"])
        // Custom resources take no strategic merge patch, so kubectl's client-side apply must not send one.
        let cronTab = { (spec: String) in
            "apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {name: c1, namespace: default}\nspec: \(spec)\n"
        }
        expectSuccess(try cluster.kubectl(["apply", "-f", "-"], input: cronTab("{cronSpec: a}")))
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl(["apply", "-f", "-"], input: cronTab("{cronSpec: b}"))),
            "crontab.stable.example.com/c1 configured\n")
        let v3 = try json(cluster, "/openapi/v3/apis/stable.example.com/v1")
        let v3Spec = v3["components"]?["schemas"]?["com.example.stable.v1.CronTab"]?["properties"]?["spec"]
        XCTAssertEqual(v3Spec?["properties"]?["note"], ["type": "string", "nullable": true])
        XCTAssertEqual(v3Spec?["properties"]?["replicas"], ["type": "integer", "default": 1])

        // A new field shows once the definition changes.
        expectSuccess(
            try cluster.kubectl([
                "patch", "crd", "crontabs.stable.example.com", "--type=json", "-p",
                #"[{"op":"add","path":"/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/timeZone","#
                    + #""value":{"type":"string","description":"The time zone of the schedule."}}]"#,
            ]))
        try eventually("explain shows the new field") {
            try cluster.kubectl(["explain", "ct.spec.timeZone"]).stdout.contains("The time zone of the schedule.")
        }

        // A version no longer served leaves both documents.
        expectSuccess(
            try cluster.kubectl([
                "patch", "crd", "crontabs.stable.example.com", "--type=json", "-p",
                #"[{"op":"replace","path":"/spec/versions/1/served","value":false}]"#,
            ]))
        try eventually("v1beta1 leaves the v3 index") {
            try json(cluster, "/openapi/v3")["paths"]?["apis/stable.example.com/v1beta1"] == nil
        }
        XCTAssertNotNil(try json(cluster, "/openapi/v3")["paths"]?["apis/stable.example.com/v1"])
        let afterUnserve = try json(cluster, "/openapi/v2")["definitions"]
        XCTAssertNil(afterUnserve?["com.example.stable.v1beta1.CronTab"])
        XCTAssertNotNil(afterUnserve?["com.example.stable.v1.CronTab"])
        let gone = try cluster.kubectl(["explain", "crontabs", "--api-version=stable.example.com/v1beta1"])
        XCTAssertNotEqual(gone.status, 0, gone.stdout)

        expectSuccess(try cluster.kubectl(["delete", "crd", "crontabs.stable.example.com"]))
        try eventually("the definition leaves /openapi/v2") {
            try json(cluster, "/openapi/v2")["definitions"]?["com.example.stable.v1.CronTab"] == nil
        }
    }

    func testKubectlValidatesAListOfCustomResourcesOnTheClient() throws {
        let cluster = try cluster
        let definition = { (plural: String, kind: String, schema: String) in
            """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: \(plural).kinds.example.com}
            spec:
              group: kinds.example.com
              scope: Namespaced
              names: {plural: \(plural), kind: \(kind)}
              versions:
              - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: \(schema)}}
            """
        }
        try establish(
            cluster,
            definition(
                "gadgets", "Gadget",
                "{type: object, properties: {spec: {type: object, properties: {size: {type: string}}}}}"),
            name: "gadgets.kinds.example.com")
        try establish(
            cluster, definition("blobs", "Blob", "{type: object, x-kubernetes-preserve-unknown-fields: true}"),
            name: "blobs.kinds.example.com")
        let list = { (kind: String, name: String) in
            """
            apiVersion: v1
            kind: List
            items:
            - apiVersion: kinds.example.com/v1
              kind: \(kind)
              metadata: {name: \(name), namespace: default}
              spec: {size: small, bogus: 1}
            """
        }
        // kubectl checks a List's items itself against /openapi/v2 (it asks the server only for single objects).
        expectFailure(
            try cluster.kubectl(["create", "-f", "-", "--validate=true"], input: list("Gadget", "g1")),
            #"error: error validating "STDIN": error validating data: ValidationError(Gadget.spec): unknown field "#
                + #""bogus" in com.example.kinds.v1.Gadget.spec; if you choose to ignore these errors, turn "#
                + "validation off with --validate=false")
        // A root that keeps unknown fields publishes none in v2, so kubectl lets anything through.
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl(["create", "-f", "-", "--validate=true"], input: list("Blob", "b1"))),
            "blob.kinds.example.com/b1 created\n")
    }

    func testADefaultAddedLaterShowsOnGetListAndWatch() throws {
        let cluster = try cluster
        let manifest = """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: gizmos.defaults.example.com}
            spec:
              group: defaults.example.com
              scope: Namespaced
              names: {plural: gizmos, kind: Gizmo}
              versions:
              - name: v1
                served: true
                storage: true
                schema:
                  openAPIV3Schema:
                    type: object
                    properties:
                      spec: {type: object, properties: {size: {type: string}}}
                additionalPrinterColumns:
                - {name: Color, type: string, jsonPath: .spec.color}
            """
        try establish(cluster, manifest, name: "gizmos.defaults.example.com")
        let gizmo = "apiVersion: defaults.example.com/v1\nkind: Gizmo\nmetadata: {name: g1}\nspec: {size: s}\n"
        let created = expectSuccess(try cluster.kubectl(["create", "-f", "-", "-o", "json"], input: gizmo))
        let revision = try XCTUnwrap(try JSON.parse(created)["metadata"]?["resourceVersion"]?.stringValue)
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl(["get", "gizmo", "g1", "-o", "jsonpath={.spec}"])), #"{"size":"s"}"#)

        expectSuccess(
            try cluster.kubectl([
                "patch", "crd", "gizmos.defaults.example.com", "--type=json", "-p",
                #"[{"op":"add","path":"/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/color","#
                    + #""value":{"type":"string","default":"blue"}}]"#,
            ]))
        let defaulted = #"{"color":"blue","size":"s"}"#
        try eventually("a get shows the new default") {
            try cluster.kubectl(["get", "gizmo", "g1", "-o", "jsonpath={.spec}"]).stdout == defaulted
        }
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl(["get", "gizmos", "-o", "jsonpath={.items[0].spec}"])), defaulted)
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl(["get", "gizmos"])).split(separator: "\n").last, "g1     blue")
        // The default is no change of the object: a metadata write does not move its generation.
        expectSuccess(try cluster.kubectl(["label", "gizmo", "g1", "touched=yes"]))
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl(["get", "gizmo", "g1", "-o", "jsonpath={.metadata.generation}"])), "1")
        // A watch from before the object was created replays its creation; one from now lists it first.
        let collection = "/apis/defaults.example.com/v1/namespaces/default/gizmos"
        for query in ["resourceVersion=\(Int(revision).map { $0 - 1 } ?? 0)&", ""] {
            let events = expectSuccess(
                try cluster.kubectl(["get", "--raw", "\(collection)?watch=1&\(query)timeoutSeconds=1"]))
            let first = try JSON.parse(events.split(separator: "\n").first.map(String.init) ?? "")
            XCTAssertEqual(first["type"], "ADDED", events)
            XCTAssertEqual(first["object"]?["spec"]?["color"], "blue", events)
        }
    }
}
