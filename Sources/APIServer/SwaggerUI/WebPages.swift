import APIMachinery
import Authorization
import Crypto
import NIOHTTP1

/// `--enable-swagger-ui`: the API explorer at `/swagger-ui/` and the cluster overview at `/ui/`. Both are static
/// files in `Assets/`, embedded in the binary by SwiftPM (`.embedInCode`), so they need no network and no file at
/// run time. They hold no data of their own: every call they make is an ordinary API request carrying the
/// browser's credentials, so authorization decides what each user sees.
struct WebPages: Sendable {
    /// One embedded file and the validator a browser revalidates it with.
    struct Asset: Sendable {
        let bytes: [UInt8]
        let contentType: String
        let etag: String

        init(_ bytes: [UInt8], _ contentType: String) {
            self.bytes = bytes
            self.contentType = contentType
            let digest = SHA256.hash(data: bytes).prefix(12).map { byte in
                let hex = String(byte, radix: 16)
                return hex.count == 1 ? "0" + hex : hex
            }
            etag = "\"" + digest.joined() + "\""
        }
    }

    private static let html = "text/html; charset=utf-8"
    private static let javaScript = "text/javascript; charset=utf-8"
    private static let css = "text/css; charset=utf-8"

    /// Every file by its URL path; a page's HTML is its folder's path.
    static let assets: [String: Asset] = [
        "/swagger-ui/": Asset(PackageResources.explorer_html, html),
        "/swagger-ui/explorer.js": Asset(PackageResources.explorer_js, javaScript),
        "/swagger-ui/explorer.css": Asset(PackageResources.explorer_css, css),
        "/ui/": Asset(PackageResources.overview_html, html),
        "/ui/overview.js": Asset(PackageResources.overview_js, javaScript),
        "/ui/overview.css": Asset(PackageResources.overview_css, css),
    ]

    /// The pages' paths in RBAC's `nonResourceURLs` form, for `WebPageAuthorizer`.
    static let nonResourceURLs = ["/swagger-ui", "/swagger-ui/*", "/ui", "/ui/*"]

    /// No inline script or style and no other origin: a page can only load its own files and call its own API.
    static let contentSecurityPolicy = "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// A page's file, the redirect from a page's path without its slash, or nil for any other path.
    func respond(to request: HTTPRequest) throws(APIError) -> HTTPResponse? {
        let asset = Self.assets[request.path]
        let isFolder = Self.assets[request.path + "/"] != nil
        guard asset != nil || isFolder else { return nil }
        guard request.method == .GET || request.method == .HEAD else { throw .methodNotAllowed() }
        guard let asset else {
            // Relative, so the page also works under `kubectl proxy --api-prefix`; the query goes along.
            let name = request.path.split(separator: "/").last.map(String.init) ?? ""
            let query = request.uri.firstIndex(of: "?").map { String(request.uri[$0...]) } ?? ""
            return HTTPResponse(
                status: .movedPermanently, headers: ["Location": name + "/" + query], body: .bytes([]))
        }
        var headers: HTTPHeaders = [
            "Content-Type": asset.contentType,
            "Content-Security-Policy": Self.contentSecurityPolicy,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            // Revalidated on every load (the files change with the binary), and never kept by shared caches.
            "Cache-Control": "no-cache, private",
            "ETag": asset.etag,
        ]
        let wanted = request.header("if-none-match")?.split(separator: ",").map { String($0).trimmingSpaces }
        if let wanted, wanted.contains(asset.etag) || wanted.contains("*") {
            headers.remove(name: "Content-Type")
            return HTTPResponse(status: .notModified, headers: headers, body: .bytes([]))
        }
        return HTTPResponse(status: .ok, headers: headers, body: .bytes(asset.bytes))
    }
}

/// Lets every authenticated user read the pages' own files, as the bootstrap `system:discovery` role lets them read
/// `/openapi`. Anonymous users get no opinion here, so they meet the refusal `/openapi` gives them. It sits after
/// the `--authorization-mode` authorizers, where an RBAC rule for these paths would be.
struct WebPageAuthorizer: Authorizer {
    private static let rule = PolicyRule(verbs: ["get"], nonResourceURLs: WebPages.nonResourceURLs)

    func authorize(_ attributes: Attributes) -> Decision {
        guard !attributes.isResourceRequest, Self.isAuthenticated(attributes.user), Self.rule.allows(attributes) else {
            return .noOpinion(reason: "")
        }
        return .allow()
    }

    func rules(for user: UserInfo, namespace: String) -> RulesReview {
        Self.isAuthenticated(user) ? RulesReview(nonResourceRules: [Self.rule]) : RulesReview()
    }

    private static func isAuthenticated(_ user: UserInfo) -> Bool { user.groups.contains("system:authenticated") }
}
