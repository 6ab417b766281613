import APIMachinery

// The paths and operations of the served resources, in a form independent of the OpenAPI version;
// OpenAPIBuilder renders it as swagger 2.0 and as OpenAPI 3.0.

/// A query or path parameter.
struct APIParameter {
    enum Location: String {
        case query, path
    }
    enum ValueType: String {
        case string, boolean, integer
    }

    var name: String
    var location: Location
    var type: ValueType
    var description: String
    var required = false

    static func query(_ name: String, _ type: ValueType, _ description: String) -> APIParameter {
        APIParameter(name: name, location: .query, type: type, description: description)
    }

    static func path(_ name: String, _ description: String) -> APIParameter {
        APIParameter(name: name, location: .path, type: .string, description: description, required: true)
    }

    static let pretty = query("pretty", .string, "If 'true', the output is indented.")
    static let name = path("name", "Name of the object.")
    static let namespace = path("namespace", "Namespace of the object.")

    static let list: [APIParameter] = [
        query("allowWatchBookmarks", .boolean, "Ask for BOOKMARK events in a watch."),
        query("continue", .string, "Continue token from a previous paged list."),
        query("fieldSelector", .string, "Restrict the result by fields."),
        query("labelSelector", .string, "Restrict the result by labels."),
        query("limit", .integer, "Maximum number of items to return in one page."),
        query("resourceVersion", .string, "Resource version to read at or watch from."),
        query("resourceVersionMatch", .string, "How resourceVersion applies: Exact or NotOlderThan."),
        query("sendInitialEvents", .boolean, "Begin a watch with synthetic ADDED events for existing objects."),
        query("timeoutSeconds", .integer, "Time limit for the list or watch call."),
        query("watch", .boolean, "Stream changes instead of returning a list."),
    ]

    static let dryRun = query("dryRun", .string, "When 'All', validate and admit but do not persist.")
    static let fieldManager = query("fieldManager", .string, "Name of the actor making the change.")
    static let fieldValidation = query(
        "fieldValidation", .string, "How to treat unknown or duplicate fields: Ignore, Warn or Strict.")
    static let write: [APIParameter] = [dryRun, fieldManager, fieldValidation]
    static let patch: [APIParameter] =
        write + [
            query("force", .boolean, "Take over conflicting fields in server-side apply.")
        ]
    static let delete: [APIParameter] = [
        dryRun,
        query("gracePeriodSeconds", .integer, "Seconds to wait before deleting; 0 deletes at once."),
        query("orphanDependents", .boolean, "Deprecated; use propagationPolicy."),
        query("propagationPolicy", .string, "Garbage collection of dependents: Orphan, Background or Foreground."),
    ]
}

/// What an operation reads from its request body.
enum APIRequestBody {
    /// A whole object of one definition.
    case definition(String)
    /// A patch document in one of these content types.
    case patch([String])
}

/// One HTTP method on one path.
struct APIOperation {
    var method: String
    /// The `x-kubernetes-action` value: get, list, post, put, patch, delete, deletecollection.
    var action: String
    var operationID: String
    var summary: String
    /// The tag grouping the operation, from the group version of its path.
    var tag: String
    var kind: GroupVersionKind?
    var parameters: [APIParameter]
    var body: APIRequestBody?
    /// Status code to response definition (nil for responses without body).
    var responses: [(code: String, definition: String?)]
}

/// A path with its operations and the parameters all of them share.
struct APIPath {
    var path: String
    var parameters: [APIParameter]
    var operations: [APIOperation]
}

/// Builds the paths of one group version's resources.
struct APIPathPlanner {
    let registry: SchemaRegistry
    /// Definitions of kinds the registry does not hold (custom resources and their lists), by kind.
    var customDefinitionNames: [GroupVersionKind: String] = [:]

    func definitionName(for kind: GroupVersionKind) -> String? {
        customDefinitionNames[kind] ?? registry.definitionName(for: kind)
    }

    static let patchContentTypes = [
        "application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json",
        "application/strategic-merge-patch+json",
    ]
    /// Custom resources take no strategic merge patch; kubectl's client-side apply sends one only where the
    /// v3 document lists it.
    static let customPatchContentTypes = patchContentTypes.filter { $0 != "application/strategic-merge-patch+json" }

    func patchContentTypes(for kind: GroupVersionKind) -> [String] {
        customDefinitionNames[kind] == nil ? Self.patchContentTypes : Self.customPatchContentTypes
    }
    static let statusDefinition = "io.k8s.apimachinery.pkg.apis.meta.v1.Status"
    static let deleteOptionsDefinition = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"
    static let patchDefinition = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
    static let resourceListDefinition = "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList"

    func paths(for groupVersion: GroupVersion, resources: [OpenAPIResource]) -> [APIPath] {
        let prefix = groupVersion.resourcePathPrefix
        var result = [
            APIPath(
                path: prefix + "/", parameters: [],
                operations: [
                    APIOperation(
                        method: "get", action: "", operationID: "get\(groupVersion.operationIDPrefix)APIResources",
                        summary: "Get the resources of this group version.", tag: groupVersion.tag, kind: nil,
                        parameters: [], body: nil,
                        responses: [("200", Self.resourceListDefinition), ("401", nil)])
                ])
        ]
        for resource in resources.sorted(by: { $0.resource < $1.resource }) {
            result += paths(for: resource)
        }
        return result.filter { !$0.operations.isEmpty }.sorted { $0.path < $1.path }
    }

    func paths(for resource: OpenAPIResource) -> [APIPath] {
        let kind = resource.groupVersionKind
        guard let definition = definitionName(for: kind) else { return [] }
        let listKind = GroupVersionKind(group: kind.group, version: kind.version, kind: kind.kind + "List")
        let listDefinition = definitionName(for: listKind)
        let verbs = Set(resource.verbs)
        let make = OperationFactory(resource: resource)
        let base = resource.groupVersion.resourcePathPrefix
        let collection = base + (resource.namespaced ? "/namespaces/{namespace}/" : "/") + resource.resource
        let scopeParameters: [APIParameter] = resource.namespaced ? [.namespace, .pretty] : [.pretty]
        let itemParameters: [APIParameter] = [.name] + scopeParameters
        let status = Self.statusDefinition

        var collectionOps: [APIOperation] = []
        if verbs.contains("list"), let listDefinition {
            collectionOps.append(
                make("get", "list", "list", parameters: APIParameter.list, responses: [listDefinition]))
        }
        if verbs.contains("create") {
            collectionOps.append(
                make(
                    "post", "post", "create", parameters: APIParameter.write, body: .definition(definition),
                    responses: [definition, definition, definition]))
        }
        if verbs.contains("deletecollection") {
            collectionOps.append(
                make(
                    "delete", "deletecollection", "deleteCollection",
                    parameters: APIParameter.delete + APIParameter.list,
                    body: .definition(Self.deleteOptionsDefinition), responses: [status]))
        }
        var itemOps: [APIOperation] = []
        if verbs.contains("get") {
            itemOps.append(make("get", "get", "read", responses: [definition]))
        }
        if verbs.contains("update") {
            itemOps.append(
                make(
                    "put", "put", "replace", parameters: APIParameter.write, body: .definition(definition),
                    responses: [definition, definition]))
        }
        if verbs.contains("patch") {
            itemOps.append(
                make(
                    "patch", "patch", "patch", parameters: APIParameter.patch,
                    body: .patch(patchContentTypes(for: kind)),
                    responses: [definition, definition]))
        }
        if verbs.contains("delete") {
            itemOps.append(
                make(
                    "delete", "delete", "delete", parameters: APIParameter.delete,
                    body: .definition(Self.deleteOptionsDefinition), responses: [status, status]))
        }

        var result = [
            APIPath(path: collection, parameters: scopeParameters, operations: collectionOps),
            APIPath(path: collection + "/{name}", parameters: itemParameters, operations: itemOps),
        ]
        if resource.namespaced, verbs.contains("list"), let listDefinition {
            var list = make("get", "list", "list", parameters: APIParameter.list, responses: [listDefinition])
            list.operationID = "list\(resource.groupVersion.operationIDPrefix)\(kind.kind)ForAllNamespaces"
            list.summary += " in all namespaces"
            result.append(APIPath(path: base + "/" + resource.resource, parameters: [.pretty], operations: [list]))
        }
        for subresource in resource.subresources.sorted() {
            if let operations = subresourceOperations(subresource, make: make) {
                result.append(
                    APIPath(
                        path: collection + "/{name}/" + subresource, parameters: itemParameters, operations: operations)
                )
            }
        }
        return result
    }

    /// Operations of the subresources that have a schema; log, exec, proxy and the like have none of ours.
    private func subresourceOperations(_ subresource: String, make: OperationFactory) -> [APIOperation]? {
        let suffix = subresource.prefix(1).uppercased() + subresource.dropFirst()
        let target: GroupVersionKind
        switch subresource {
        case "status": target = make.resource.groupVersionKind
        case "scale": target = GroupVersionKind(group: "autoscaling", version: "v1", kind: "Scale")
        case "binding": target = GroupVersionKind(group: "", version: "v1", kind: "Binding")
        case "eviction": target = GroupVersionKind(group: "policy", version: "v1", kind: "Eviction")
        default: return nil
        }
        guard let definition = definitionName(for: target) else { return nil }
        if subresource == "binding" || subresource == "eviction" {
            return [
                make(
                    "post", "post", "create", suffix: suffix, parameters: APIParameter.write,
                    body: .definition(definition),
                    responses: [definition, definition, definition], kind: target)
            ]
        }
        return [
            make("get", "get", "read", suffix: suffix, responses: [definition], kind: target),
            make(
                "put", "put", "replace", suffix: suffix, parameters: APIParameter.write, body: .definition(definition),
                responses: [definition, definition], kind: target),
            make(
                "patch", "patch", "patch", suffix: suffix, parameters: APIParameter.patch,
                body: .patch(patchContentTypes(for: make.resource.groupVersionKind)),
                responses: [definition, definition], kind: target),
        ]
    }
}

/// Makes one resource's operations with upstream-style operation IDs (`patchAppsV1NamespacedDeploymentScale`).
struct OperationFactory {
    let resource: OpenAPIResource

    /// `responses` are the bodies of 200, 201 and 202 in that order; 401 is added to every operation.
    func callAsFunction(
        _ method: String, _ action: String, _ verb: String, suffix: String = "", parameters: [APIParameter] = [],
        body: APIRequestBody? = nil, responses: [String], kind: GroupVersionKind? = nil
    ) -> APIOperation {
        let name = resource.kind
        let scope = resource.namespaced ? "Namespaced" : ""
        let codes = ["200", "201", "202"]
        var described: [(code: String, definition: String?)] = zip(codes, responses).map { ($0, $1) }
        described.append(("401", nil))
        return APIOperation(
            method: method, action: action,
            operationID: "\(verb)\(resource.groupVersion.operationIDPrefix)\(scope)\(name)\(suffix)",
            summary: "\(verb) \(name)\(suffix.isEmpty ? "" : " " + suffix.lowercased())",
            tag: resource.groupVersion.tag, kind: kind ?? resource.groupVersionKind, parameters: parameters, body: body,
            responses: described)
    }
}
