import APIMachinery

/// The authentication.k8s.io/v1 reviews: TokenReview (who does this token belong to?, what webhooks and
/// aggregated servers ask) and SelfSubjectReview (who am I?, what `kubectl auth whoami` sends). None is stored.
enum AuthenticationReviews {
    static let group = "authentication.k8s.io"

    static let resources: [VirtualResource] = [
        VirtualResource(
            group: group, resource: "selfsubjectreviews", kind: "SelfSubjectReview", handler: selfSubjectReview),
        VirtualResource(group: group, resource: "tokenreviews", kind: "TokenReview", handler: tokenReview),
    ]

    @Sendable static func selfSubjectReview(_ request: VirtualResourceRequest, _ server: APIServer) throws -> JSON {
        request.answer(status: ["userInfo": userInfo(request.user)])
    }

    /// Runs the token authenticators on `spec.token`; an unknown token is `authenticated: false`, not an error.
    @Sendable static func tokenReview(_ request: VirtualResourceRequest, _ server: APIServer) async throws -> JSON {
        let spec = request.body["spec"] ?? .object(JSONObject())
        guard let token = spec["token"]?.stringValue, !token.isEmpty else {
            throw APIError.badRequest("token is required for TokenReview in authentication")
        }
        let requested = (spec["audiences"]?.arrayValue ?? []).compactMap(\.stringValue)
        let authenticator = server.authenticator
        let apiAudiences = authenticator.configuration.serviceAccountTokens?.audiences ?? []
        let audiences = requested.isEmpty ? apiAudiences : requested
        guard let user = await authenticator.authenticate(token: token, audiences: audiences) else {
            return request.answer(status: ["authenticated": false, "user": .object(JSONObject())])
        }
        return request.answer(status: [
            "authenticated": true, "user": userInfo(user), "audiences": .array(audiences.map(JSON.string)),
        ])
    }

    /// `authentication/v1 UserInfo`, leaving out what is empty as upstream's omitempty does.
    static func userInfo(_ user: UserInfo) -> JSON {
        var info: JSONObject = ["username": .string(user.name)]
        if !user.uid.isEmpty { info["uid"] = .string(user.uid) }
        if !user.groups.isEmpty { info["groups"] = .array(user.groups.map(JSON.string)) }
        if !user.extra.isEmpty {
            var extra = JSONObject()
            for key in user.extra.keys.sorted() { extra[key] = .array((user.extra[key] ?? []).map(JSON.string)) }
            info["extra"] = .object(extra)
        }
        return .object(info)
    }
}
