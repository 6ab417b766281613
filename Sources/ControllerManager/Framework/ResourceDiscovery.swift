import APIMachinery
import Client

/// One resource the server serves, with the verbs discovery lists for it.
struct DiscoveredResource: Sendable, Hashable {
    var descriptor: ResourceDescriptor
    var verbs: Set<String>

    /// Whether every one of `verbs` is supported, as client-go's `SupportsAllVerbs`.
    func supports(_ required: [String]) -> Bool { required.allSatisfy(verbs.contains) }
}

/// What discovery of `/api` and `/apis` found: every group version's resources (subresources left out), which
/// version each group prefers, and the group versions whose resource lists could not be read.
struct DiscoveryResult: Sendable {
    /// Every served group version's resources, for mapping an owner reference's apiVersion and kind.
    var all: [DiscoveredResource] = []
    /// The resources of each group's preferred version only, as client-go's `ServerPreferredResources`.
    var preferred: [DiscoveredResource] = []
    /// Group versions whose resource list failed, with the error, as client-go's `ErrGroupDiscoveryFailed`.
    var failedGroups: [String: String] = [:]
    /// Group versions whose name did not parse, as client-go's `GroupVersionResources` reports them.
    var unparsedGroupVersions: [String] = []

    /// client-go's `ErrGroupDiscoveryFailed` text, nil when every group answered.
    var failureMessage: String? {
        guard !failedGroups.isEmpty else { return nil }
        let groups = failedGroups.keys.sorted().map { "\($0): \(failedGroups[$0] ?? "")" }
        return "unable to retrieve the complete list of server APIs: \(groups.joined(separator: ", "))"
    }

    /// The resource serving `kind` in `apiVersion`, as a REST mapper answers it.
    func resource(apiVersion: String, kind: String) -> ResourceDescriptor? {
        all.first { $0.descriptor.apiVersion == apiVersion && $0.descriptor.kind == kind }?.descriptor
    }
}

/// Reads the server's discovery documents, as client-go's discovery client.
enum ResourceDiscovery {
    /// Discovers every group version; a group version whose list fails is recorded, not thrown, as upstream
    /// carries on with the groups that answered. Throws only when `/api` or `/apis` themselves fail.
    static func discover(client: RESTClient) async throws -> DiscoveryResult {
        var result = DiscoveryResult()
        var groupVersions: [(groupVersion: String, preferred: Bool)] = []
        let core = try await client.getJSON(path: "/api")
        for (index, version) in (core["versions"]?.arrayValue ?? []).compactMap(\.stringValue).enumerated() {
            groupVersions.append((version, index == 0))
        }
        let groups = try await client.getJSON(path: "/apis")
        for group in groups["groups"]?.arrayValue ?? [] {
            let preferred = group[path: "preferredVersion", "groupVersion"]?.stringValue
            let versions = (group["versions"]?.arrayValue ?? []).compactMap { $0["groupVersion"]?.stringValue }
            for version in versions {
                groupVersions.append((version, version == (preferred ?? versions.first)))
            }
        }
        for (groupVersion, preferred) in groupVersions {
            guard let parsed = parse(groupVersion) else {
                result.unparsedGroupVersions.append(groupVersion)
                continue
            }
            let path = parsed.group.isEmpty ? "/api/\(parsed.version)" : "/apis/\(groupVersion)"
            let list: JSON
            do {
                list = try await client.getJSON(path: path)
            } catch {
                result.failedGroups[groupVersion] = "\(error)"
                continue
            }
            for entry in list["resources"]?.arrayValue ?? [] {
                guard let name = entry["name"]?.stringValue, !name.contains("/"),
                    let kind = entry["kind"]?.stringValue
                else { continue }
                let resource = DiscoveredResource(
                    descriptor: ResourceDescriptor(
                        group: parsed.group, version: parsed.version, kind: kind, resource: name,
                        namespaced: entry["namespaced"]?.boolValue ?? false),
                    verbs: Set((entry["verbs"]?.arrayValue ?? []).compactMap(\.stringValue)))
                result.all.append(resource)
                if preferred { result.preferred.append(resource) }
            }
        }
        return result
    }

    /// `v1` or `group/version`, as `schema.ParseGroupVersion` reads them; nil for anything else.
    static func parse(_ apiVersion: String) -> (group: String, version: String)? {
        let parts = apiVersion.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1 where !apiVersion.isEmpty: return ("", apiVersion)
        case 2 where !parts[0].isEmpty && !parts[1].isEmpty: return (String(parts[0]), String(parts[1]))
        default: return nil
        }
    }
}
