import APIMachinery

extension Discovery {
    /// This discovery with `remote` group versions (each with the APIResourceList its server reported) added,
    /// and the groups of `/apis` ordered as upstream's aggregator orders them: by the highest
    /// `groupPriorityMinimum` of the group's APIServices, then by name; versions by `versionPriority`, then in
    /// Kubernetes version order (GA before beta before alpha, higher first). The first version is preferred.
    func merging(
        remote: [(GroupVersion, JSON)], priority: (GroupVersion) -> Aggregator.Priority
    ) -> Discovery {
        let remoteResources = Dictionary(remote, uniquingKeysWith: { first, _ in first })
        var versionsByGroup: [String: [String]] = [:]
        let local = (try? JSON.parse(groupList))?["groups"]?.arrayValue ?? []
        for group in local {
            guard let name = group["name"]?.stringValue else { continue }
            versionsByGroup[name] = (group["versions"]?.arrayValue ?? []).compactMap { $0["version"]?.stringValue }
        }
        for groupVersion in remoteResources.keys where groupVersion.group != "" {
            var versions = versionsByGroup[groupVersion.group] ?? []
            if !versions.contains(groupVersion.version) { versions.append(groupVersion.version) }
            versionsByGroup[groupVersion.group] = versions
        }
        func groupPriority(_ group: String) -> Int {
            (versionsByGroup[group] ?? []).map { priority(GroupVersion(group: group, version: $0)).group }.max() ?? 0
        }
        let groupOrder = versionsByGroup.keys.map { ($0, groupPriority($0)) }.sorted {
            $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0
        }.map(\.0)
        func orderedVersions(_ group: String) -> [String] {
            (versionsByGroup[group] ?? []).sorted { left, right in
                let a = priority(GroupVersion(group: group, version: left)).version
                let b = priority(GroupVersion(group: group, version: right)).version
                return a != b ? a > b : KubeVersionOrder.precedes(left, right)
            }
        }

        var groupEntries: [JSON] = []
        var groupDocuments: [String: [UInt8]] = [:]
        for name in groupOrder {
            let versions = orderedVersions(name).map { version -> JSON in
                ["groupVersion": .string(name + "/" + version), "version": .string(version)]
            }
            guard let preferred = versions.first else { continue }
            let group: JSON = ["name": .string(name), "versions": .array(versions), "preferredVersion": preferred]
            groupEntries.append(group)
            var document = group
            document["kind"] = "APIGroup"
            document["apiVersion"] = "v1"
            groupDocuments[name] = document.encoded()
        }
        let mergedGroupList = JSON.object([
            "kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groupEntries),
        ]).encoded()

        var aggregatedVersions: [String: [String: JSON]] = [:]
        for item in (try? JSON.parse(aggregatedGroups))?["items"]?.arrayValue ?? [] {
            guard let name = item["metadata"]?["name"]?.stringValue else { continue }
            for version in item["versions"]?.arrayValue ?? [] {
                if let key = version["version"]?.stringValue { aggregatedVersions[name, default: [:]][key] = version }
            }
        }
        for (groupVersion, list) in remoteResources where groupVersion.group != "" {
            aggregatedVersions[groupVersion.group, default: [:]][groupVersion.version] = Self.aggregatedVersion(
                groupVersion, list: list)
        }
        let items = groupOrder.compactMap { name -> JSON? in
            let versions = orderedVersions(name).compactMap { aggregatedVersions[name]?[$0] }
            guard !versions.isEmpty else { return nil }
            return ["metadata": ["name": .string(name)], "versions": .array(versions)]
        }
        let mergedAggregated = JSON.object([
            "kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
            "metadata": .object(JSONObject()), "items": .array(items),
        ]).encoded()
        return Discovery(
            coreVersions: coreVersions, groupList: mergedGroupList, groups: groupDocuments,
            resourceLists: resourceLists, aggregatedCore: aggregatedCore, aggregatedGroups: mergedAggregated)
    }

    /// Every document as given.
    init(
        coreVersions: [UInt8], groupList: [UInt8], groups: [String: [UInt8]], resourceLists: [String: [UInt8]],
        aggregatedCore: [UInt8], aggregatedGroups: [UInt8]
    ) {
        self.coreVersions = coreVersions
        self.groupList = groupList
        self.groups = groups
        self.resourceLists = resourceLists
        self.aggregatedCore = aggregatedCore
        self.aggregatedGroups = aggregatedGroups
    }

    /// An APIResourceList (legacy discovery) as one version of aggregated discovery, as upstream converts the
    /// answer of a backend that does not serve aggregated discovery itself.
    static func aggregatedVersion(_ groupVersion: GroupVersion, list: JSON) -> JSON {
        let entries = list["resources"]?.arrayValue ?? []
        func responseKind(_ entry: JSON) -> JSON {
            [
                "group": .string(entry["group"]?.stringValue ?? groupVersion.group),
                "version": .string(entry["version"]?.stringValue ?? groupVersion.version),
                "kind": .string(entry["kind"]?.stringValue ?? ""),
            ]
        }
        var resources: [JSON] = []
        for entry in entries {
            guard let name = entry["name"]?.stringValue, !name.contains("/") else { continue }
            var resource: JSONObject = [
                "resource": .string(name), "responseKind": responseKind(entry),
                "scope": .string(entry["namespaced"]?.boolValue == true ? "Namespaced" : "Cluster"),
                "singularResource": .string(entry["singularName"]?.stringValue ?? ""),
                "verbs": entry["verbs"] ?? .array([]),
            ]
            for key in ["shortNames", "categories"] {
                if let values = entry[key]?.arrayValue, !values.isEmpty { resource[key] = .array(values) }
            }
            let subresources = entries.compactMap { sub -> JSON? in
                guard let subName = sub["name"]?.stringValue, subName.hasPrefix(name + "/") else { return nil }
                return [
                    "subresource": .string(String(subName.dropFirst(name.count + 1))),
                    "responseKind": responseKind(sub), "verbs": sub["verbs"] ?? .array([]),
                ]
            }
            if !subresources.isEmpty { resource["subresources"] = .array(subresources) }
            resources.append(.object(resource))
        }
        return ["version": .string(groupVersion.version), "resources": .array(resources), "freshness": "Current"]
    }
}

/// apimachinery's `CompareKubeAwareVersionStrings`: versions shaped `v<major>[alpha|beta<minor>]` sort GA
/// first, then beta, then alpha, higher numbers first; any other string sorts after them, alphabetically.
enum KubeVersionOrder {
    static func precedes(_ left: String, _ right: String) -> Bool {
        switch (parse(left), parse(right)) {
        case (let a?, let b?):
            if a.stability != b.stability { return a.stability > b.stability }
            if a.major != b.major { return a.major > b.major }
            return a.minor > b.minor
        case (.some, nil): return true
        case (nil, .some): return false
        case (nil, nil): return left < right
        }
    }

    private static func parse(_ version: String) -> (major: Int, stability: Int, minor: Int)? {
        guard version.hasPrefix("v") else { return nil }
        let rest = version.dropFirst()
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        guard let major = Int(digits), major > 0 else { return nil }
        let tail = rest.dropFirst(digits.count)
        if tail.isEmpty { return (major, 2, 0) }
        for (word, stability) in [("beta", 1), ("alpha", 0)] where tail.hasPrefix(word) {
            guard let minor = Int(tail.dropFirst(word.count)), minor > 0 else { return nil }
            return (major, stability, minor)
        }
        return nil
    }
}
