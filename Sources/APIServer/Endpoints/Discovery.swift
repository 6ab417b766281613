import APIMachinery

/// The discovery documents (legacy and aggregated v2), built once from the resource list.
struct Discovery: Sendable {
    static let aggregatedContentType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

    let coreVersions: [UInt8]
    let groupList: [UInt8]
    let groups: [String: [UInt8]]
    let resourceLists: [String: [UInt8]]
    let aggregatedCore: [UInt8]
    let aggregatedGroups: [UInt8]

    /// A subresource's kind and verbs, as upstream registers them.
    static func subresource(_ name: String, of definition: ResourceDefinition) -> (
        kind: GroupVersionKind, verbs: [String]
    ) {
        switch name {
        case "scale":
            return (GroupVersionKind(group: "autoscaling", version: "v1", kind: "Scale"), ["get", "patch", "update"])
        case "binding": return (GroupVersionKind(group: "", version: "v1", kind: "Binding"), ["create"])
        case "eviction": return (GroupVersionKind(group: "policy", version: "v1", kind: "Eviction"), ["create"])
        case "finalize": return (definition.groupVersionKind, ["update"])
        case "token":
            return (GroupVersionKind(group: "authentication.k8s.io", version: "v1", kind: "TokenRequest"), ["create"])
        default: return (definition.groupVersionKind, ["get", "patch", "update"])
        }
    }

    init(resources stored: [ResourceDefinition], virtualResources: [VirtualResource] = Catalog.virtualResources) {
        let resources = stored + virtualResources.map(\.definition)
        let computedVerbs = Dictionary(
            virtualResources.map { ($0.definition.groupResource, $0.verbs) }, uniquingKeysWith: { first, _ in first })
        func verbs(_ definition: ResourceDefinition) -> [JSON] {
            (computedVerbs[definition.groupResource] ?? ResourceDefinition.allVerbs).map(JSON.string)
        }
        var order: [GroupVersion] = []
        var byGroupVersion: [GroupVersion: [ResourceDefinition]] = [:]
        for definition in resources {
            if byGroupVersion[definition.groupVersion] == nil { order.append(definition.groupVersion) }
            byGroupVersion[definition.groupVersion, default: []].append(definition)
        }
        var resourceLists: [String: [UInt8]] = [:]
        for groupVersion in order {
            var entries: [JSON] = []
            for definition in byGroupVersion[groupVersion] ?? [] {
                var entry: JSONObject = [
                    "name": .string(definition.resource), "singularName": .string(definition.singular),
                    "namespaced": .bool(definition.namespaced), "kind": .string(definition.kind),
                    "verbs": .array(verbs(definition)),
                ]
                if !definition.shortNames.isEmpty {
                    entry["shortNames"] = .array(definition.shortNames.map(JSON.string))
                }
                if !definition.categories.isEmpty {
                    entry["categories"] = .array(definition.categories.map(JSON.string))
                }
                entries.append(.object(entry))
                for name in definition.subresources {
                    let (kind, verbs) = Self.subresource(name, of: definition)
                    var sub: JSONObject = [
                        "name": .string("\(definition.resource)/\(name)"), "singularName": "",
                        "namespaced": .bool(definition.namespaced), "kind": .string(kind.kind),
                        "verbs": .array(verbs.map(JSON.string)),
                    ]
                    if kind.group != definition.group || kind.version != definition.version {
                        sub["group"] = .string(kind.group)
                        sub["version"] = .string(kind.version)
                    }
                    entries.append(.object(sub))
                }
            }
            let list: JSON = [
                "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(groupVersion.apiVersion),
                "resources": .array(entries),
            ]
            resourceLists[groupVersion.apiVersion] = list.encoded()
        }
        self.resourceLists = resourceLists

        coreVersions = JSON.object([
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": ""]],
        ]).encoded()
        var groupEntries: [JSON] = []
        var groups: [String: [UInt8]] = [:]
        var groupNames: [String] = []
        for groupVersion in order where !groupVersion.group.isEmpty && !groupNames.contains(groupVersion.group) {
            groupNames.append(groupVersion.group)
        }
        for name in groupNames {
            let versions = order.filter { $0.group == name }.map { version -> JSON in
                ["groupVersion": .string(version.apiVersion), "version": .string(version.version)]
            }
            let group: JSON = ["name": .string(name), "versions": .array(versions), "preferredVersion": versions[0]]
            groupEntries.append(group)
            var document = group
            document["kind"] = "APIGroup"
            document["apiVersion"] = "v1"
            groups[name] = document.encoded()
        }
        self.groups = groups
        groupList = JSON.object(["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groupEntries)]).encoded()

        func aggregated(_ groupName: String) -> JSON {
            let versions = order.filter { $0.group == groupName }.map { groupVersion -> JSON in
                let resources = (byGroupVersion[groupVersion] ?? []).map { definition -> JSON in
                    var entry: JSONObject = [
                        "resource": .string(definition.resource),
                        "responseKind": [
                            "group": .string(definition.group), "version": .string(definition.version),
                            "kind": .string(definition.kind),
                        ],
                        "scope": .string(definition.namespaced ? "Namespaced" : "Cluster"),
                        "singularResource": .string(definition.singular),
                        "verbs": .array(verbs(definition)),
                    ]
                    if !definition.shortNames.isEmpty {
                        entry["shortNames"] = .array(definition.shortNames.map(JSON.string))
                    }
                    if !definition.categories.isEmpty {
                        entry["categories"] = .array(definition.categories.map(JSON.string))
                    }
                    let subresources = definition.subresources.map { name -> JSON in
                        let (kind, verbs) = Self.subresource(name, of: definition)
                        return [
                            "subresource": .string(name),
                            "responseKind": [
                                "group": .string(kind.group), "version": .string(kind.version),
                                "kind": .string(kind.kind),
                            ],
                            "verbs": .array(verbs.map(JSON.string)),
                        ]
                    }
                    if !subresources.isEmpty { entry["subresources"] = .array(subresources) }
                    return .object(entry)
                }
                return [
                    "version": .string(groupVersion.version), "resources": .array(resources), "freshness": "Current",
                ]
            }
            var metadata = JSONObject()
            if !groupName.isEmpty { metadata["name"] = .string(groupName) }
            return ["metadata": .object(metadata), "versions": .array(versions)]
        }
        func list(_ items: [JSON]) -> [UInt8] {
            JSON.object([
                "kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
                "metadata": .object(JSONObject()), "items": .array(items),
            ]).encoded()
        }
        aggregatedCore = list([aggregated("")])
        aggregatedGroups = list(groupNames.map(aggregated))
    }

    /// Whether the client asked for aggregated discovery (kubectl 1.26+ does, with a fallback).
    static func wantsAggregated(_ request: HTTPRequest) -> Bool {
        guard let accept = request.header("accept") else { return false }
        // One media range of the Accept list must ask for exactly v2 (not v2beta1) of the discovery list.
        return accept.split(separator: ",").contains { range in
            let parameters = Set(range.split(separator: ";").map { String($0).trimmingSpaces })
            return parameters.isSuperset(of: ["g=apidiscovery.k8s.io", "v=v2", "as=APIGroupDiscoveryList"])
        }
    }
}
