import APIMachinery
import NIOHTTP1

/// What a resource URL names, parsed the way upstream's RequestInfoFactory does:
/// `/api/v1/namespaces/{ns}/{resource}/{name}/{subresource}` and the `/apis/{group}/{version}/…` forms.
struct RequestInfo: Sendable, Equatable {
    var group: String
    var version: String
    var namespace: String?
    var resource: String
    var name: String?
    var subresource: String?
    var verb: String

    /// Nil when the path is not a resource path (discovery, health, OpenAPI and so on).
    init?(method: HTTPMethod, path: String, query: [String: String]) {
        var parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let root = parts.first else { return nil }
        switch root {
        case "api":
            guard parts.count >= 3 else { return nil }
            group = ""
            version = parts[1]
            parts.removeFirst(2)
        case "apis":
            guard parts.count >= 4 else { return nil }
            group = parts[1]
            version = parts[2]
            parts.removeFirst(3)
        default:
            return nil
        }
        var watchPrefix = false
        if parts.first == "watch" {
            watchPrefix = true
            parts.removeFirst()
        }
        // /namespaces/{ns}/{resource}... is namespaced; /namespaces and /namespaces/{name}[/sub] are the namespace kind.
        if parts.count >= 3, parts[0] == "namespaces", !["status", "finalize"].contains(parts[2]) {
            namespace = parts[1]
            parts.removeFirst(2)
        }
        guard !parts.isEmpty, parts.count <= 3 else { return nil }
        resource = parts[0]
        name = parts.count > 1 ? parts[1] : nil
        subresource = parts.count > 2 ? parts[2] : nil
        let isWatch = watchPrefix || query["watch"] == "true" || query["watch"] == "1"
        switch method {
        case .GET: verb = name == nil ? (isWatch ? "watch" : "list") : (isWatch ? "watch" : "get")
        case .HEAD: verb = "get"
        case .POST: verb = "create"
        case .PUT: verb = "update"
        case .PATCH: verb = "patch"
        case .DELETE: verb = name == nil ? "deletecollection" : "delete"
        default: verb = method.rawValue.lowercased()
        }
    }
}
