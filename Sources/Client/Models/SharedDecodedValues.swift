import APIMachinery
import NIOConcurrencyHelpers

/// Nested models shared by their exact source JSON, beside `SharedValues` (which shares by decoded value): the
/// 10,000 pods of one ReplicaSet carry the same container `resources`, the same projected service-account
/// volume and `securityContext: {}`, and each decoded copy would be boxes, maps and quantities of its own.
/// Identical inputs decode to identical models, so sharing by input is exact even where decoded equality is
/// not (a `Quantity`'s `1Gi` equals `1073741824`), and a hit skips decoding. Only boxed models are looked up
/// (`@Boxed` fields: one pointer to share); the table is bounded as `SharedValues`' are, and keeps each
/// entry's source, so it holds at most `capacity` small JSON trees.
enum SharedDecodedValues {
    /// Entries the table keeps at most.
    static let capacity = 2048

    private struct Key: Hashable, Sendable {
        let type: ObjectIdentifier
        let source: ExactJSON
        /// Computed before the table's lock is taken.
        let hash: Int

        init(type: ObjectIdentifier, source: JSON) {
            self.type = type
            self.source = ExactJSON(source)
            var hasher = Hasher()
            hasher.combine(type)
            hasher.combine(self.source)
            hash = hasher.finalize()
        }

        static func == (lhs: Key, rhs: Key) -> Bool {
            lhs.hash == rhs.hash && lhs.type == rhs.type && lhs.source == rhs.source
        }

        func hash(into hasher: inout Hasher) { hasher.combine(hash) }
    }

    private static let boxes = NIOLockedValueBox([Key: any Sendable]())

    /// The boxed model `json` decodes to (through `decode`), shared with earlier decodes of the same source.
    static func boxed<T: ModelValue>(_ json: JSON, decode: () throws(ModelError) -> T?) throws(ModelError) -> Boxed<T> {
        guard case .object = json else { return Boxed(wrappedValue: try decode()) }
        let key = Key(type: ObjectIdentifier(T.self), source: json)
        if let found = boxes.withLockedValue({ $0[key] }) as? Boxed<T> { return found }
        let box = Boxed(wrappedValue: try decode())
        boxes.withLockedValue { table in
            if table.count >= capacity { table.removeAll(keepingCapacity: true) }
            table[key] = box
        }
        return box
    }
}

/// JSON compared by its exact content: strings by their UTF-8 bytes (Swift's `==` is canonical equivalence),
/// integers and doubles apart, object keys in order; what `JSON`'s own `==` (by value) cannot promise.
struct ExactJSON: Hashable, Sendable {
    let json: JSON

    init(_ json: JSON) { self.json = json }

    static func == (lhs: ExactJSON, rhs: ExactJSON) -> Bool { identical(lhs.json, rhs.json) }

    func hash(into hasher: inout Hasher) { Self.hash(json, into: &hasher) }

    private static func identical(_ lhs: JSON, _ rhs: JSON) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.double(let a), .double(let b)): return a.bitPattern == b.bitPattern
        case (.string(let a), .string(let b)): return sameBytes(a, b)
        case (.array(let a), .array(let b)): return a.count == b.count && zip(a, b).allSatisfy(identical)
        case (.object(let a), .object(let b)):
            return a.count == b.count
                && zip(a.entries, b.entries).allSatisfy {
                    sameBytes($0.key, $1.key) && identical($0.value, $1.value)
                }
        default: return false
        }
    }

    /// Byte equality of two strings' UTF-8, compared as buffers: iterating the views compared byte by byte.
    private static func sameBytes(_ lhs: String, _ rhs: String) -> Bool {
        guard lhs.utf8.count == rhs.utf8.count else { return false }
        var lhs = lhs
        var rhs = rhs
        return lhs.withUTF8 { left in rhs.withUTF8 { right in left.elementsEqual(right) } }
    }

    private static func hash(_ json: JSON, into hasher: inout Hasher) {
        switch json {
        case .null: hasher.combine(0)
        case .bool(let value): hasher.combine(value)
        case .int(let value): hasher.combine(value)
        case .double(let value): hasher.combine(value.bitPattern)
        case .string(let value): hasher.combine(value)
        case .array(let items):
            hasher.combine(items.count)
            for item in items { hash(item, into: &hasher) }
        case .object(let object):
            hasher.combine(object.count)
            for entry in object.entries {
                hasher.combine(entry.key)
                hash(entry.value, into: &hasher)
            }
        }
    }
}
