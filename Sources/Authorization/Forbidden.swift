public import APIMachinery

/// Upstream's 403 answers: the authorization filter's message (`pods is forbidden: User "x" cannot list
/// resource "pods" in API group "" in the namespace "y"`) and `NewForbidden`'s Status shape.
public enum Forbidden {
    /// Upstream's `forbiddenMessage` for a refused request.
    public static func message(_ attributes: Attributes) -> String {
        let user = GoFormat.quote(attributes.user.name)
        let verb = attributes.verb
        guard attributes.isResourceRequest else {
            return "User \(user) cannot \(verb) path \(GoFormat.quote(attributes.path))"
        }
        var resource = attributes.resource
        if !attributes.subresource.isEmpty { resource += "/" + attributes.subresource }
        let prefix =
            "User \(user) cannot \(verb) resource \(GoFormat.quote(resource)) in API group \(GoFormat.quote(attributes.apiGroup))"
        if !attributes.namespace.isEmpty { return prefix + " in the namespace \(GoFormat.quote(attributes.namespace))" }
        return prefix + " at the cluster scope"
    }

    /// The error the authorization filter answers with: the message made HTML-inert, the authorizers'
    /// reason after a colon, and the request's group, resource and name in the Status details.
    public static func error(_ attributes: Attributes, reason: String) -> APIError {
        var text = sanitized(message(attributes))
        if !reason.isEmpty { text += ": " + reason }
        return error(
            GroupResource(group: attributes.apiGroup, resource: attributes.resource), name: attributes.name,
            message: text)
    }

    /// Upstream's `errors.NewForbidden(resource, name, err)`.
    public static func error(_ resource: GroupResource, name: String, message: String) -> APIError {
        let text: String
        if resource.group.isEmpty, resource.resource.isEmpty {
            text = "forbidden: " + message
        } else if name.isEmpty {
            text = "\(resource) is forbidden: " + message
        } else {
            text = "\(resource) \(GoFormat.quote(name)) is forbidden: " + message
        }
        var details = JSONObject()
        if !name.isEmpty { details["name"] = .string(name) }
        if !resource.group.isEmpty { details["group"] = .string(resource.group) }
        if !resource.resource.isEmpty { details["kind"] = .string(resource.resource) }
        return APIError(code: 403, reason: .forbidden, message: text, details: details)
    }

    /// Upstream escapes `&`, `<` and `>` so an error never reads as HTML; quotes stay.
    static func sanitized(_ text: String) -> String {
        guard text.contains(where: { $0 == "&" || $0 == "<" || $0 == ">" }) else { return text }
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.append(character)
            }
        }
        return out
    }
}
