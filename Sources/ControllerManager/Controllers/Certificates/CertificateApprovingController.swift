import APIMachinery
import Client
import Foundation

/// Upstream's `csrapproving`: approves kubelet client certificate requests (`kubernetes.io/kube-apiserver-client-kubelet`)
/// once a SubjectAccessReview says their requester may create `certificatesigningrequests/selfnodeclient` (a node
/// renewing its own certificate) or `certificatesigningrequests/nodeclient` (a new node, usually a bootstrap
/// token's user). Requests it does not recognise are left for a person or another approver.
final class CertificateApprovingController: Controller {
    static let descriptor = ControllerDescriptor(
        name: "certificatesigningrequest-approving-controller", aliases: ["csrapproving"],
        serviceAccount: "certificate-controller"
    ) { context in CertificateApprovingController(context: context) }

    /// Upstream runs the approver with five workers and no flag to change it.
    static let workers = 5

    /// A kind of request the approver recognises, the permission its requester needs and the approval message.
    struct Recognizer: Sendable, Equatable {
        let subresource: String
        let message: String

        static let selfNodeClient = Recognizer(
            subresource: "selfnodeclient",
            message: "Auto approving self kubelet client certificate after SubjectAccessReview.")
        static let nodeClient = Recognizer(
            subresource: "nodeclient", message: "Auto approving kubelet client certificate after SubjectAccessReview.")

        /// The recognizers that match `request`, in the order upstream tries them.
        static func matching(_ request: CertificateSigningRequest, _ facts: CertificateRequestFacts) -> [Recognizer] {
            let signer = request.spec.signerName ?? ""
            var matches: [Recognizer] = []
            if CertificateRequestRules.isSelfNodeClient(
                username: request.spec.username ?? "", signerName: signer, facts: facts, usages: request.spec.usages)
            {
                matches.append(.selfNodeClient)
            }
            if CertificateRequestRules.isNodeClient(signerName: signer, facts: facts, usages: request.spec.usages) {
                matches.append(.nodeClient)
            }
            return matches
        }
    }

    let context: ControllerContext
    let requests: CertificateRequestQueue

    init(context: ControllerContext) {
        self.context = context
        requests = CertificateRequestQueue(name: "csrapproving", context: context)
    }

    func run(workers: Int) async {
        await requests.run(workers: Self.workers, logger: context.logger) { request in
            try await self.handle(request)
        }
    }

    /// Approves `request` with the first recognizer whose SubjectAccessReview allows its requester.
    func handle(_ request: CertificateSigningRequest) async throws {
        if request.hasCondition("Approved") || request.hasCondition("Denied") { return }
        let name = request.metadata.name ?? ""
        let facts: CertificateRequestFacts
        do {
            facts = try CertificateRequestFacts(pem: request.requestPEM)
        } catch {
            throw CertificateControllerError("unable to parse csr \"\(name)\": \(error)")
        }
        var tried: [String] = []
        for recognizer in Recognizer.matching(request, facts) {
            tried.append(recognizer.subresource)
            guard try await isAllowed(request, subresource: recognizer.subresource) else { continue }
            var approved = request
            approved.status.conditions.append(
                CertificateSigningRequestCondition(
                    type: "Approved", status: "True", message: recognizer.message, reason: "AutoApproved"))
            do {
                _ = try await context.client.putJSON(
                    path: "/apis/certificates.k8s.io/v1/certificatesigningrequests/\(name)/approval",
                    approved.toJSON())
            } catch {
                throw CertificateControllerError("error updating approval for csr: \(error)")
            }
            return
        }
        if !tried.isEmpty {
            throw CertificateControllerError(
                "recognized csr \"\(name)\" as [\(tried.joined(separator: " "))] but subject access review was not approved"
            )
        }
    }

    /// Asks the API server whether the request's requester may `create` `certificatesigningrequests/<subresource>`.
    func isAllowed(_ request: CertificateSigningRequest, subresource: String) async throws -> Bool {
        let review = try await context.client.postJSON(
            path: "/apis/authorization.k8s.io/v1/subjectaccessreviews",
            Self.subjectAccessReview(request, subresource: subresource))
        return review["status"]?["allowed"]?.boolValue ?? false
    }

    /// The review upstream sends: the requester as recorded in the request, and the permission asked.
    static func subjectAccessReview(_ request: CertificateSigningRequest, subresource: String) -> JSON {
        var spec = JSONObject()
        spec["user"] = .string(request.spec.username ?? "")
        if let uid = request.spec.uid, !uid.isEmpty { spec["uid"] = .string(uid) }
        if !request.spec.groups.isEmpty { spec["groups"] = .array(request.spec.groups.map(JSON.string)) }
        if !request.spec.extra.isEmpty {
            var extra = JSONObject()
            for key in request.spec.extra.keys.sorted() {
                extra[key] = .array((request.spec.extra[key] ?? []).map(JSON.string))
            }
            spec["extra"] = .object(extra)
        }
        spec["resourceAttributes"] = [
            "group": "certificates.k8s.io", "resource": "certificatesigningrequests", "verb": "create",
            "subresource": .string(subresource),
        ]
        return [
            "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": .object(spec),
        ]
    }
}
