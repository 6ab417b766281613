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

    /// get, list and watch: they run no admission and write nothing.
    var isRead: Bool { verb == "get" || verb == "list" || verb == "watch" }

    /// Nil when the path is not a resource path (discovery, health, OpenAPI and so on).
    init?(method: HTTPMethod, path: String, query: [String: String]) {
        // Split on UTF-8 bytes: the generic split walks Characters, 1.5% of a GET.
        var parts = path.utf8.split(separator: UInt8(ascii: "/")).map { String(decoding: $0, as: UTF8.self) }[...]
        guard let root = parts.first else { return nil }
        switch root {
        case "api":
            guard parts.count >= 3 else { return nil }
            group = ""
            version = parts[1]
            parts = parts.dropFirst(2)
        case "apis":
            guard parts.count >= 4 else { return nil }
            group = parts[1]
            version = parts[2]
            parts = parts.dropFirst(3)
        default:
            return nil
        }
        var watchPrefix = false
        if parts.first == "watch" {
            watchPrefix = true
            parts = parts.dropFirst()
        }
        // /namespaces/{ns}/{resource}... is namespaced; /namespaces and /namespaces/{name}[/sub] are the namespace kind.
        if parts.count >= 3, parts[parts.startIndex] == "namespaces" {
            let third = parts[parts.startIndex + 2]
            if third != "status", third != "finalize" {
                namespace = parts[parts.startIndex + 1]
                parts = parts.dropFirst(2)
            }
        }
        guard !parts.isEmpty, parts.count <= 3 else { return nil }
        let start = parts.startIndex
        resource = parts[start]
        name = parts.count > 1 ? parts[start + 1] : nil
        subresource = parts.count > 2 ? parts[start + 2] : nil
        let watch = method == .GET && !watchPrefix ? query["watch"] : nil
        let isWatch = watchPrefix || watch == "true" || watch == "1"
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
