import APIMachinery
import NIOHTTP1

extension APIServer {
    /// The version this server reports (`BuildInfo`); kubectl compares it for skew warnings.
    static var version: JSON { BuildInfo.versionJSON }

    /// Discovery, health, version, metrics, OpenAPI and the web pages; nil when the path is none of them.
    func handleNonResource(_ request: HTTPRequest) async throws -> HTTPResponse? {
        if let webPages, let response = try webPages.respond(to: request) { return response }
        guard request.method == .GET || request.method == .HEAD else {
            if ["/api", "/apis", "/version", "/healthz", "/livez", "/readyz", "/metrics"].contains(request.path) {
                throw APIError.methodNotAllowed()
            }
            return nil
        }
        let path =
            request.path.count > 1 && request.path.hasSuffix("/") ? String(request.path.dropLast()) : request.path
        switch path {
        case "/version": return .json(Self.version)
        case "/healthz", "/livez", "/readyz":
            return await health.respond(endpoint: String(path.dropFirst()), verbose: request.query["verbose"] != nil)
        case "/metrics":
            return HTTPResponse(
                status: .ok, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"],
                body: .bytes(metrics.exposition()))
        case "/api":
            if Discovery.wantsAggregated(request) {
                return .json(discovery.aggregatedCore, contentType: Discovery.aggregatedContentType)
            }
            return .json(discovery.coreVersions)
        case "/apis":
            if Discovery.wantsAggregated(request) {
                return .json(discovery.aggregatedGroups, contentType: Discovery.aggregatedContentType)
            }
            return .json(discovery.groupList)
        default:
            break
        }
        let parts = path.split(separator: "/").map(String.init)
        if parts.count == 2, parts[0] == "api", let list = discovery.resourceLists[parts[1]] { return .json(list) }
        if parts.count == 2, parts[0] == "apis", let group = discovery.groups[parts[1]] { return .json(group) }
        if parts.count == 3, parts[0] == "apis", let list = discovery.resourceLists["\(parts[1])/\(parts[2])"] {
            return .json(list)
        }
        if parts.first == "openapi" { return try openAPI(request, parts: parts) }
        return nil
    }
}
