/// What a plugin says about a pod at one extension point, as upstream's `framework.Status`.
public struct PluginStatus: Sendable, Hashable, CustomStringConvertible {
    /// Upstream's status codes; only `unschedulableAndUnresolvable` tells preemption not to try a node.
    public enum Code: Sendable, Hashable {
        case success
        case error
        case unschedulable
        case unschedulableAndUnresolvable
        case wait
        case skip
        case pending
    }

    public var code: Code
    /// Human-readable reasons; the scheduler counts them across nodes for the FailedScheduling message.
    public var reasons: [String]
    /// The plugin that gave this status (set by the framework when it runs the plugin).
    public var plugin: String

    public init(_ code: Code, _ reasons: [String] = [], plugin: String = "") {
        self.code = code
        self.reasons = reasons
        self.plugin = plugin
    }

    public static let success = PluginStatus(.success)
    public static let skip = PluginStatus(.skip)

    /// An unschedulable status with one reason.
    public static func unschedulable(_ reason: String) -> PluginStatus { PluginStatus(.unschedulable, [reason]) }
    /// A status preemption cannot change (removing pods from the node would not help).
    public static func unresolvable(_ reason: String) -> PluginStatus {
        PluginStatus(.unschedulableAndUnresolvable, [reason])
    }
    public static func error(_ message: String) -> PluginStatus { PluginStatus(.error, [message]) }

    public var isSuccess: Bool { code == .success }
    public var isRejected: Bool { code == .unschedulable || code == .unschedulableAndUnresolvable || code == .pending }

    public var description: String {
        reasons.isEmpty ? "\(code)" : reasons.joined(separator: ", ")
    }

    func by(_ plugin: String) -> PluginStatus {
        var status = self
        status.plugin = plugin
        return status
    }
}
