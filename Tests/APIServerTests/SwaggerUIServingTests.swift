import APIMachinery
import Foundation
import NIOHTTP1
import Storage
import XCTest

@testable import APIServer

/// `--enable-swagger-ui` on in-process servers under RBAC: without the flag the pages' paths are unknown like any
/// other; with it their files go to authenticated users only, with their types and the security and cache headers.
final class SwaggerUIServingTests: XCTestCase {
    let admin = UserInfo(name: "admin", groups: ["system:masters", "system:authenticated"])
    /// Authenticated, with no binding of its own.
    let jane = UserInfo(name: "jane", groups: ["system:authenticated"])

    static let files: [(path: String, type: String)] = [
        ("/swagger-ui/", "text/html; charset=utf-8"), ("/swagger-ui/explorer.js", "text/javascript; charset=utf-8"),
        ("/swagger-ui/explorer.css", "text/css; charset=utf-8"), ("/ui/", "text/html; charset=utf-8"),
        ("/ui/overview.js", "text/javascript; charset=utf-8"), ("/ui/overview.css", "text/css; charset=utf-8"),
    ]

    /// One server without the flag and one with it, shared by the class's tests.
    static let servers = Task { () async throws -> (off: APIServer, on: APIServer) in
        func make(enabled: Bool) async throws -> APIServer {
            var configuration = APIServer.Configuration()
            configuration.authorizer = AuthorizerConfiguration(modes: [.node, .rbac])
            configuration.enableSwaggerUI = enabled
            let server = APIServer(storage: MemoryStore(), configuration: configuration)
            try await server.bootstrap(advertiseAddress: "127.0.0.98", securePort: 6443)
            return server
        }
        return (try await make(enabled: false), try await make(enabled: true))
    }

    func send(
        _ server: APIServer, _ uri: String, method: HTTPMethod = .GET, as user: UserInfo,
        headers: HTTPHeaders = [:], body: JSON? = nil
    ) async -> (status: UInt, headers: HTTPHeaders, body: [UInt8]) {
        var headers = headers
        if body != nil { headers.add(name: "Content-Type", value: "application/json") }
        let response = await server.respond(
            to: HTTPRequest(
                method: method, uri: uri, headers: headers, body: body?.encoded() ?? [], user: user,
                remoteAddress: "127.0.0.98"))
        guard case .bytes(let bytes) = response.body else { return (response.status.code, response.headers, []) }
        return (response.status.code, response.headers, bytes)
    }

    func testWithoutTheFlagThePagesAreNotFoundLikeAnyUnknownPath() async throws {
        let off = try await Self.servers.value.off
        let unknown = await send(off, "/no-such-page/", as: admin)
        XCTAssertEqual(unknown.status, 404)
        for path in ["/swagger-ui", "/swagger-ui/", "/swagger-ui/explorer.js", "/ui", "/ui/", "/ui/overview.css"] {
            let answer = await send(off, path, as: admin)
            XCTAssertEqual(answer.status, 404, path)
            XCTAssertEqual(answer.body, unknown.body, path)
            XCTAssertEqual(answer.headers["Content-Type"], unknown.headers["Content-Type"], path)
        }
        // Nor does anyone get the pages' paths by default: jane is refused as for any unknown path.
        let refused = await send(off, "/ui/", as: jane)
        XCTAssertEqual(refused.status, 403)
    }

    func testAnonymousRequestsGetTheRefusalOpenAPIGives() async throws {
        let on = try await Self.servers.value.on
        let openAPI = await send(on, "/openapi/v3", as: .anonymous)
        XCTAssertEqual(openAPI.status, 403)
        for path in ["/swagger-ui/", "/swagger-ui", "/ui/", "/ui/overview.js"] {
            let answer = await send(on, path, as: .anonymous)
            XCTAssertEqual(answer.status, 403, path)
            let status = try JSON.parse(answer.body)
            XCTAssertEqual(
                status["message"]?.stringValue, "forbidden: User \"system:anonymous\" cannot get path \"\(path)\"")
            let expected = String(decoding: openAPI.body, as: UTF8.self).replacingOccurrences(
                of: "\"/openapi/v3\\\"", with: "\"\(path)\\\"")
            XCTAssertEqual(String(decoding: answer.body, as: UTF8.self), expected, path)
        }
    }

    func testAuthenticatedUsersGetEachFileWithItsTypeAndSecurityHeaders() async throws {
        let on = try await Self.servers.value.on
        for user in [admin, jane] {
            for (path, type) in Self.files {
                let answer = await send(on, path, as: user)
                XCTAssertEqual(answer.status, 200, "\(user.name) \(path)")
                XCTAssertEqual(answer.headers["Content-Type"], [type], path)
                XCTAssertEqual(
                    answer.headers.first(name: "Content-Security-Policy"),
                    "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
                XCTAssertEqual(answer.headers.first(name: "X-Content-Type-Options"), "nosniff")
                XCTAssertEqual(answer.headers.first(name: "Cache-Control"), "no-cache, private")
                XCTAssertEqual(answer.headers.first(name: "ETag"), WebPages.assets[path]?.etag)
                XCTAssertGreaterThan(answer.body.count, 500, path)
            }
        }
        let explorer = String(decoding: await send(on, "/swagger-ui/", as: jane).body, as: UTF8.self)
        XCTAssertTrue(explorer.contains("<script src=\"explorer.js\" defer></script>"))
        XCTAssertTrue(explorer.contains("<link rel=\"stylesheet\" href=\"explorer.css\">"))
        // No inline script or style: the policy would block them.
        for page in ["/swagger-ui/", "/ui/"] {
            let html = String(decoding: await send(on, page, as: jane).body, as: UTF8.self)
            XCTAssertNil(html.range(of: #"<script>|<style|style=|onclick="#, options: .regularExpression), page)
        }
    }

    func testAPageWithoutItsSlashRedirectsRelativelyKeepingTheQuery() async throws {
        let on = try await Self.servers.value.on
        let explorer = await send(on, "/swagger-ui", as: jane)
        XCTAssertEqual(explorer.status, 301)
        XCTAssertEqual(explorer.headers.first(name: "Location"), "swagger-ui/")
        let overview = await send(on, "/ui?namespace=shop", as: admin)
        XCTAssertEqual(overview.status, 301)
        XCTAssertEqual(overview.headers.first(name: "Location"), "ui/?namespace=shop")
    }

    func testARevalidationWithTheCurrentETagIsNotModified() async throws {
        let on = try await Self.servers.value.on
        let first = await send(on, "/ui/overview.js", as: jane)
        let etag = try XCTUnwrap(first.headers.first(name: "ETag"))
        let again = await send(on, "/ui/overview.js", as: jane, headers: ["If-None-Match": etag])
        XCTAssertEqual(again.status, 304)
        XCTAssertEqual(again.body, [])
        XCTAssertEqual(again.headers.first(name: "ETag"), etag)
        let stale = await send(on, "/ui/overview.js", as: jane, headers: ["If-None-Match": "\"old\""])
        XCTAssertEqual(stale.status, 200)
        XCTAssertEqual(stale.body, first.body)
        // Each file has its own validator.
        XCTAssertEqual(Set(WebPages.assets.values.map(\.etag)).count, WebPages.assets.count)
    }

    func testOnlyReadsOfKnownFilesAreServed() async throws {
        let on = try await Self.servers.value.on
        let posted = await send(on, "/ui/", method: .POST, as: admin, body: [:])
        XCTAssertEqual(posted.status, 405)
        let missing = await send(on, "/ui/missing.js", as: jane)
        XCTAssertEqual(missing.status, 404)
        let dotted = await send(on, "/swagger-ui/../ui/", as: jane)
        XCTAssertEqual(dotted.status, 404)
        // The pages open only their own paths to authenticated users, nothing beside them.
        let beside = await send(on, "/uix", as: jane)
        XCTAssertEqual(beside.status, 403)
        let metrics = await send(on, "/metrics", as: jane)
        XCTAssertEqual(metrics.status, 403)
    }

    func testSelfSubjectRulesReviewListsThePagesForAuthenticatedUsers() async throws {
        let on = try await Self.servers.value.on
        let review: JSON = [
            "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview", "spec": ["namespace": "default"],
        ]
        let answer = await send(
            on, "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews", method: .POST, as: jane, body: review)
        XCTAssertEqual(answer.status, 201)
        let status = try JSON.parse(answer.body)["status"]
        let rules = status?["nonResourceRules"]?.arrayValue ?? []
        XCTAssertTrue(
            rules.contains { rule in
                rule["nonResourceURLs"] == ["/swagger-ui", "/swagger-ui/*", "/ui", "/ui/*"] && rule["verbs"] == ["get"]
            }, "\(rules)")
    }
}
