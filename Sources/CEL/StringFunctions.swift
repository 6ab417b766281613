/// The string functions: the standard library's `contains`, `startsWith`, `endsWith`, and the
/// Kubernetes strings library (cel-go's strings extension). Indexes count code points, as upstream's.
enum StringFunctions {
    static func call(_ function: Function, _ receiver: String, _ args: [CELValue]) throws(CELError) -> CELValue {
        let s = Array(receiver.unicodeScalars)
        switch (function, args.count) {
        case (.contains, 1):
            return .bool(find(try scalars(args[0]), in: s, from: 0) != nil)
        case (.startsWith, 1):
            return .bool(s.starts(with: try scalars(args[0])))
        case (.endsWith, 1):
            let suffix = try scalars(args[0])
            return .bool(suffix.count <= s.count && Array(s[(s.count - suffix.count)...]) == suffix)
        case (.lowerAscii, 0):
            return .string(text(s.map { ("A"..."Z").contains($0) ? Unicode.Scalar($0.value + 32) ?? $0 : $0 }))
        case (.upperAscii, 0):
            return .string(text(s.map { ("a"..."z").contains($0) ? Unicode.Scalar($0.value - 32) ?? $0 : $0 }))
        case (.trim, 0):
            guard let first = s.firstIndex(where: { !$0.properties.isWhitespace }),
                let last = s.lastIndex(where: { !$0.properties.isWhitespace })
            else { return .string("") }
            return .string(text(Array(s[first...last])))
        case (.charAt, 1):
            let index = try integer(args[0])
            guard index >= 0, index <= s.count else { throw .evaluation("index out of range: \(index)") }
            return .string(index == s.count ? "" : text([s[Int(index)]]))
        case (.indexOf, 1), (.indexOf, 2):
            let needle = try scalars(args[0])
            let offset = args.count == 2 ? try integer(args[1]) : 0
            guard offset >= 0, offset <= s.count else { throw .evaluation("index out of range: \(offset)") }
            return .int(find(needle, in: s, from: Int(offset)).map { Int64($0) } ?? -1)
        case (.lastIndexOf, 1), (.lastIndexOf, 2):
            let needle = try scalars(args[0])
            let offset = args.count == 2 ? try integer(args[1]) : Int64(s.count)
            guard offset >= 0, offset <= s.count else { throw .evaluation("index out of range: \(offset)") }
            var start = min(Int(offset), s.count - needle.count)
            while start >= 0 {
                if Array(s[start..<(start + needle.count)]) == needle { return .int(Int64(start)) }
                start -= 1
            }
            return .int(-1)
        case (.substring, 1), (.substring, 2):
            let start = try integer(args[0])
            let end = args.count == 2 ? try integer(args[1]) : Int64(s.count)
            guard start >= 0, start <= s.count else { throw .evaluation("index out of range: \(start)") }
            guard end >= 0, end <= s.count else { throw .evaluation("index out of range: \(end)") }
            guard start <= end else { throw .evaluation("invalid substring range. start: \(start), end: \(end)") }
            return .string(text(Array(s[Int(start)..<Int(end)])))
        case (.replace, 2), (.replace, 3):
            let limit = args.count == 3 ? try integer(args[2]) : -1
            return .string(replace(s, try scalars(args[0]), with: try scalars(args[1]), limit: limit))
        case (.split, 1), (.split, 2):
            let limit = args.count == 2 ? try integer(args[1]) : -1
            return .list(split(s, by: try scalars(args[0]), limit: limit).map { .string(text($0)) })
        default:
            throw .noSuchOverload
        }
    }

    /// `list.join()` and `list.join(separator)` over a list of strings.
    static func join(_ list: [CELValue], _ args: [CELValue]) throws(CELError) -> CELValue {
        guard args.count <= 1 else { throw .noSuchOverload }
        let separator = args.isEmpty ? "" : try string(args[0])
        var parts: [String] = []
        for item in list {
            guard case .string(let part) = item else { throw .noSuchOverload }
            parts.append(part)
        }
        return .string(parts.joined(separator: separator))
    }

    static func string(_ value: CELValue) throws(CELError) -> String {
        guard case .string(let s) = value else { throw .noSuchOverload }
        return s
    }

    private static func scalars(_ value: CELValue) throws(CELError) -> [Unicode.Scalar] {
        Array(try string(value).unicodeScalars)
    }

    static func integer(_ value: CELValue) throws(CELError) -> Int64 {
        guard case .int(let i) = value else { throw .noSuchOverload }
        return i
    }

    private static func text(_ scalars: [Unicode.Scalar]) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    private static func find(_ needle: [Unicode.Scalar], in s: [Unicode.Scalar], from start: Int) -> Int? {
        if needle.isEmpty { return start }
        guard needle.count <= s.count - start else { return nil }
        for i in start...(s.count - needle.count) where s[i] == needle[0] {
            if s[i..<(i + needle.count)].elementsEqual(needle) { return i }
        }
        return nil
    }

    /// Go's `strings.Replace`: at most `limit` replacements (all when negative); an empty `old`
    /// matches before every code point and at the end.
    private static func replace(
        _ s: [Unicode.Scalar], _ old: [Unicode.Scalar], with new: [Unicode.Scalar], limit: Int64
    ) -> String {
        var out: [Unicode.Scalar] = []
        var done: Int64 = 0
        var i = 0
        if old.isEmpty {
            for scalar in s {
                if limit < 0 || done < limit {
                    out += new
                    done += 1
                }
                out.append(scalar)
            }
            if limit < 0 || done < limit { out += new }
            return text(out)
        }
        while i < s.count {
            if limit < 0 || done < limit, let found = find(old, in: s, from: i) {
                out += s[i..<found]
                out += new
                i = found + old.count
                done += 1
            } else {
                out += s[i...]
                break
            }
        }
        return text(out)
    }

    /// Go's `strings.SplitN`: `limit` 0 gives no parts, negative all; an empty separator splits into
    /// code points.
    private static func split(_ s: [Unicode.Scalar], by separator: [Unicode.Scalar], limit: Int64) -> [[Unicode.Scalar]]
    {
        if limit == 0 { return [] }
        if separator.isEmpty {
            var parts = s.map { [$0] }
            if limit > 0, parts.count > Int(limit) {
                let head = parts.prefix(Int(limit) - 1)
                parts = Array(head) + [Array(s[(Int(limit) - 1)...])]
            }
            return parts
        }
        var parts: [[Unicode.Scalar]] = []
        var i = 0
        while limit < 0 || parts.count < Int(limit) - 1, let found = find(separator, in: s, from: i) {
            parts.append(Array(s[i..<found]))
            i = found + separator.count
        }
        parts.append(Array(s[i...]))
        return parts
    }
}
