import APIMachinery
import APIServer
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Operations

/// A small HTTPS admission webhook for the tests: the API server's own listener (TLS, HTTP/2 or HTTP/1.1 by
/// ALPN) with a certificate from a test CA, answering by path:
/// - `/deny`: refuses objects labelled `deny=true` with 403 and the message `blue objects are not welcome`;
///   allows the rest with a warning;
/// - `/label/<key>`: adds the label `<key>=yes` by JSON patch;
/// - `/append/<letter>`: appends its letter to the `order` annotation, to show call order and reinvocation;
/// - `/hang`: answers after three seconds;
/// - anything else allows.
/// Every review received is kept, by path, for the tests to inspect.
final class AdmissionWebhookTestServer: HTTPResponder {
    let caPEM: String
    private let server = NIOLockedValueBox<HTTPServer?>(nil)
    private let reviews = NIOLockedValueBox<[(path: String, request: JSON)]>([])

    var port: Int { server.withLockedValue { $0?.localAddress?.port ?? 0 } }
    /// The caBundle a configuration names, base64 as `[]byte` fields travel.
    var caBundle: String { Data(caPEM.utf8).base64EncodedString() }

    init(address: String) async throws {
        let authority = try CertificateAuthority.create(commonName: "webhook-test-ca")
        let pair = try authority.issueServing(
            commonName: "webhook", dnsNames: ["webhook.test.svc"], ipAddresses: [address])
        caPEM = try PEM.encode(authority.keyPair.certificate)
        let settings = try TLSSettings(
            certificateChain: [try NIOSSLCertificate(bytes: Array(pair.certificatePEM.utf8), format: .pem)],
            privateKey: try NIOSSLPrivateKey(bytes: Array(pair.privateKeyPEM.utf8), format: .pem), clientCA: nil)
        let started = try await HTTPServer.start(
            host: address, port: 0, tls: settings, responder: self, group: MultiThreadedEventLoopGroup.singleton)
        server.withLockedValue { $0 = started }
    }

    func close() async {
        try? await server.withLockedValue { $0 }?.close()
    }

    /// The `request` of every review sent to `path`, oldest first.
    func received(_ path: String) -> [JSON] {
        reviews.withLockedValue { $0.filter { $0.path == path }.map(\.request) }
    }

    func respond(to request: HTTPRequest) async -> HTTPResponse {
        guard let review = try? JSON.parse(request.body), let body = review["request"],
            let uid = body["uid"]?.stringValue
        else { return .text("not an AdmissionReview", status: .badRequest) }
        reviews.withLockedValue { $0.append((request.path, body)) }
        var response: JSONObject = ["uid": .string(uid), "allowed": true]
        let object = body["object"] ?? .null
        let parts = request.path.split(separator: "/").map(String.init)
        switch parts.first {
        case "deny":
            if object.labels["deny"] == "true" {
                response["allowed"] = false
                response["status"] = ["code": 403, "reason": "Forbidden", "message": "blue objects are not welcome"]
            } else {
                response["warnings"] = [.string("deny.example.com looked at \(object.name ?? "")")]
            }
        case "label" where parts.count == 2:
            var patch: [JSON] = []
            if object["metadata"]?["labels"] == nil {
                patch.append(["op": "add", "path": "/metadata/labels", "value": [:]])
            }
            patch.append(["op": "add", "path": .string("/metadata/labels/\(parts[1])"), "value": "yes"])
            response["patchType"] = "JSONPatch"
            response["patch"] = .string(Data(JSON.array(patch).encoded()).base64EncodedString())
        case "append" where parts.count == 2:
            var patch: [JSON] = []
            let order = object.annotations["order"]
            if object["metadata"]?["annotations"] == nil {
                patch.append(["op": "add", "path": "/metadata/annotations", "value": [:]])
            }
            let value = order.map { $0 + "," + parts[1] } ?? parts[1]
            patch.append(["op": "add", "path": "/metadata/annotations/order", "value": .string(value)])
            response["patchType"] = "JSONPatch"
            response["patch"] = .string(Data(JSON.array(patch).encoded()).base64EncodedString())
        case "hang":
            try? await Task.sleep(for: .seconds(3))
        default:
            break
        }
        let apiVersion = review.apiVersion ?? "admission.k8s.io/v1"
        return .json(["apiVersion": .string(apiVersion), "kind": "AdmissionReview", "response": .object(response)])
    }
}
