import APIMachinery
import NIOConcurrencyHelpers

/// The audit event of the request being served, reachable from anywhere on its path through a task-local,
/// so later stages can annotate it without new parameters. Authorization records its verdict here:
///
///     AuditContext.current?.annotate("authorization.k8s.io/decision", "allow")
///     AuditContext.current?.annotate("authorization.k8s.io/reason", reason)
public final class AuditContext: Sendable {
    @TaskLocal public static var current: AuditContext?

    /// The request's audit ID, also sent back as the `Audit-Id` header.
    public let auditID: String
    /// The level the policy chose; None when the request is not audited.
    public let level: AuditLevel
    private let annotationsBox = NIOLockedValueBox<[(key: String, value: String)]>([])
    private let impersonatedBox = NIOLockedValueBox<UserInfo?>(nil)

    init(auditID: String, level: AuditLevel) {
        self.auditID = auditID
        self.level = level
    }

    /// Adds an annotation to the request's events. As upstream, the first value for a key stays.
    public func annotate(_ key: String, _ value: String) {
        annotationsBox.withLockedValue { annotations in
            guard !annotations.contains(where: { $0.key == key }) else { return }
            annotations.append((key, value))
        }
    }

    var annotations: [(key: String, value: String)] { annotationsBox.withLockedValue { $0 } }

    /// The user the request acts as after impersonation; the events keep the authenticated user as `user`.
    var impersonatedUser: UserInfo? {
        get { impersonatedBox.withLockedValue { $0 } }
        set { impersonatedBox.withLockedValue { $0 = newValue } }
    }
}
