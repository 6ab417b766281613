import APIMachinery

/// A Pod Security Standards level, from least to most restrictive.
enum PodSecurityLevel: String, Sendable, Hashable, Comparable, CaseIterable {
    case privileged, baseline, restricted

    static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }

    private var rank: Int {
        switch self {
        case .privileged: 0
        case .baseline: 1
        case .restricted: 2
        }
    }

    /// Upstream's `ParseLevel`: an unknown value fails closed to `restricted`, with its error detail.
    static func parse(_ value: String) -> (level: PodSecurityLevel, error: String?) {
        if let level = PodSecurityLevel(rawValue: value) { return (level, nil) }
        return (.restricted, "must be one of privileged, baseline, restricted")
    }
}

/// A policy version: `latest`, or `v1.<minor>`, which selects the checks as they were in that release.
enum PodSecurityVersion: Sendable, Hashable, CustomStringConvertible {
    case latest
    case v1(minor: Int)

    var description: String {
        switch self {
        case .latest: "latest"
        case .v1(let minor): "v1.\(minor)"
        }
    }

    /// The minor version checks compare against; `latest` is newer than every release.
    var minor: Int {
        switch self {
        case .latest: Int.max
        case .v1(let minor): minor
        }
    }

    /// Upstream's `ParseVersion`: `latest` or `v1.x` (no leading zeros); anything else is `latest` with an error.
    static func parse(_ value: String) -> (version: PodSecurityVersion, error: String?) {
        if value == "latest" { return (.latest, nil) }
        let invalid = (PodSecurityVersion.latest, Optional("must be \"latest\" or \"v1.x\""))
        guard value.hasPrefix("v1.") else { return invalid }
        let digits = value.dropFirst(3)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
            digits.count == 1 || digits.first != "0", let minor = Int(digits)
        else { return invalid }
        return (.v1(minor: minor), nil)
    }
}

/// A level at a version, written as upstream writes it: `restricted:latest`.
struct PodSecurityLevelVersion: Sendable, Hashable, CustomStringConvertible {
    var level: PodSecurityLevel
    var version: PodSecurityVersion

    init(_ level: PodSecurityLevel, _ version: PodSecurityVersion = .latest) {
        self.level = level
        self.version = version
    }

    var description: String { "\(level.rawValue):\(version)" }
}

/// The three modes' levels for one namespace: what is refused, what is audited and what is warned about.
struct PodSecurityPolicy: Sendable, Hashable {
    var enforce: PodSecurityLevelVersion
    var audit: PodSecurityLevelVersion
    var warn: PodSecurityLevelVersion

    init(enforce: PodSecurityLevelVersion, audit: PodSecurityLevelVersion, warn: PodSecurityLevelVersion) {
        self.enforce = enforce
        self.audit = audit
        self.warn = warn
    }

    /// Upstream's default: privileged at latest for every mode, so unlabelled namespaces change nothing.
    static let privileged = PodSecurityPolicy(
        enforce: .init(.privileged), audit: .init(.privileged), warn: .init(.privileged))

    static let labelPrefix = "pod-security.kubernetes.io/"
    static let enforceLabel = labelPrefix + "enforce"
    static let auditLabel = labelPrefix + "audit"
    static let warnLabel = labelPrefix + "warn"

    /// Upstream's `PolicyToEvaluate`: the namespace's labels over the configured defaults, with one field error
    /// per bad label. A bad enforce level fails closed (restricted), bad audit and warn levels fail open
    /// (privileged). When only `enforce` names a level stricter than the warn default, warn follows it (and
    /// its version, unless `warn-version` is set), as upstream does since 1.26.
    static func resolve(labels: [String: String], defaults: PodSecurityPolicy) -> (
        policy: PodSecurityPolicy, errors: [FieldError]
    ) {
        var policy = defaults
        var errors: [FieldError] = []
        func level(_ label: String, failOpen: Bool) -> PodSecurityLevel? {
            guard let value = labels[label] else { return nil }
            let (level, error) = PodSecurityLevel.parse(value)
            guard let error else { return level }
            errors.append(.invalid("metadata.labels[\(label)]", .string(value), error))
            return failOpen ? .privileged : level
        }
        func version(_ label: String) -> PodSecurityVersion? {
            guard let value = labels[label + "-version"] else { return nil }
            let (version, error) = PodSecurityVersion.parse(value)
            if let error { errors.append(.invalid("metadata.labels[\(label)-version]", .string(value), error)) }
            return version
        }
        let enforceErrorsBefore = errors.count
        if let enforce = level(enforceLabel, failOpen: false) { policy.enforce.level = enforce }
        let enforceLevelValid = labels[enforceLabel] != nil && errors.count == enforceErrorsBefore
        if let enforce = version(enforceLabel) { policy.enforce.version = enforce }
        if let audit = level(auditLabel, failOpen: true) { policy.audit.level = audit }
        if let audit = version(auditLabel) { policy.audit.version = audit }
        let hasWarnLevel = labels[warnLabel] != nil
        if let warn = level(warnLabel, failOpen: true) { policy.warn.level = warn }
        let warnVersion = version(warnLabel)
        if let warnVersion { policy.warn.version = warnVersion }
        if !hasWarnLevel, enforceLevelValid, policy.enforce.level > policy.warn.level {
            policy.warn.level = policy.enforce.level
            if warnVersion == nil { policy.warn.version = policy.enforce.version }
        }
        return (policy, errors)
    }
}
