import APIMachinery
import Authorization

/// The authorization.k8s.io/v1 reviews, answered by the server's own authorizer: SubjectAccessReview (may
/// anyone do this?), LocalSubjectAccessReview (the same, in one namespace), SelfSubjectAccessReview (may I?,
/// what `kubectl auth can-i` sends) and SelfSubjectRulesReview (what may I do here?, `kubectl auth can-i
/// --list`). None is stored.
enum AccessReviews {
    static let group = "authorization.k8s.io"

    static let resources: [VirtualResource] = [
        VirtualResource(
            group: group, resource: "localsubjectaccessreviews", kind: "LocalSubjectAccessReview", namespaced: true,
            handler: localSubjectAccessReview),
        VirtualResource(
            group: group, resource: "selfsubjectaccessreviews", kind: "SelfSubjectAccessReview",
            handler: selfSubjectAccessReview),
        VirtualResource(
            group: group, resource: "selfsubjectrulesreviews", kind: "SelfSubjectRulesReview",
            handler: selfSubjectRulesReview),
        VirtualResource(
            group: group, resource: "subjectaccessreviews", kind: "SubjectAccessReview",
            handler: subjectAccessReview),
    ]

    @Sendable static func subjectAccessReview(_ request: VirtualResourceRequest, _ server: APIServer) throws -> JSON {
        let spec = request.body["spec"] ?? .object(JSONObject())
        var errors = attributeErrors(spec)
        let userName = spec["user"]?.stringValue ?? ""
        let groups = spec["groups"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if userName.isEmpty, groups.isEmpty {
            errors.append(.invalid("spec.user", .string(userName), "at least one of user or group must be specified"))
        }
        try checkMetadataEmpty(request.body, errors: &errors)
        try throwIfInvalid(errors, kind: "SubjectAccessReview")
        return review(request, server: server, user: subject(spec), spec: spec, namespace: nil)
    }

    @Sendable static func localSubjectAccessReview(_ request: VirtualResourceRequest, _ server: APIServer) throws
        -> JSON
    {
        var body = request.body
        let namespace = request.namespace ?? ""
        let objectNamespace = body.namespace ?? ""
        if objectNamespace.isEmpty {
            body.setMeta("namespace", .string(namespace))
        } else if objectNamespace != namespace {
            throw APIError.badRequest(
                "the namespace of the provided object does not match the namespace sent on the request")
        }
        let spec = body["spec"] ?? .object(JSONObject())
        var errors = attributeErrors(spec)
        let userName = spec["user"]?.stringValue ?? ""
        let groups = spec["groups"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if userName.isEmpty, groups.isEmpty {
            errors.append(.invalid("spec.user", .string(userName), "at least one of user or group must be specified"))
        }
        if let attributes = spec["resourceAttributes"], attributes["namespace"]?.stringValue ?? "" != namespace {
            errors.append(
                .invalid(
                    "spec.resourceAttributes.namespace", attributes["namespace"] ?? .string(""),
                    "must match metadata.namespace"))
        }
        if let nonResource = spec["nonResourceAttributes"] {
            errors.append(.invalid("spec.nonResourceAttributes", nonResource, "disallowed on this kind of request"))
        }
        try throwIfInvalid(errors, kind: "LocalSubjectAccessReview")
        var answered = request
        answered.body = body
        return review(answered, server: server, user: subject(spec), spec: spec, namespace: namespace)
    }

    @Sendable static func selfSubjectAccessReview(_ request: VirtualResourceRequest, _ server: APIServer) throws
        -> JSON
    {
        let spec = request.body["spec"] ?? .object(JSONObject())
        try throwIfInvalid(attributeErrors(spec), kind: "SelfSubjectAccessReview")
        return review(request, server: server, user: request.user, spec: spec, namespace: nil)
    }

    @Sendable static func selfSubjectRulesReview(_ request: VirtualResourceRequest, _ server: APIServer) throws
        -> JSON
    {
        guard let namespace = request.body["spec"]?["namespace"]?.stringValue, !namespace.isEmpty else {
            throw APIError.badRequest("no namespace on request")
        }
        let rules = server.authorization.authorizer.rules(for: request.user, namespace: namespace)
        var status: JSONObject = [
            "resourceRules": .array(
                rules.resourceRules.map { rule in
                    var object: JSONObject = [
                        "verbs": .array(rule.verbs.map(JSON.string)),
                        "apiGroups": .array(rule.apiGroups.map(JSON.string)),
                        "resources": .array(rule.resources.map(JSON.string)),
                    ]
                    if !rule.resourceNames.isEmpty {
                        object["resourceNames"] = .array(rule.resourceNames.map(JSON.string))
                    }
                    return .object(object)
                }),
            "nonResourceRules": .array(
                rules.nonResourceRules.map { rule in
                    [
                        "verbs": .array(rule.verbs.map(JSON.string)),
                        "nonResourceURLs": .array(rule.nonResourceURLs.map(JSON.string)),
                    ]
                }),
            "incomplete": .bool(rules.incomplete),
        ]
        if !rules.evaluationErrors.isEmpty {
            status["evaluationError"] = .string(rules.evaluationErrors.joined(separator: ", "))
        }
        return request.answer(status: .object(status))
    }

    // MARK: - Shared

    /// Exactly one of resourceAttributes and nonResourceAttributes, as upstream validates every review.
    /// Upstream renders the missing attributes as the string "null".
    static func attributeErrors(_ spec: JSON) -> [FieldError] {
        let resource = spec["resourceAttributes"]
        let nonResource = spec["nonResourceAttributes"]
        if resource != nil, let nonResource {
            return [
                .invalid(
                    "spec.nonResourceAttributes", nonResource,
                    "cannot be specified in combination with resourceAttributes")
            ]
        }
        if resource == nil, nonResource == nil {
            return [
                .invalid(
                    "spec.resourceAttributes", .string("null"),
                    "exactly one of nonResourceAttributes or resourceAttributes must be specified")
            ]
        }
        return []
    }

    /// A SubjectAccessReview's metadata must be empty (nothing is stored, so a name means nothing).
    static func checkMetadataEmpty(_ body: JSON, errors: inout [FieldError]) throws {
        var metadata = body["metadata"]?.objectValue ?? JSONObject()
        metadata["managedFields"] = nil
        metadata["creationTimestamp"] = nil
        if !metadata.isEmpty { errors.append(.invalid("metadata", .object(metadata), "must be empty")) }
    }

    /// Upstream's `NewInvalid` for a review: the group-qualified kind and an empty name.
    static func throwIfInvalid(_ errors: [FieldError], kind: String) throws(APIError) {
        guard !errors.isEmpty else { return }
        throw APIError.invalid(
            kind: GroupVersionKind(group: group, version: "v1", kind: kind), name: "", errors: errors)
    }

    /// The user a SubjectAccessReview asks about.
    static func subject(_ spec: JSON) -> UserInfo {
        var extra: [String: [String]] = [:]
        for (key, value) in spec["extra"]?.objectValue ?? JSONObject() {
            extra[key] = value.arrayValue?.compactMap(\.stringValue) ?? []
        }
        return UserInfo(
            name: spec["user"]?.stringValue ?? "", uid: spec["uid"]?.stringValue ?? "",
            groups: spec["groups"]?.arrayValue?.compactMap(\.stringValue) ?? [], extra: extra)
    }

    /// Upstream's `AuthorizationAttributesFrom`: a review's attributes, with an empty version meaning any.
    static func attributes(_ spec: JSON, user: UserInfo, namespace: String?) -> Attributes {
        if let resource = spec["resourceAttributes"] {
            func field(_ name: String) -> String { resource[name]?.stringValue ?? "" }
            let version = field("version")
            return Attributes(
                user: user, verb: field("verb"), apiGroup: field("group"), apiVersion: version.isEmpty ? "*" : version,
                resource: field("resource"), subresource: field("subresource"),
                namespace: namespace ?? field("namespace"),
                name: field("name"))
        }
        let nonResource = spec["nonResourceAttributes"]
        return Attributes(
            user: user, verb: nonResource?["verb"]?.stringValue ?? "", path: nonResource?["path"]?.stringValue ?? "")
    }

    /// Asks the server's authorizer and answers with `status.allowed`, `denied`, `reason` and `evaluationError`.
    static func review(
        _ request: VirtualResourceRequest, server: APIServer, user: UserInfo, spec: JSON, namespace: String?
    ) -> JSON {
        let decision = server.authorization.authorizer.authorize(attributes(spec, user: user, namespace: namespace))
        var status: JSONObject = ["allowed": .bool(decision.isAllowed)]
        if case .deny = decision { status["denied"] = true }
        if !decision.reason.isEmpty { status["reason"] = .string(decision.reason) }
        return request.answer(status: .object(status))
    }
}
