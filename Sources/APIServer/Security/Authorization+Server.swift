import APIMachinery
public import Authorization
import Storage

/// `--authorization-mode`: the authorizers to ask, in order.
public struct AuthorizerConfiguration: Sendable {
    /// One mode of `--authorization-mode`.
    public enum Mode: String, Sendable, CaseIterable {
        case alwaysAllow = "AlwaysAllow"
        case alwaysDeny = "AlwaysDeny"
        case rbac = "RBAC"
        /// Kubelets' node-scoped rules (`NodeAuthorizer`) over the pods-to-objects graph.
        case node = "Node"
    }

    public var modes: [Mode]

    public init(modes: [Mode] = [.alwaysAllow]) { self.modes = modes }

    /// Parses the flag's comma-separated list, refusing unknown and repeated modes as upstream does.
    public init(flag: String) throws(AuthorizationModeError) {
        var modes: [Mode] = []
        for name in flag.split(separator: ",").map({ String($0).trimmingCharacters(in: .whitespaces) }) {
            guard let mode = Mode(rawValue: name) else {
                throw AuthorizationModeError("authorization-mode \"\(name)\" is not a valid mode")
            }
            if modes.contains(mode) {
                throw AuthorizationModeError("authorization-mode \"\(name)\" has mode specified more than once")
            }
            modes.append(mode)
        }
        guard !modes.isEmpty else { throw AuthorizationModeError("at least one authorization-mode must be passed") }
        self.modes = modes
    }
}

/// A `--authorization-mode` value upstream would refuse.
public struct AuthorizationModeError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The server's authorization: the RBAC policy cache (always kept, since escalation checks and the access
/// reviews read it whatever the mode) and the union of the configured modes behind `system:masters`.
public final class ServerAuthorization: Sendable {
    public let policy: AuthorizationPolicyCache
    public let authorizer: any Authorizer
    /// The node authorizer's graph; started only when the Node mode is on.
    public let nodeGraph: NodeGraphCache
    let usesNodeGraph: Bool

    /// `additional` authorizers are asked after the configured modes (the web pages' one, say).
    public init(
        configuration: AuthorizerConfiguration, policy: AuthorizationPolicyCache = AuthorizationPolicyCache(),
        additional: [any Authorizer] = []
    ) {
        self.policy = policy
        let nodeGraph = NodeGraphCache()
        self.nodeGraph = nodeGraph
        usesNodeGraph = configuration.modes.contains(.node)
        var chain: [any Authorizer] = [PrivilegedGroups()]
        for mode in configuration.modes {
            switch mode {
            case .alwaysAllow: chain.append(Authorization.AlwaysAllow())
            case .alwaysDeny: chain.append(Authorization.AlwaysDeny())
            case .rbac: chain.append(RBACAuthorizer(snapshot: { [policy] in policy.snapshot }))
            case .node: chain.append(NodeAuthorizer(graph: { [nodeGraph] in nodeGraph.graph }))
            }
        }
        authorizer = UnionAuthorizer(chain + additional)
    }

    /// The escalation check over the current policy.
    var escalation: EscalationCheck { EscalationCheck(snapshot: policy.snapshot, authorizer: authorizer) }
}

extension APIServer {
    /// The authorization filter: throws upstream's Forbidden error unless some mode allows the request.
    func authorize(_ request: HTTPRequest, info: RequestInfo?) throws(APIError) {
        let attributes = Attributes(request: request, info: info)
        let decision = authorization.authorizer.authorize(attributes)
        // The audit event carries the verdict, as upstream's authorization filter records it.
        if let audit = AuditContext.current {
            audit.annotate("authorization.k8s.io/decision", decision.isAllowed ? "allow" : "forbid")
            audit.annotate("authorization.k8s.io/reason", decision.reason)
        }
        if !decision.isAllowed { throw Forbidden.error(attributes, reason: decision.reason) }
    }

    /// Loads the RBAC policy and creates or reconciles the bootstrap policy; returns when both are done, so
    /// the first request is checked against the full policy.
    func startAuthorization() async throws {
        try await authorization.policy.start(storage: storage, storagePrefix: context.storagePrefix)
        if authorization.usesNodeGraph {
            try await authorization.nodeGraph.start(storage: storage, storagePrefix: context.storagePrefix)
        }
        try await reconcileBootstrapPolicy()
    }
}

extension Attributes {
    /// A request's attributes as upstream's RequestInfoFactory gives them to the authorizers.
    init(request: HTTPRequest, info: RequestInfo?) {
        let user = request.user ?? .anonymous
        guard let info else {
            self.init(user: user, verb: request.method.rawValue.lowercased(), path: request.path)
            return
        }
        var namespace = info.namespace ?? ""
        var name = info.name ?? ""
        // A namespace is its own scope: a RoleBinding in "team" may grant `get namespaces` on "team".
        if info.resource == "namespaces", namespace.isEmpty { namespace = name }
        // A list or watch of one object by field selector is checked as that object, as upstream does.
        if name.isEmpty, info.verb == "list" || info.verb == "watch",
            let selected = Self.exactName(fieldSelector: request.query["fieldSelector"])
        {
            name = selected
        }
        self.init(
            user: user, verb: info.verb, apiGroup: info.group, apiVersion: info.version, resource: info.resource,
            subresource: info.subresource ?? "", namespace: namespace, name: name)
    }

    /// The name a field selector pins with `metadata.name=x` (or `==`), if it does.
    static func exactName(fieldSelector: String?) -> String? {
        guard let fieldSelector, !fieldSelector.isEmpty else { return nil }
        for term in fieldSelector.split(separator: ",") {
            let text = term.trimmingCharacters(in: .whitespaces)
            for prefix in ["metadata.name==", "metadata.name="] where text.hasPrefix(prefix) {
                return String(text.dropFirst(prefix.count))
            }
        }
        return nil
    }
}
