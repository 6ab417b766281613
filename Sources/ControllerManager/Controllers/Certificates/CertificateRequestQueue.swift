import APIMachinery
import Client
import Foundation
import Logging

/// What upstream's `certificates.CertificateController` gives each CSR controller: every added, changed or deleted
/// request's name on a rate-limited queue, and a sync that hands a still-unsigned request to the controller's
/// handler. Signed requests are never handed on, whatever their conditions.
final class CertificateRequestQueue: Sendable {
    let queue: RateLimitingQueue<ObjectKey>
    let requests: Lister<CertificateSigningRequest>

    init(name: String, context: ControllerContext) {
        // Upstream's certificate controllers back off per request from 200ms to 1000s, and 10 qps overall.
        queue = RateLimitingQueue(
            name: name,
            rateLimiter: MaxOfRateLimiter<ObjectKey>([
                ItemExponentialFailureRateLimiter(base: .milliseconds(200), maximum: .seconds(1000)),
                BucketRateLimiter(qps: 10, burst: 100, time: context.time),
            ]),
            time: context.time)
        let informer = context.informers.informer(for: CertificateSigningRequest.self)
        requests = informer.lister
        let queue = self.queue
        informer.addEventHandler(
            ResourceEventHandler(
                onAdd: { request, _ in queue.add(request.key) },
                onUpdate: { _, request in queue.add(request.key) },
                onDelete: { event in queue.add(event.key) }))
    }

    /// Works through the queue with `workers` concurrent syncs until cancelled.
    func run(
        workers: Int, logger: Logger, handle: @escaping @Sendable (CertificateSigningRequest) async throws -> Void
    ) async {
        let requests = self.requests
        await queue.runWorkers(workers, logger: logger) { key in
            guard let request = requests.get(name: key.name), (request.status.certificate ?? "").isEmpty else {
                return
            }
            try await handle(request)
        }
    }
}

extension CertificateSigningRequest {
    /// Upstream's `IsCertificateRequestApproved`: an Approved condition and no Denied one.
    var isApproved: Bool { hasCondition("Approved") && !hasCondition("Denied") }

    /// Whether a condition of `type` is there (approval conditions are True whenever present).
    func hasCondition(_ type: String) -> Bool { status.conditions.contains { $0.type == type } }

    /// Whether a condition of `type` has status True (upstream's `HasTrueCondition`, used for Failed).
    func hasTrueCondition(_ type: String) -> Bool {
        status.conditions.contains { $0.type == type && $0.status == "True" }
    }

    /// The PEM bytes of `spec.request` (a base64 `[]byte` field in JSON).
    var requestPEM: [UInt8] { Base64Field.decode(spec.request) }

    /// The PEM bytes of `status.certificate`.
    var certificatePEM: [UInt8] { Base64Field.decode(status.certificate) }
}

/// Kubernetes `[]byte` fields travel as base64 strings.
enum Base64Field {
    static func decode(_ text: String?) -> [UInt8] {
        guard let text, let data = Data(base64Encoded: text) else { return [] }
        return Array(data)
    }

    static func encode(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
}
