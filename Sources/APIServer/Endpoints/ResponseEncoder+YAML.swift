import APIMachinery
import Yams

/// `application/yaml` responses as upstream writes them (its JSON serializer's YAML mode, sigs.k8s.io/yaml's
/// `JSONToYAML` over go-yaml v2): mapping keys in go-yaml's natural order, two-space indentation with sequences
/// not indented under their key, no line wrapping, strings that would read back as another type double-quoted,
/// strings with line breaks as literal blocks, and empty collections as `{}` and `[]`.
enum YAMLResponse {
    static let contentType = "application/yaml"

    static func encode(_ value: JSON) -> [UInt8] {
        // Serializing a tree of plain scalars, sequences and mappings cannot fail; JSON is the safe fallback.
        guard let text = try? Yams.serialize(node: node(value), indent: 2, width: -1, allowUnicode: true) else {
            return value.encoded()
        }
        return Array(text.utf8)
    }

    private static func node(_ value: JSON) -> Node {
        switch value {
        case .null: return .scalar(.init("null", Tag(.null)))
        case .bool(let flag): return .scalar(.init(flag ? "true" : "false", Tag(.bool)))
        case .int(let number): return .scalar(.init(String(number), Tag(.int)))
        case .double(let number): return .scalar(.init(GoFormat.float(number), Tag(.float)))
        case .string(let text): return .scalar(.init(text, Tag(.str), style(text)))
        case .array(let items):
            return .sequence(.init(items.map(node), Tag(.seq), items.isEmpty ? .flow : .block))
        case .object(let object):
            let pairs = object.entries.sorted { goYAMLKeyLess($0.key, $1.key) }.map {
                (Node.scalar(.init($0.key, Tag(.str), style($0.key))), node($0.value))
            }
            return .mapping(.init(pairs, Tag(.map), pairs.isEmpty ? .flow : .block))
        }
    }

    /// Double quotes for what a plain scalar would turn into another type (`"true"`, `"1"`, `""`), a literal
    /// block for text with line breaks, else whatever libyaml finds safe.
    private static func style(_ text: String) -> Node.Scalar.Style {
        if text.contains("\n") { return .literal }
        let plain = Node.scalar(.init(text))
        return Resolver.default.resolveTag(of: plain) == .str ? .any : .doubleQuoted
    }

    /// go-yaml v2's key order: at the first difference, letters compare by code point and sort after anything
    /// else, and digits compare as the numbers their runs spell from there, so `item2` sorts before `item10`.
    static func goYAMLKeyLess(_ lhs: String, _ rhs: String) -> Bool {
        let a = Array(lhs.unicodeScalars)
        let b = Array(rhs.unicodeScalars)
        guard let index = a.indices.first(where: { $0 < b.count && a[$0] != b[$0] }) else { return a.count < b.count }
        let aLetter = a[index].properties.isAlphabetic
        let bLetter = b[index].properties.isAlphabetic
        if aLetter && bLetter { return a[index].value < b[index].value }
        if aLetter || bLetter { return bLetter }
        func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }
        // A zero that continues a nonzero number counts as part of it (`10` against `1a`).
        let seed: Int64 =
            (a[index] == "0" || b[index] == "0") && a[..<index].reversed().prefix(while: isDigit).contains { $0 != "0" }
            ? 1 : 0
        func number(_ scalars: [Unicode.Scalar]) -> (value: Int64, end: Int) {
            var value = seed
            var end = index
            while end < scalars.count, isDigit(scalars[end]) {
                value = value &* 10 &+ Int64(scalars[end].value - 48)
                end += 1
            }
            return (value, end)
        }
        let (aNumber, bNumber) = (number(a), number(b))
        if aNumber.value != bNumber.value { return aNumber.value < bNumber.value }
        if aNumber.end != bNumber.end { return aNumber.end < bNumber.end }
        return a[index].value < b[index].value
    }
}
