import NIOCore
import NIOHTTP1
import NIOPosix

/// Where one call goes: the address to dial, the name the serving certificate must carry (nil: the dialled
/// IP address), and the URL as error messages show it.
struct WebhookTarget: Sendable, Equatable {
    var host: String
    var port: Int
    /// Path and query, `/validate?timeout=10s`.
    var path: String
    var serverName: String?
    var url: String
}

/// A call that did not produce an AdmissionReview to read: upstream's `ErrCallingWebhook` reason, which
/// `failurePolicy` decides about.
struct WebhookCallFailure: Error, Sendable, Equatable {
    var message: String
}

/// Posts AdmissionReviews through the shared `OutboundHTTPClient` (TLS verified against the webhook's
/// `caBundle` or the system roots, HTTP/2 or HTTP/1.1 by ALPN): send, then collect at most 3 MiB, all within
/// the webhook's timeout.
final class WebhookClient: Sendable {
    private let client: OutboundHTTPClient
    /// Webhook answers are small; a larger one is refused rather than buffered.
    static let responseLimit = 3 << 20

    /// `applicationProtocols` is what ALPN offers; tests narrow it to reach the HTTP/1.1 path.
    init(
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        applicationProtocols: [String] = ["h2", "http/1.1"]
    ) {
        client = OutboundHTTPClient(applicationProtocols: applicationProtocols, group: group)
    }

    /// The response's status and body, or a failure saying why there is none.
    func post(_ target: WebhookTarget, body: [UInt8], caBundle: [UInt8]?, timeout: TimeAmount)
        async throws(WebhookCallFailure) -> (status: Int, body: [UInt8])
    {
        let deadline = NIODeadline.now() + timeout
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: target.serverName ?? target.host)
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Accept", value: "application/json, */*")
        headers.add(name: "Content-Length", value: String(body.count))
        let request = OutboundRequest(method: .POST, uri: target.path, headers: headers, body: body)
        let destination = OutboundTarget(
            host: target.host, port: target.port, serverName: target.serverName,
            trust: OutboundTrust(caBundle: caBundle))
        do {
            let response = try await client.send(request, to: destination, deadline: deadline)
            let answer = try await response.body.collect(upTo: Self.responseLimit, before: deadline)
            return (Int(response.status.code), answer)
        } catch {
            throw WebhookCallFailure(message: Self.message(error, url: target.url))
        }
    }

    /// upstream's `Post "<url>": <Go's error>`; a dial that ran out of time is the call's deadline passing, and
    /// an oversized answer is this server's own refusal.
    private static func message(_ failure: OutboundFailure, url: String) -> String {
        switch failure {
        case .tooLarge(let limit): "webhook response larger than \(limit) bytes"
        case .connectTimeout: "Post \"\(url)\": \(OutboundFailure.deadlineExceeded)"
        default: "Post \"\(url)\": \(failure)"
        }
    }
}
