import APIMachinery
import Foundation
import NIOCore
import NIOHTTP1

extension APIServer {
    /// Requests under `/apis/<group>/<version>` of a service-backed APIService, proxied to its server as
    /// upstream's aggregator proxies them (the request was authenticated, audited and authorized here);
    /// nil for every other path, which this server serves itself.
    func proxyToAggregatedServer(_ request: HTTPRequest, info: RequestInfo?) async -> HTTPResponse? {
        let groupVersion: GroupVersion
        if let info {
            // A resource request: the route already parsed its group version (the core group is never remote).
            guard !info.group.isEmpty else { return nil }
            groupVersion = GroupVersion(group: info.group, version: info.version)
        } else {
            // Discovery of a group version (`/apis/<group>/<version>`) has no RequestInfo.
            let parts = request.path.split(separator: "/", omittingEmptySubsequences: true)
            guard parts.count >= 3, parts[0] == "apis" else { return nil }
            groupVersion = GroupVersion(group: String(parts[1]), version: String(parts[2]))
        }
        guard let remote = aggregator.remote(groupVersion) else { return nil }
        guard let backend = remote.backend, let transport = aggregator.transport, let user = request.user else {
            return Self.proxyError("service unavailable", status: .serviceUnavailable)
        }
        let head = HTTPRequestHead(
            version: .http1_1, method: request.method, uri: request.uri,
            headers: Self.forwardedHeaders(
                request.headers, user: user, host: "\(backend.host):\(backend.port)", bodyLength: request.body.count,
                clientAddress: request.remoteAddress))
        let response: OutboundResponse
        do {
            response = try await transport.send(head, body: request.body, to: backend, timeout: .seconds(60))
        } catch {
            Self.logger.info("proxying to \(backend.origin) for \(remote.apiService.name): \(error)")
            return Self.proxyError("service unavailable", status: .serviceUnavailable)
        }
        var headers = HTTPHeaders()
        for (name, value) in response.headers where !Self.isHopByHop(name) && name.lowercased() != "content-length" {
            headers.add(name: name, value: value)
        }
        if info?.verb == "watch" {
            // Chunks go on at the client's pace (a slow watcher slows the backend, nothing piles up here); the
            // client going away ends the stream and closes the backend's connection.
            return HTTPResponse(status: response.status, headers: headers, body: .stream(response.body.stream()))
        }
        var body: [UInt8] = []
        do {
            for try await chunk in response.body { body += chunk }
        } catch {
            return Self.proxyError("service unavailable", status: .serviceUnavailable)
        }
        return HTTPResponse(status: response.status, headers: headers, body: .bytes(body))
    }

    /// upstream's `proxyError`: Go's `http.Error`, a plain-text line.
    static func proxyError(_ message: String, status: HTTPResponseStatus) -> HTTPResponse {
        HTTPResponse(
            status: status,
            headers: ["Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"],
            body: .bytes(Array((message + "\n").utf8)))
    }

    /// The request's headers as the backend gets them: hop-by-hop headers, the client's credentials and
    /// impersonation (already acted on here) and any request-header identity the client sent dropped; the
    /// user this server authenticated added in upstream's `X-Remote-*` headers, and the client's address
    /// appended to `X-Forwarded-For` as upstream's proxy appends it.
    static func forwardedHeaders(
        _ headers: HTTPHeaders, user: UserInfo, host: String, bodyLength: Int, clientAddress: String
    ) -> HTTPHeaders {
        var forwarded = HTTPHeaders()
        for (name, value) in headers {
            let lower = name.lowercased()
            if isHopByHop(lower) || ["host", "authorization", "content-length", "x-forwarded-for"].contains(lower)
                || lower.hasPrefix("impersonate-") || lower.hasPrefix("x-remote-")
            {
                continue
            }
            forwarded.add(name: name, value: value)
        }
        forwarded.add(name: "Host", value: host)
        if !clientAddress.isEmpty {
            let prior = headers["X-Forwarded-For"].joined(separator: ", ")
            forwarded.add(name: "X-Forwarded-For", value: prior.isEmpty ? clientAddress : prior + ", " + clientAddress)
        }
        if bodyLength > 0 { forwarded.add(name: "Content-Length", value: String(bodyLength)) }
        forwarded.add(name: "X-Remote-User", value: user.name)
        for group in user.groups { forwarded.add(name: "X-Remote-Group", value: group) }
        for (key, values) in user.extra.sorted(by: { $0.key < $1.key }) {
            let escaped = key.addingPercentEncoding(withAllowedCharacters: pathSegmentAllowed) ?? key
            for value in values { forwarded.add(name: "X-Remote-Extra-" + escaped, value: value) }
        }
        return forwarded
    }

    /// Go's `url.PathEscape` keeps these; everything else in an extra's key is percent-encoded.
    private static let pathSegmentAllowed = CharacterSet(
        charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~$&+=:@")

    static func isHopByHop(_ name: String) -> Bool {
        [
            "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te",
            "trailer", "transfer-encoding", "upgrade",
        ].contains(name.lowercased())
    }
}
