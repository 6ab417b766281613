import APIMachinery
import Authorization
import NIOHTTP1

extension APIServer {
    /// upstream's impersonation filter (`kubectl --as`, `--as-group`, `--as-uid`): with `Impersonate-*` headers the
    /// request runs as the named user once the requester is allowed to `impersonate` each of the user (or
    /// service account), groups, extras and uid; otherwise 403 naming what was refused.
    func impersonate(_ request: HTTPRequest) throws(APIError) -> HTTPRequest {
        let headers = request.headers
        let userName = headers.first(name: "impersonate-user")
        let groups = headers["impersonate-group"]
        let uid = headers.first(name: "impersonate-uid")
        var extra: [String: [String]] = [:]
        for (name, value) in headers where name.lowercased().hasPrefix("impersonate-extra-") {
            let key = String(name.dropFirst("impersonate-extra-".count)).lowercased()
            extra[key.removingPercentEncoding ?? key, default: []].append(value)
        }
        guard let userName else {
            if !groups.isEmpty || !extra.isEmpty || uid != nil {
                throw APIError.badRequest(
                    "requested \(Self.impersonationSummary(groups: groups, extra: extra, uid: uid)) without impersonating a user"
                )
            }
            return request
        }
        guard let requester = request.user else { return request }
        var checks: [Attributes] = []
        var impersonatedGroups = groups
        if userName.hasPrefix(Self.serviceAccountPrefix) {
            let parts = userName.dropFirst(Self.serviceAccountPrefix.count).split(
                separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw APIError.badRequest("invalid service account user name \(userName)")
            }
            checks.append(
                Attributes(
                    user: requester, verb: "impersonate", resource: "serviceaccounts", namespace: String(parts[0]),
                    name: String(parts[1])))
            for group in ["system:serviceaccounts", "system:serviceaccounts:\(parts[0])"]
            where !impersonatedGroups.contains(group) {
                impersonatedGroups.append(group)
            }
        } else {
            checks.append(Attributes(user: requester, verb: "impersonate", resource: "users", name: userName))
        }
        for group in groups {
            checks.append(Attributes(user: requester, verb: "impersonate", resource: "groups", name: group))
        }
        for (key, values) in extra.sorted(by: { $0.key < $1.key }) {
            for value in values {
                checks.append(
                    Attributes(
                        user: requester, verb: "impersonate", apiGroup: "authentication.k8s.io",
                        resource: "userextras", subresource: key, name: value))
            }
        }
        if let uid {
            checks.append(
                Attributes(
                    user: requester, verb: "impersonate", apiGroup: "authentication.k8s.io", resource: "uids", name: uid
                ))
        }
        for attributes in checks {
            let decision = authorization.authorizer.authorize(attributes)
            guard decision.isAllowed else { throw Forbidden.error(attributes, reason: decision.reason) }
        }
        if userName != UserInfo.anonymous.name,
            !impersonatedGroups.contains("system:authenticated"),
            !impersonatedGroups.contains("system:unauthenticated")
        {
            impersonatedGroups.append("system:authenticated")
        }
        var impersonated = request
        impersonated.user = UserInfo(name: userName, uid: uid ?? "", groups: impersonatedGroups, extra: extra)
        for name in headers.map(\.name) where name.lowercased().hasPrefix("impersonate-") {
            impersonated.headers.remove(name: name)
        }
        return impersonated
    }

    static let serviceAccountPrefix = "system:serviceaccount:"

    private static func impersonationSummary(groups: [String], extra: [String: [String]], uid: String?) -> String {
        var parts: [String] = groups.map { "group \($0)" }
        for (key, values) in extra.sorted(by: { $0.key < $1.key }) {
            parts += values.map { "extra \(key)=\($0)" }
        }
        if let uid { parts.append("uid \(uid)") }
        return parts.joined(separator: ", ")
    }
}
