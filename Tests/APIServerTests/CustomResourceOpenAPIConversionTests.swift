import APIMachinery
import Schemas
import XCTest

@testable import APIServer

/// A CRD version's `openAPIV3Schema` as upstream's apiextensions builder publishes it: the v3 → v2 conversion
/// (`ToStructuralOpenAPIV2`), the definitions with type and object metadata, and the documents they join.
final class CustomResourceOpenAPIConversionTests: XCTestCase {
    func parse(_ text: String) throws -> JSON { try JSON.parse(text) }

    func testV2DropsJunctorsNullableAndDefaultsAndKeepsIntOrStringAsAnExtension() throws {
        let schema = try parse(
            #"""
            {"type": "object", "description": "root", "example": {"a": 1}, "required": ["a", "n", "m"],
             "properties": {
               "a": {"type": "string", "default": "x", "anyOf": [{"pattern": "^a"}], "not": {"enum": ["b"]}},
               "n": {"type": "object", "nullable": true, "properties": {"x": {"type": "string"}}},
               "m": {"type": "integer", "nullable": false},
               "p": {"x-kubernetes-int-or-string": true, "description": "a port"},
               "u": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                     "properties": {"k": {"type": "string"}}},
               "l": {"type": "array", "nullable": true, "items": {"type": "string"}},
               "e": {"type": "object", "x-kubernetes-embedded-resource": true,
                     "x-kubernetes-preserve-unknown-fields": true},
               "f": {"type": "boolean", "x-kubernetes-embedded-resource": false}}}
            """#)
        let v2 = CustomResourceSchemaConversion.openAPIV2(schema)
        let expected = try parse(
            #"""
            {"type": "object", "description": "root", "required": ["a", "m"],
             "properties": {
               "a": {"type": "string"},
               "n": {},
               "m": {"type": "integer"},
               "p": {"x-kubernetes-int-or-string": true, "description": "a port"},
               "u": {"x-kubernetes-preserve-unknown-fields": true},
               "l": {},
               "e": {"x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true},
               "f": {"type": "boolean"}}}
            """#)
        XCTAssertEqual(v2, expected, v2.jsonString)
    }

    func testV3KeepsNullableDefaultsAndJunctorsAndUnfoldsIntOrString() throws {
        let schema = try parse(
            #"""
            {"type": "object", "externalDocs": {"url": "x"}, "properties": {
               "a": {"type": "string", "default": "x", "nullable": true, "oneOf": [{"pattern": "^a"}]},
               "p": {"x-kubernetes-int-or-string": true},
               "q": {"x-kubernetes-int-or-string": true, "anyOf": [{"maximum": 3}]},
               "r": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]}}}
            """#)
        let v3 = CustomResourceSchemaConversion.openAPIV3(schema)
        let expected = try parse(
            #"""
            {"type": "object", "properties": {
               "a": {"type": "string", "default": "x", "nullable": true, "oneOf": [{"pattern": "^a"}]},
               "p": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]},
               "q": {"x-kubernetes-int-or-string": true, "anyOf": [{"maximum": 3}],
                     "allOf": [{"anyOf": [{"type": "integer"}, {"type": "string"}]}]},
               "r": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]}}}
            """#)
        XCTAssertEqual(v3, expected, v3.jsonString)
        // v2 cannot say any of that: the unfolded anyOf goes again with the other junctors.
        XCTAssertEqual(
            CustomResourceSchemaConversion.openAPIV2(schema)["properties"]?["q"],
            ["x-kubernetes-int-or-string": true])
    }

    static let cronTabSchema: JSON = [
        "type": "object", "description": "A cron tab.",
        "properties": [
            "spec": [
                "type": "object",
                "properties": [
                    "cronSpec": ["type": "string", "description": "When to run."],
                    "replicas": ["type": "integer", "default": 1],
                    "template": ["type": "object", "x-kubernetes-embedded-resource": true, "properties": [:]],
                ],
            ]
        ],
    ]

    func cronTab(schema: JSON? = cronTabSchema, version: String = "v1") -> OpenAPICustomResource {
        OpenAPICustomResource(
            resource: OpenAPIResource(
                group: "stable.example.com", version: version, resource: "crontabs", kind: "CronTab", namespaced: true,
                verbs: ResourceDefinition.allVerbs, subresources: ["status", "scale"]),
            listKind: "CronTabList", openAPIV3Schema: schema)
    }

    func testDefinitionsAreNamedByTheReversedGroupAndCarryTypeAndObjectMetadata() throws {
        var builder = OpenAPIBuilder(resources: [])
        builder.customResources = [cronTab()]
        let v2 = builder.v2Document()
        let kind = try XCTUnwrap(v2["definitions"]?["com.example.stable.v1.CronTab"])
        XCTAssertEqual(
            kind["x-kubernetes-group-version-kind"],
            [["group": "stable.example.com", "kind": "CronTab", "version": "v1"]])
        XCTAssertEqual(kind["description"], "A cron tab.")
        XCTAssertEqual(
            kind["properties"]?["metadata"]?["$ref"], "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
        XCTAssertEqual(kind["properties"]?["apiVersion"]?["type"], "string")
        XCTAssertNil(kind["properties"]?["spec"]?["properties"]?["replicas"]?["default"])
        let template = try XCTUnwrap(kind["properties"]?["spec"]?["properties"]?["template"])
        XCTAssertEqual(template["required"], ["kind", "apiVersion"])
        XCTAssertNotNil(template["properties"]?["metadata"]?["$ref"])
        let list = try XCTUnwrap(v2["definitions"]?["com.example.stable.v1.CronTabList"])
        XCTAssertEqual(list["properties"]?["items"]?["items"]?["$ref"], "#/definitions/com.example.stable.v1.CronTab")
        XCTAssertEqual(list["required"], ["items"])
        // What the custom definitions refer to is published with them.
        XCTAssertNotNil(v2["definitions"]?["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"])
        XCTAssertNotNil(v2["definitions"]?["io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"])
        XCTAssertNotNil(v2["definitions"]?["io.k8s.api.autoscaling.v1.Scale"])
        let item = try XCTUnwrap(v2["paths"]?["/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}"])
        XCTAssertEqual(item["get"]?["operationId"], "readStableExampleComV1NamespacedCronTab")
        XCTAssertEqual(
            item["get"]?["responses"]?["200"]?["schema"]?["$ref"], "#/definitions/com.example.stable.v1.CronTab")
        XCTAssertEqual(
            v2["paths"]?["/apis/stable.example.com/v1/crontabs"]?["get"]?["responses"]?["200"]?["schema"]?["$ref"],
            "#/definitions/com.example.stable.v1.CronTabList")
        XCTAssertNotNil(v2["paths"]?["/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}/status"])
        // The gnostic form kubectl reads carries the custom definitions too.
        let protobuf = OpenAPIV2Protobuf.encode(v2)
        XCTAssertNotNil(String(decoding: protobuf, as: UTF8.self).range(of: "com.example.stable.v1.CronTab"))
    }

    func testV3DocumentHoldsOnlyItsGroupVersionWithDefaultsKept() throws {
        var builder = OpenAPIBuilder(resources: [])
        builder.customResources = [cronTab(), cronTab(version: "v2")]
        let v3 = builder.v3Document(for: GroupVersion(group: "stable.example.com", version: "v2"))
        let schemas = try XCTUnwrap(v3["components"]?["schemas"]?.objectValue)
        XCTAssertNotNil(schemas["com.example.stable.v2.CronTab"])
        XCTAssertNil(schemas["com.example.stable.v1.CronTab"])
        let kind = try XCTUnwrap(schemas["com.example.stable.v2.CronTab"])
        XCTAssertEqual(kind["properties"]?["spec"]?["properties"]?["replicas"]?["default"], 1)
        XCTAssertEqual(
            kind["properties"]?["metadata"]?["allOf"],
            [["$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]])
        let root = try JSON.parse(builder.build().v3Root)
        XCTAssertNotNil(root["paths"]?["apis/stable.example.com/v1"])
        XCTAssertNotNil(root["paths"]?["apis/stable.example.com/v2"])
    }

    func testPreservingUnknownFieldsAtTheRootPublishesNoFieldsInV2() throws {
        let schema: JSON = [
            "type": "object", "x-kubernetes-preserve-unknown-fields": true,
            "properties": ["spec": ["type": "object"]],
        ]
        var builder = OpenAPIBuilder(resources: [])
        builder.customResources = [cronTab(schema: schema), cronTab(schema: nil, version: "v2")]
        let definitions = builder.v2Document()["definitions"]
        let gvk: JSON = [["group": "stable.example.com", "kind": "CronTab", "version": "v1"]]
        XCTAssertEqual(
            definitions?["com.example.stable.v1.CronTab"],
            ["type": "object", "x-kubernetes-group-version-kind": gvk])
        XCTAssertEqual(definitions?["com.example.stable.v2.CronTab"]?["properties"], nil)
        // v3 readers understand the extension: the fields are published there.
        let v3 = builder.v3Document(for: GroupVersion(group: "stable.example.com", version: "v1"))
        XCTAssertNotNil(v3["components"]?["schemas"]?["com.example.stable.v1.CronTab"]?["properties"]?["spec"])
    }

    func testEntityTagsAnswerNotModified() {
        let bytes = Array("{}".utf8)
        let etag = ServedOpenAPI.etag(bytes)
        var request = HTTPRequest(method: .GET, uri: "/openapi/v2", headers: ["If-None-Match": etag])
        XCTAssertEqual(
            APIServer.openAPIResponse(bytes, contentType: "application/json", etag: etag, request: request).status,
            .notModified)
        request.headers.replaceOrAdd(name: "If-None-Match", value: "\"stale\"")
        let response = APIServer.openAPIResponse(bytes, contentType: "application/json", etag: etag, request: request)
        XCTAssertEqual(response.status, .ok)
        XCTAssertEqual(response.headers.first(name: "ETag"), etag)
    }
}

/// Defaults on read: only a version whose storage schema has defaults gets a conversion (and loses the raw
/// read path); objects read through it get the storage version's defaults, printer columns too.
final class CustomResourceReadDefaultsTests: XCTestCase {
    func definition(color: JSON) -> CustomResourceDefinitionView {
        CustomResourceDefinitionView([
            "metadata": ["name": "gizmos.example.com", "uid": "u1"],
            "spec": [
                "group": "example.com", "scope": "Namespaced",
                "names": ["plural": "gizmos", "kind": "Gizmo"],
                "versions": [
                    [
                        "name": "v1", "served": true, "storage": true,
                        "schema": [
                            "openAPIV3Schema": [
                                "type": "object",
                                "properties": [
                                    "spec": [
                                        "type": "object", "properties": ["size": ["type": "string"], "color": color],
                                    ]
                                ],
                            ]
                        ],
                        "additionalPrinterColumns": [["name": "Color", "type": "string", "jsonPath": ".spec.color"]],
                    ]
                ],
            ],
            "status": ["acceptedNames": ["plural": "gizmos", "kind": "Gizmo"]],
        ])
    }

    func testOnlyVersionsWithDefaultsConvertWhatTheyRead() throws {
        XCTAssertNil(definition(color: ["type": "string"]).servedResources.first?.conversion)
        let served = try XCTUnwrap(definition(color: ["type": "string", "default": "blue"]).servedResources.first)
        let conversion = try XCTUnwrap(served.conversion)
        let stored: JSON = ["apiVersion": "example.com/v1", "kind": "Gizmo", "spec": ["size": "s", "color": nil]]
        XCTAssertEqual(
            conversion.fromStorage(stored),
            ["apiVersion": "example.com/v1", "kind": "Gizmo", "spec": ["size": "s", "color": "blue"]])
        XCTAssertEqual(served.strategy.cells(stored).last, "blue")
        XCTAssertEqual(conversion.toStorage(stored), stored)
    }
}

/// `status.storedVersions` as upstream keeps it: a new storage version is appended, never duplicated, and
/// older entries stay until an operator has migrated their objects.
final class CustomResourceStoredVersionsTests: XCTestCase {
    func withStorage(_ storage: String, stored: [String]) -> JSON {
        [
            "spec": [
                "versions": [
                    ["name": "v1", "served": true, "storage": .bool(storage == "v1")],
                    ["name": "v2", "served": true, "storage": .bool(storage == "v2")],
                ]
            ],
            "status": ["storedVersions": .array(stored.map(JSON.string))],
        ]
    }

    func testANewStorageVersionIsAppendedOnce() {
        let strategy = CustomResourceDefinitionStrategy()
        var moved = withStorage("v2", stored: [])
        strategy.prepareForUpdate(&moved, old: withStorage("v1", stored: ["v1"]))
        XCTAssertEqual(moved["status"]?["storedVersions"], ["v1", "v2"])
        var back = withStorage("v1", stored: [])
        strategy.prepareForUpdate(&back, old: withStorage("v2", stored: ["v1", "v2"]))
        XCTAssertEqual(back["status"]?["storedVersions"], ["v1", "v2"])
        var created = withStorage("v2", stored: ["v1"])
        strategy.prepareForCreate(&created)
        XCTAssertEqual(created["status"]?["storedVersions"], ["v2"])
    }
}
