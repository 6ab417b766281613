import NIOConcurrencyHelpers

/// A bearer token its owner replaces while clients use it: the token of a TokenRequest that is renewed before it
/// expires (client-go's dynamic controller client builder). Equal only to itself.
public final class DynamicToken: Sendable, Hashable {
    private let current: NIOLockedValueBox<String?>

    public init(_ token: String? = nil) {
        current = NIOLockedValueBox(token)
    }

    /// The token requests carry now; nil sends none.
    public var value: String? { current.withLockedValue { $0 } }

    /// Replaces the token; requests sent from now on carry `token`.
    public func set(_ token: String) { current.withLockedValue { $0 = token } }

    public static func == (lhs: DynamicToken, rhs: DynamicToken) -> Bool { lhs === rhs }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
