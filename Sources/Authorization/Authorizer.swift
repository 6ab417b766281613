public import APIMachinery

/// What one request asks to do, as upstream's `authorizer.Attributes`: a verb on a resource (with group,
/// namespace, name and subresource) or a verb on a non-resource URL path.
public struct Attributes: Sendable, Hashable {
    public var user: UserInfo
    public var verb: String
    public var isResourceRequest: Bool
    public var apiGroup: String
    /// "*" when a review did not name a version (upstream's `matchAllVersionIfEmpty`).
    public var apiVersion: String
    public var resource: String
    public var subresource: String
    /// "" for cluster-scoped requests.
    public var namespace: String
    public var name: String
    /// The URL path of a non-resource request.
    public var path: String

    /// A resource request.
    public init(
        user: UserInfo, verb: String, apiGroup: String = "", apiVersion: String = "*", resource: String,
        subresource: String = "", namespace: String = "", name: String = ""
    ) {
        self.user = user
        self.verb = verb
        self.isResourceRequest = true
        self.apiGroup = apiGroup
        self.apiVersion = apiVersion
        self.resource = resource
        self.subresource = subresource
        self.namespace = namespace
        self.name = name
        self.path = ""
    }

    /// A non-resource request (`/healthz`, `/api`, `/version`…).
    public init(user: UserInfo, verb: String, path: String) {
        self.user = user
        self.verb = verb
        self.isResourceRequest = false
        self.apiGroup = ""
        self.apiVersion = ""
        self.resource = ""
        self.subresource = ""
        self.namespace = ""
        self.name = ""
        self.path = path
    }
}

/// An authorizer's answer. Only `allow` lets a request through; `deny` stops the union at once, while
/// `noOpinion` lets the next authorizer decide (and is a refusal when it is the last word).
public enum Decision: Sendable, Hashable {
    case allow(reason: String = "")
    case deny(reason: String)
    case noOpinion(reason: String)

    public var isAllowed: Bool {
        if case .allow = self { return true }
        return false
    }

    public var reason: String {
        switch self {
        case .allow(let reason), .deny(let reason), .noOpinion(let reason): return reason
        }
    }
}

/// The rules a user holds in a namespace, as SelfSubjectRulesReview reports them.
public struct RulesReview: Sendable, Equatable {
    public var resourceRules: [PolicyRule]
    public var nonResourceRules: [PolicyRule]
    /// True when some authorizer cannot list its rules, so the lists may be short of what is allowed.
    public var incomplete: Bool
    /// Errors met while resolving (a binding naming a missing role, for example).
    public var evaluationErrors: [String]

    public init(
        resourceRules: [PolicyRule] = [], nonResourceRules: [PolicyRule] = [], incomplete: Bool = false,
        evaluationErrors: [String] = []
    ) {
        self.resourceRules = resourceRules
        self.nonResourceRules = nonResourceRules
        self.incomplete = incomplete
        self.evaluationErrors = evaluationErrors
    }
}

/// Decides whether a request may proceed (upstream's `authorizer.Authorizer` plus its `RuleResolver`).
/// Authorizers answer from memory: a check never does I/O.
public protocol Authorizer: Sendable {
    func authorize(_ attributes: Attributes) -> Decision
    /// The rules `user` holds in `namespace`; authorizers that cannot enumerate them say `incomplete`.
    func rules(for user: UserInfo, namespace: String) -> RulesReview
}

extension Authorizer {
    public func rules(for user: UserInfo, namespace: String) -> RulesReview { RulesReview(incomplete: true) }
}

/// `--authorization-mode=AlwaysAllow`: every request is allowed.
public struct AlwaysAllow: Authorizer {
    public init() {}
    public func authorize(_ attributes: Attributes) -> Decision { .allow() }
    public func rules(for user: UserInfo, namespace: String) -> RulesReview {
        RulesReview(
            resourceRules: [PolicyRule(verbs: ["*"], apiGroups: ["*"], resources: ["*"])],
            nonResourceRules: [PolicyRule(verbs: ["*"], nonResourceURLs: ["*"])])
    }
}

/// `--authorization-mode=AlwaysDeny`: upstream answers "no opinion" with this reason, so a later mode may
/// still allow.
public struct AlwaysDeny: Authorizer {
    public init() {}
    public func authorize(_ attributes: Attributes) -> Decision { .noOpinion(reason: "Everything is forbidden.") }
    public func rules(for user: UserInfo, namespace: String) -> RulesReview { RulesReview() }
}

/// Members of a group (upstream: `system:masters`) may do anything; everyone else gets no opinion.
/// Upstream puts this first in every union so the loopback and break-glass identities always work.
public struct PrivilegedGroups: Authorizer {
    public let groups: Set<String>

    public init(_ groups: Set<String> = ["system:masters"]) { self.groups = groups }

    public func authorize(_ attributes: Attributes) -> Decision {
        attributes.user.groups.contains(where: groups.contains) ? .allow() : .noOpinion(reason: "")
    }

    /// Upstream does not list rules for the privileged groups; their RBAC binding lists them.
    public func rules(for user: UserInfo, namespace: String) -> RulesReview { RulesReview() }
}

/// Authorizers asked in order (`--authorization-mode` order): the first `allow` or `deny` decides; when all
/// have no opinion the reasons are joined with newlines, as upstream's union.
public struct UnionAuthorizer: Authorizer {
    public let authorizers: [any Authorizer]

    public init(_ authorizers: [any Authorizer]) { self.authorizers = authorizers }

    public func authorize(_ attributes: Attributes) -> Decision {
        var reasons: [String] = []
        for authorizer in authorizers {
            let decision = authorizer.authorize(attributes)
            switch decision {
            case .allow, .deny: return decision
            case .noOpinion(let reason): if !reason.isEmpty { reasons.append(reason) }
            }
        }
        return .noOpinion(reason: reasons.joined(separator: "\n"))
    }

    public func rules(for user: UserInfo, namespace: String) -> RulesReview {
        var review = RulesReview()
        for authorizer in authorizers {
            let part = authorizer.rules(for: user, namespace: namespace)
            review.resourceRules += part.resourceRules
            review.nonResourceRules += part.nonResourceRules
            review.incomplete = review.incomplete || part.incomplete
            review.evaluationErrors += part.evaluationErrors
        }
        return review
    }
}
