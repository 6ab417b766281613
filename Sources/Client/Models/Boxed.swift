/// An optional nested model held behind one shared, immutable heap box, so that an absent value costs a pointer
/// and a present one its size once however often the enclosing struct is copied. The generated models wrap
/// every optional nested struct in it: Swift otherwise stores such structs inline, and a `Container` with its
/// probes, lifecycle and security context inline would be kilobytes even when all of them are nil.
@propertyWrapper
public struct Boxed<Wrapped: Sendable & Hashable>: Sendable, Hashable {
    /// Never mutated: a write makes a new box, so copies sharing one stay values.
    private final class Storage: Sendable {
        let value: Wrapped
        init(_ value: Wrapped) { self.value = value }
    }

    private var storage: Storage?

    public init(wrappedValue: Wrapped?) {
        storage = wrappedValue.map(Storage.init)
    }

    public var wrappedValue: Wrapped? {
        get { storage?.value }
        set { storage = newValue.map(Storage.init) }
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        if lhs.storage === rhs.storage { return true }
        return lhs.wrappedValue == rhs.wrappedValue
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(wrappedValue)
    }
}
