public import Component

/// How a component takes part in leader election: upstream's `LeaderElectionConfiguration` with its
/// flags and defaults, shared by every component that runs replicated.
public struct LeaderElectionConfiguration: Sendable, Hashable {
    /// upstream's `JitterFactor`: waits between attempts are stretched by up to this much.
    public static let jitterFactor = 1.2

    /// Whether to elect a leader before running the main loop (`--leader-elect`).
    public var leaderElect = true
    /// How long a standby waits after it last saw the lease change before taking it over.
    public var leaseDuration: Duration = .seconds(15)
    /// How long the leader keeps trying to renew before it stops leading; shorter than `leaseDuration`
    /// so it stops before anyone else may start.
    public var renewDeadline: Duration = .seconds(10)
    /// The wait between attempts to acquire or renew.
    public var retryPeriod: Duration = .seconds(2)
    /// The lock type (`leases`; the removed upstream types are mapped to it).
    public var resourceLock = ResourceLockType.leases
    /// The lock object's name: the component's name by default (`kube-scheduler`, …).
    public var resourceName: String
    /// The lock object's namespace.
    public var resourceNamespace = "kube-system"

    /// Upstream's defaults, for the component whose lock is named `resourceName`.
    public init(resourceName: String) {
        self.resourceName = resourceName
    }

    /// The `--leader-elect*` flags, to add to a component's `FlagSet` definitions.
    public static func flagDefinitions(resourceName: String) -> [FlagDefinition] {
        let defaults = LeaderElectionConfiguration(resourceName: resourceName)
        return [
            FlagDefinition(
                "leader-elect", bool: true, default: "true",
                usage: "Win a leader election before running the main loop; for replicated components."),
            FlagDefinition(
                "leader-elect-lease-duration", default: "15s",
                usage: "How long standbys wait after last seeing the lease renewed before taking it over."),
            FlagDefinition(
                "leader-elect-renew-deadline", default: "10s",
                usage: "How long the leader retries renewing before it stops leading; less than the lease duration."),
            FlagDefinition(
                "leader-elect-retry-period", default: "2s",
                usage: "The wait between attempts to acquire or renew the lease."),
            FlagDefinition(
                "leader-elect-resource-lock", default: defaults.resourceLock,
                usage: "The lock object's type; 'leases' (older types are mapped to it)."),
            FlagDefinition(
                "leader-elect-resource-name", default: defaults.resourceName,
                usage: "The name of the lock object."),
            FlagDefinition(
                "leader-elect-resource-namespace", default: defaults.resourceNamespace,
                usage: "The namespace of the lock object."),
        ]
    }

    /// The configuration the parsed `flags` give (their defaults where not given), validated;
    /// `resourceName` names the lock only if the flag set does not declare `--leader-elect-resource-name`.
    public init(flags: FlagSet, resourceName: String) throws(FlagError) {
        self.init(resourceName: resourceName)
        leaderElect = flags.bool("leader-elect")
        leaseDuration = try Self.duration(flags, "leader-elect-lease-duration")
        renewDeadline = try Self.duration(flags, "leader-elect-renew-deadline")
        retryPeriod = try Self.duration(flags, "leader-elect-retry-period")
        resourceLock = flags.string("leader-elect-resource-lock")
        if flags.definitions.contains(where: { $0.name == "leader-elect-resource-name" }) {
            self.resourceName = flags.string("leader-elect-resource-name")
        }
        resourceNamespace = flags.string("leader-elect-resource-namespace")
        let problems = validate()
        if !problems.isEmpty { throw FlagError(message: problems.joined(separator: ", ")) }
    }

    private static func duration(_ flags: FlagSet, _ name: String) throws(FlagError) -> Duration {
        try flags.duration(name)
    }

    /// Upstream's checks, with its field names and words: the component config's validation plus the
    /// elector's own rule that the renew deadline exceed the retry period stretched by the jitter factor.
    /// Empty when valid or when leader election is off.
    public func validate() -> [String] {
        guard leaderElect else { return [] }
        var problems: [String] = []
        func invalid(_ field: String, _ value: String, _ detail: String) {
            problems.append("leaderElection.\(field): Invalid value: \"\(value)\": \(detail)")
        }
        if leaseDuration <= .zero {
            invalid("leaseDuration", Self.goString(leaseDuration), "must be greater than zero")
        }
        if renewDeadline <= .zero {
            invalid("renewDeadline", Self.goString(renewDeadline), "must be greater than zero")
        }
        if retryPeriod <= .zero { invalid("retryPeriod", Self.goString(retryPeriod), "must be greater than zero") }
        if leaseDuration <= renewDeadline {
            invalid("leaseDuration", Self.goString(renewDeadline), "LeaseDuration must be greater than RenewDeadline")
        }
        if renewDeadline.fractionalSeconds <= Self.jitterFactor * retryPeriod.fractionalSeconds {
            problems.append("renewDeadline must be greater than retryPeriod*JitterFactor")
        }
        if resourceLock.isEmpty { invalid("resourceLock", resourceLock, "resourceLock is required") }
        if resourceName.isEmpty { invalid("resourceName", resourceName, "resourceName is required") }
        if resourceNamespace.isEmpty {
            invalid("resourceNamespace", resourceNamespace, "resourceNamespace is required")
        }
        return problems
    }

    /// A duration as Go prints one in these messages (`15s`, `1.5s`).
    private static func goString(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return attoseconds == 0 ? "\(seconds)s" : "\(duration.fractionalSeconds)s"
    }
}
