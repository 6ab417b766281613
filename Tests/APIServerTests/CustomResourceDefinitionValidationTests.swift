import APIMachinery
import Schemas
import XCTest

@testable import APIServer

/// Upstream's CustomResourceDefinition validation messages, the v1 defaults, naming conflicts and the
/// resources a definition serves.
final class CustomResourceDefinitionValidationTests: XCTestCase {
    let strategy = CustomResourceDefinitionStrategy()

    func definition(name: String = "widgets.example.com", group: String = "example.com", plural: String = "widgets")
        -> JSON
    {
        [
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": ["name": .string(name)],
            "spec": [
                "group": .string(group), "scope": "Namespaced",
                "names": ["plural": .string(plural), "kind": "Widget", "shortNames": ["wd"]],
                "versions": [
                    ["name": "v1", "served": true, "storage": true, "schema": ["openAPIV3Schema": ["type": "object"]]]
                ],
            ],
        ]
    }

    /// The object as the registry prepares it for create: defaults and the stored version filled in.
    func prepared(_ object: JSON) -> JSON {
        var object = object
        strategy.prepareForCreate(&object)
        strategy.applyDefaults(&object)
        return object
    }

    func messages(_ object: JSON) -> [String] { strategy.validate(prepared(object)).map(\.description) }

    func testValidDefinitionGetsUpstreamDefaults() {
        let object = prepared(definition())
        XCTAssertEqual(strategy.validate(object), [])
        XCTAssertEqual(object["spec"]?["names"]?["singular"], "widget")
        XCTAssertEqual(object["spec"]?["names"]?["listKind"], "WidgetList")
        XCTAssertEqual(object["spec"]?["conversion"], ["strategy": "None"])
        XCTAssertEqual(object["status"]?["storedVersions"], ["v1"])
    }

    func testNameGroupAndScopeMessages() {
        XCTAssertEqual(
            messages(definition(name: "gadgets.example.com")),
            [#"metadata.name: Invalid value: "gadgets.example.com": must be spec.names.plural+"."+spec.group"#])
        XCTAssertEqual(
            messages(definition(name: "widgets.example", group: "example")),
            [#"spec.group: Invalid value: "example": should be a domain with at least one dot"#])
        var object = definition()
        object.set(["spec", "scope"], to: "Global")
        XCTAssertEqual(
            messages(object), [#"spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced""#])
    }

    func testNamesMessages() {
        var object = definition(name: "Widgets.example.com", plural: "Widgets")
        object.set(["spec", "names", "kind"], to: "Wid_get")
        object.set(["spec", "names", "listKind"], to: "Wid_get")
        let found = messages(object)
        XCTAssertTrue(
            found.contains {
                $0.hasPrefix(
                    #"spec.names.plural: Invalid value: "Widgets": a DNS-1035 label must consist of lower case"#)
            }, "\(found)")
        XCTAssertTrue(
            found.contains {
                $0.hasPrefix(
                    #"spec.names.kind: Invalid value: "Wid_get": may have mixed case, but should otherwise match: "#)
            }, "\(found)")
        XCTAssertTrue(
            found.contains(#"spec.names.listKind: Invalid value: "Wid_get": kind and listKind may not be the same"#),
            "\(found)")
    }

    func testVersionsMessages() {
        var object = definition()
        object.set(
            ["spec", "versions"],
            to: [
                ["name": "v1", "served": true, "storage": true, "schema": ["openAPIV3Schema": ["type": "object"]]],
                ["name": "v1", "served": true, "storage": true],
            ])
        let found = messages(object)
        XCTAssertTrue(found.contains("spec.versions[1].schema.openAPIV3Schema: Required value: schemas are required"))
        XCTAssertTrue(found.contains { $0.hasSuffix(": must contain unique version names") }, "\(found)")
        XCTAssertTrue(found.contains { $0.hasSuffix(": must have exactly one version marked as storage version") })
        object.set(["spec", "versions"], to: [])
        XCTAssertTrue(
            messages(object).contains(
                "spec.versions: Invalid value: []: must have exactly one version marked as storage version"))
    }

    func testWebhookConversionIsRefused() {
        var object = definition()
        object.set(["spec", "conversion"], to: ["strategy": "Webhook"])
        XCTAssertEqual(
            messages(object),
            [
                "spec.conversion.strategy: Forbidden: webhook conversion is not supported by this API server; use strategy None"
            ])
    }

    func testImmutableFieldsOnUpdate() {
        var old = prepared(definition())
        setCustomResourceDefinitionCondition(&old, type: "Established", status: "True", reason: "x", message: "y")
        var new = old
        new.set(["spec", "scope"], to: "Cluster")
        new.set(["spec", "names", "kind"], to: "Gadget")
        XCTAssertEqual(
            strategy.validateUpdate(new, old: old).map(\.description),
            [
                #"spec.scope: Invalid value: "Cluster": field is immutable"#,
                #"spec.names.kind: Invalid value: "Gadget": field is immutable"#,
            ])
    }

    func testStoredVersionsMustAppearInSpec() {
        var object = prepared(definition())
        object.set(["status", "storedVersions"], to: ["v1", "v1alpha1"])
        XCTAssertEqual(
            strategy.validate(object).map(\.description),
            [#"status.storedVersions[1]: Invalid value: "v1alpha1": must appear in spec.versions"#])
    }

    func testNamingConflictGoesAgainstTheNewcomer() {
        let first = CustomResourceDefinitionNaming(others: []).named(prepared(definition()))
        XCTAssertEqual(CustomResourceDefinitionView(first).condition("NamesAccepted"), "True")
        XCTAssertEqual(CustomResourceDefinitionView(first).condition("Established"), "True")
        XCTAssertEqual(first["status"]?["acceptedNames"]?["plural"], "widgets")
        var rival = definition(name: "gizmos.example.com", plural: "gizmos")
        rival.set(["spec", "names", "shortNames"], to: nil)
        let named = CustomResourceDefinitionNaming(others: [CustomResourceDefinitionView(first)]).named(prepared(rival))
        let view = CustomResourceDefinitionView(named)
        XCTAssertEqual(view.condition("NamesAccepted"), "False")
        XCTAssertEqual(view.condition("Established"), "False")
        let condition = view.conditions.first { $0["type"] == "NamesAccepted" }
        XCTAssertEqual(condition?["reason"], "ListKindConflict")
        XCTAssertEqual(condition?["message"], #""WidgetList" is already in use"#)
        XCTAssertEqual(named["status"]?["acceptedNames"]?["plural"], "gizmos")
        XCTAssertNil(named["status"]?["acceptedNames"]?["kind"])
    }

    func testServedResourcesFollowVersionPriority() {
        var object = definition()
        object.set(
            ["spec", "versions"],
            to: [
                ["name": "v1beta1", "served": true, "storage": false, "deprecated": true],
                ["name": "v2", "served": true, "storage": true],
                ["name": "v1alpha1", "served": false, "storage": false],
            ])
        let served = CustomResourceDefinitionView(CustomResourceDefinitionNaming(others: []).named(prepared(object)))
            .servedResources
        XCTAssertEqual(served.map(\.version), ["v2", "v1beta1"])
        XCTAssertEqual(served.map(\.storageFolder), ["example.com/widgets", "example.com/widgets"])
        let warning = (served.last?.strategy as? CustomResourceStrategy)?.deprecationWarning
        XCTAssertEqual(warning, "example.com/v1beta1 Widget is deprecated")
        let stored = served.last?.conversion?.toStorage(["apiVersion": "example.com/v1beta1", "kind": "Widget"])
        XCTAssertEqual(stored?["apiVersion"], "example.com/v2")
    }

    func testPrinterColumnsAndPaths() {
        let columns = CustomResourceColumns(version: [
            "additionalPrinterColumns": [
                ["name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"],
                ["name": "First", "type": "string", "jsonPath": ".status.items[0]"],
            ]
        ])
        XCTAssertEqual(columns.columns.map(\.name), ["Name", "Replicas", "First"])
        let object: JSON = ["metadata": ["name": "a"], "spec": ["replicas": 3], "status": ["items": ["x", "y"]]]
        XCTAssertEqual(columns.cells(object), ["a", 3, "x"])
        XCTAssertEqual(columns.cells(["metadata": ["name": "b"]]), ["b", .null, .null])
        XCTAssertEqual(CustomResourceColumns(version: [:]).columns.map(\.name), ["Name", "Age"])
        XCTAssertNil(JSONFieldPath("spec.replicas"))
        XCTAssertNil(JSONFieldPath(".spec[x]"))
    }
    func testFieldSchemasOwnStructFieldsAndKeepUntypedListsAtomic() throws {
        let kind = GroupVersionKind(group: "example.com", version: "v1", kind: "Widget")
        let schema: JSON = [
            "type": "object",
            "properties": [
                "spec": [
                    "type": "object",
                    "properties": [
                        "replicas": ["type": "integer"],
                        "parts": ["type": "array", "items": ["type": "string"]],
                        "tags": ["type": "array", "items": ["type": "string"], "x-kubernetes-list-type": "set"],
                    ],
                ]
            ],
        ]
        let registry = try XCTUnwrap(CustomResourceFieldSchemas.registry(kind: kind, openAPIV3Schema: schema))
        let object: JSON = [
            "apiVersion": "example.com/v1", "kind": "Widget", "metadata": ["name": "a", "labels": ["x": "y"]],
            "spec": ["replicas": 2, "parts": ["p"], "tags": ["t"]],
        ]
        let paths = registry.fieldSet(of: object, kind: kind).paths.map(\.pathDescription)
        XCTAssertTrue(paths.contains(".spec.replicas"), "\(paths)")
        XCTAssertTrue(paths.contains(".spec.parts"), "\(paths)")
        XCTAssertFalse(paths.contains { $0.hasPrefix(".spec.parts[") }, "\(paths)")
        XCTAssertTrue(paths.contains { $0.hasPrefix(".spec.tags[") }, "\(paths)")
        XCTAssertTrue(paths.contains(".metadata.labels.x"), "\(paths)")
    }
}
