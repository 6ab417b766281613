import APIMachinery
import Foundation

extension APIServer {
    /// `serviceaccounts/<name>/token` (TokenRequest, authentication.k8s.io/v1): signs a bound token for
    /// the service account, as `kubectl create token` asks. Nothing is stored.
    func requestToken(_ request: HTTPRequest, namespace: String, name: String) async throws -> HTTPResponse {
        let kind = GroupVersionKind(group: "authentication.k8s.io", version: "v1", kind: "TokenRequest")
        guard let tokens = authenticator.configuration.serviceAccountTokens, tokens.canIssue else {
            throw APIError.resourceNotFound()
        }
        let body = try decodeBody(request)
        if let bodyKind = body["kind"]?.stringValue, !bodyKind.isEmpty, bodyKind != "TokenRequest" {
            throw APIError.badRequest(
                "the kind in the data (\(bodyKind)) does not match the expected kind (TokenRequest)")
        }
        let account = try await store(resource: "serviceaccounts")?.get(namespace: namespace, name: name)
        guard let account, let accountUID = account.uid else {
            throw APIError.notFound(GroupResource(group: "", resource: "serviceaccounts"), name: name)
        }
        var spec = body["spec"] ?? .object(JSONObject())
        var errors: [FieldError] = []
        var seconds = spec["expirationSeconds"]?.intValue ?? 3600
        if seconds < 600 {
            errors.append(
                .invalid("spec.expirationSeconds", .int(seconds), "may not specify a duration less than 10 minutes"))
        } else if seconds > 1 << 32 {
            errors.append(
                .invalid("spec.expirationSeconds", .int(seconds), "may not specify a duration larger than 2^32 seconds")
            )
        }
        if let max = tokens.maxExpirationSeconds, seconds > max { seconds = max }
        var audiences = (spec["audiences"]?.arrayValue ?? []).compactMap(\.stringValue)
        if audiences.isEmpty { audiences = tokens.audiences }
        let bound = try await boundObject(spec["boundObjectRef"], namespace: namespace, errors: &errors)
        guard errors.isEmpty else { throw APIError.invalid(kind: kind, name: name, errors: errors) }

        let issued = try await tokens.issue(
            namespace: namespace, serviceAccount: .init(name: name, uid: accountUID), audiences: audiences,
            seconds: seconds, pod: bound.pod, secret: bound.secret)
        spec["audiences"] = .array(audiences.map(JSON.string))
        spec["expirationSeconds"] = .int(seconds)
        if spec["boundObjectRef"] == nil { spec["boundObjectRef"] = .null }
        let response: JSON = [
            "kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
            "metadata": [
                "name": .string(name), "namespace": .string(namespace),
                "creationTimestamp": .string(Timestamp.now()),
            ],
            "spec": spec,
            "status": [
                "token": .string(issued.token),
                "expirationTimestamp": .string(
                    Timestamp.format(epochSeconds: Int64(issued.expires.timeIntervalSince1970))),
            ],
        ]
        return HTTPResponse.json(response, status: .created)
    }

    /// Checks `boundObjectRef` (a Pod or Secret in the namespace, uid matching when given) as upstream does.
    private func boundObject(_ reference: JSON?, namespace: String, errors: inout [FieldError]) async throws
        -> (pod: ServiceAccountClaims.Reference?, secret: ServiceAccountClaims.Reference?)
    {
        guard let reference, !reference.isNull else { return (nil, nil) }
        let kind = reference["kind"]?.stringValue ?? ""
        let name = reference["name"]?.stringValue ?? ""
        let resource: String
        switch kind {
        case "Pod": resource = "pods"
        case "Secret": resource = "secrets"
        default:
            errors.append(
                .notSupported("spec.boundObjectRef.kind", .string(kind), ["Pod", "Secret"]))
            return (nil, nil)
        }
        guard reference["apiVersion"]?.stringValue ?? "v1" == "v1" else {
            errors.append(
                .notSupported("spec.boundObjectRef.apiVersion", reference["apiVersion"] ?? .null, ["v1"]))
            return (nil, nil)
        }
        let object = try await store(resource: resource)?.get(namespace: namespace, name: name)
        guard let object, let uid = object.uid else {
            throw APIError.notFound(GroupResource(group: "", resource: resource), name: name)
        }
        if let wanted = reference["uid"]?.stringValue, !wanted.isEmpty, wanted != uid {
            throw APIError.conflict(
                GroupResource(group: "", resource: resource), name: name,
                reason:
                    "the UID in the bound object reference (\(wanted)) does not match the UID in record. The object might have been deleted and then recreated"
            )
        }
        let bound = ServiceAccountClaims.Reference(name: name, uid: uid)
        return kind == "Pod" ? (bound, nil) : (nil, bound)
    }
}
