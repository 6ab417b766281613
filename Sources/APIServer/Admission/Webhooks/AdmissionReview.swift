import APIMachinery
import Foundation

/// The `admission.k8s.io` AdmissionReview a webhook receives and answers, in v1 or v1beta1 (the same fields;
/// v1 insists the answer names its apiVersion, kind and the request's uid).
enum AdmissionReview {
    /// The review for one call. `object` and `old` are in the stored shape; the webhook sees them in the
    /// version it matched.
    static func request(
        uid: String, invocation: WebhookInvocation, attributes: AdmissionAttributes, object: JSON?
    ) -> JSON {
        func present(_ object: JSON?) -> JSON {
            guard let object else { return .null }
            return invocation.conversion?.fromStorage(object) ?? object
        }
        func kind(_ kind: GroupVersionKind) -> JSON {
            ["group": .string(kind.group), "version": .string(kind.version), "kind": .string(kind.kind)]
        }
        func resource(_ resource: GroupVersionResource) -> JSON {
            [
                "group": .string(resource.group), "version": .string(resource.version),
                "resource": .string(resource.resource),
            ]
        }
        let requestResource = GroupVersionResource(
            group: attributes.resource.group, version: attributes.kind.version, resource: attributes.resource.resource)
        var request: JSONObject = [
            "uid": .string(uid), "kind": kind(invocation.kind), "resource": resource(invocation.resource),
        ]
        if !attributes.subresource.isEmpty { request["subResource"] = .string(attributes.subresource) }
        request["requestKind"] = kind(attributes.kind)
        request["requestResource"] = resource(requestResource)
        if !attributes.subresource.isEmpty { request["requestSubResource"] = .string(attributes.subresource) }
        if !attributes.name.isEmpty { request["name"] = .string(attributes.name) }
        if let namespace = attributes.namespace, !namespace.isEmpty {
            request["namespace"] = .string(namespace)
        } else if attributes.resource == WebhookMatcher.namespaces, !attributes.name.isEmpty {
            // Upstream names a Namespace's own requests after it.
            request["namespace"] = .string(attributes.name)
        }
        request["operation"] = .string(attributes.operation.rawValue)
        request["userInfo"] = userInfo(attributes.user)
        request["object"] = present(object)
        request["oldObject"] = present(attributes.oldObject)
        request["dryRun"] = .bool(attributes.dryRun)
        request["options"] = options(attributes)
        return [
            "kind": "AdmissionReview", "apiVersion": .string("admission.k8s.io/" + invocation.webhook.reviewVersion),
            "request": .object(request),
        ]
    }

    static func userInfo(_ user: UserInfo?) -> JSON {
        guard let user else { return .object(JSONObject()) }
        var info: JSONObject = ["username": .string(user.name)]
        if !user.uid.isEmpty { info["uid"] = .string(user.uid) }
        if !user.groups.isEmpty { info["groups"] = .array(user.groups.map(JSON.string)) }
        if !user.extra.isEmpty {
            info["extra"] = .object(
                JSONObject(user.extra.sorted { $0.key < $1.key }.map { ($0.key, .array($0.value.map(JSON.string))) }))
        }
        return .object(info)
    }

    /// The write's options object (CreateOptions, UpdateOptions, DeleteOptions), as upstream passes it.
    static func options(_ attributes: AdmissionAttributes) -> JSON {
        let kind: String
        switch attributes.operation {
        case .create: kind = "CreateOptions"
        case .update: kind = "UpdateOptions"
        case .delete: kind = "DeleteOptions"
        }
        var options: JSONObject = ["kind": .string(kind), "apiVersion": "meta.k8s.io/v1"]
        if attributes.dryRun { options["dryRun"] = ["All"] }
        return .object(options)
    }

    /// A webhook's verdict.
    struct Response: Sendable, Equatable {
        var allowed: Bool
        /// The refusal's Status (code, reason, message), when the webhook gave one.
        var status: JSON?
        /// The JSON patch operations a mutating webhook returned.
        var patch: JSON?
        var warnings: [String]
        var auditAnnotations: [(key: String, value: String)]

        static func == (lhs: Response, rhs: Response) -> Bool {
            lhs.allowed == rhs.allowed && lhs.status == rhs.status && lhs.patch == rhs.patch
                && lhs.warnings == rhs.warnings && lhs.auditAnnotations.elementsEqual(rhs.auditAnnotations, by: ==)
        }
    }

    /// Reads and checks an answer as upstream's `VerifyAdmissionResponse` does; a failure's message follows
    /// upstream's `received invalid webhook response: …`.
    static func response(_ body: [UInt8], uid: String, version: String, mutating: Bool) throws(WebhookCallFailure)
        -> Response
    {
        func invalid(_ reason: String) -> WebhookCallFailure {
            WebhookCallFailure(message: "received invalid webhook response: " + reason)
        }
        guard let review = try? JSON.parse(body), review.objectValue != nil else {
            throw WebhookCallFailure(
                message: "failed to call webhook: the response is not an AdmissionReview object in JSON")
        }
        let apiVersion = review.apiVersion ?? ""
        let kind = review.kind ?? ""
        if version == "v1", apiVersion != "admission.k8s.io/v1" || kind != "AdmissionReview" {
            throw invalid(
                "expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got \(apiVersion), Kind=\(kind)"
            )
        }
        guard let answer = review["response"], answer.objectValue != nil else {
            throw invalid("webhook response was absent")
        }
        let answeredUID = answer["uid"]?.stringValue ?? ""
        if version == "v1", answeredUID != uid {
            throw invalid("expected response.uid=\"\(uid)\", got \"\(answeredUID)\"")
        }
        var patch: JSON?
        if let encoded = answer["patch"]?.stringValue, !encoded.isEmpty {
            guard mutating else {
                throw invalid("webhook returned response.patch but validating webhooks may not patch")
            }
            guard let patchType = answer["patchType"]?.stringValue else {
                throw invalid("webhook returned response.patch but not response.patchType")
            }
            guard patchType == "JSONPatch" else {
                throw invalid("webhook returned invalid response.patchType of \"\(patchType)\"")
            }
            guard let bytes = Base64.decode(encoded), let parsed = try? JSON.parse(bytes) else {
                throw invalid("response.patch is not base64-encoded JSON")
            }
            patch = parsed
        }
        let annotations = (answer["auditAnnotations"]?.objectValue ?? JSONObject()).compactMap { entry in
            entry.value.stringValue.map { (key: entry.key, value: $0) }
        }
        return Response(
            allowed: answer["allowed"]?.boolValue ?? false, status: answer["status"], patch: patch,
            warnings: answer["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? [], auditAnnotations: annotations)
    }

    /// Upstream's `ToStatusErr`: the webhook's Status with its message prefixed by who refused, a code of at
    /// least 400, and `Failure` as status.
    static func denial(webhook name: String, status: JSON?) -> APIError {
        let deniedBy = "admission webhook \"\(name)\" denied the request"
        var code = Int(status?["code"]?.intValue ?? 0)
        if code < 400 { code = 400 }
        let message = status?["message"]?.stringValue ?? ""
        let reason = status?["reason"]?.stringValue ?? ""
        let text: String
        if !message.isEmpty {
            text = deniedBy + ": " + message
        } else if !reason.isEmpty {
            text = deniedBy + ": " + reason
        } else {
            text = deniedBy + " without explanation"
        }
        return APIError(
            code: code, reason: StatusReason(rawValue: reason) ?? .unknown, message: text,
            details: status?["details"]?.objectValue)
    }
}
