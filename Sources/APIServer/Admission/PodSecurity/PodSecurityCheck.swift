import APIMachinery

/// Why a pod fails one check, in upstream's words: a short reason that is always shown (`hostPort`), and a
/// detail naming what was wrong (`container "web" uses hostPort 8080`), shown in parentheses after it.
struct PodSecurityViolation: Sendable, Hashable {
    var reason: String
    var detail: String

    init(reason: String, detail: String) {
        self.reason = reason
        self.detail = detail
    }
}

/// One check of the Pod Security Standards, as upstream's `policy.Check`: the level it belongs to, the first
/// policy version it applies to, and the evaluation, which may differ by version.
protocol PodSecurityCheck: Sendable {
    /// Upstream's check ID.
    var id: String { get }
    /// `baseline` or `restricted`; baseline checks also run at restricted unless `replacedAtRestricted`.
    var level: PodSecurityLevel { get }
    /// A baseline check a stricter restricted check replaces at the restricted level (upstream's `Overlap`).
    var replacedAtRestricted: Bool { get }
    /// The first `v1.<minor>` the check applies to.
    var minimumMinor: Int { get }
    /// Nil when the pod passes; `minor` is the policy version's minor (`Int.max` for latest).
    func check(_ pod: PodSecurityPod, minor: Int) -> PodSecurityViolation?
}

extension PodSecurityCheck {
    var replacedAtRestricted: Bool { false }
    var minimumMinor: Int { 0 }
}

/// The parts of a pod (or a controller's pod template) the checks read: its annotations and its spec.
struct PodSecurityPod: Sendable {
    var annotations: [String: String]
    var spec: JSON
    /// Init containers, containers, then ephemeral containers: the order upstream visits them in.
    let containers: [JSON]

    init(annotations: [String: String], spec: JSON) {
        self.annotations = annotations
        self.spec = spec
        containers = ["initContainers", "containers", "ephemeralContainers"].flatMap {
            spec[$0]?.arrayValue ?? []
        }
    }

    /// A Pod object's annotations and spec.
    init(pod: JSON) {
        self.init(annotations: pod.annotations, spec: pod["spec"] ?? .object(JSONObject()))
    }

    /// The pod-level security context.
    var securityContext: JSON? { spec["securityContext"] }

    /// Whether the pod declares it runs on Windows, which some restricted checks exempt since v1.25.
    var isWindows: Bool { spec["os"]?["name"]?.stringValue == "windows" }

    /// The names of the containers for which `isBad` holds on their security context (nil when absent).
    func containerNames(where isBad: (JSON?) -> Bool) -> [String] {
        containers.filter { isBad($0["securityContext"]) }.map(Self.name)
    }

    static func name(_ container: JSON) -> String { container["name"]?.stringValue ?? "" }
}

/// Upstream's message helpers, so every check words its detail the same way.
enum PodSecurityText {
    /// `"a", "b"`: each item in double quotes, unescaped, as upstream's `joinQuote`.
    static func joinQuote(_ items: [String]) -> String {
        items.isEmpty ? "" : "\"" + items.joined(separator: "\", \"") + "\""
    }

    static func pluralize(_ singular: String, _ plural: String, _ count: Int) -> String {
        count == 1 ? singular : plural
    }

    /// `container "a"` or `containers "a", "b"`.
    static func containers(_ names: [String]) -> String {
        pluralize("container", "containers", names.count) + " " + joinQuote(names)
    }

    /// `pod and containers "a", "b"`: who set a forbidden value, joined as upstream joins its setters.
    static func setters(pod: Bool, containers names: [String]) -> String {
        var setters: [String] = pod ? ["pod"] : []
        if !names.isEmpty { setters.append(containers(names)) }
        return setters.joined(separator: " and ")
    }

    /// Distinct values in sorted order, as upstream's `sets.String.List()`.
    static func sortedSet(_ values: [String]) -> [String] { Array(Set(values)).sorted() }
}
