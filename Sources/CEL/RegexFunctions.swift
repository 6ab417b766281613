import Foundation

/// Regular expressions for `matches`, `find` and `findAll`. CEL specifies RE2; Foundation's ICU engine
/// accepts RE2's common syntax (Go's `(?P<name>…)` groups are rewritten to ICU's `(?<name>…)`), and
/// like RE2 a match may start anywhere unless the pattern anchors it.
struct RegexFunctions {
    private let expression: NSRegularExpression

    static func compile(_ pattern: String) throws(CELError) -> RegexFunctions {
        let translated = pattern.replacingOccurrences(of: "(?P<", with: "(?<")
        do {
            return RegexFunctions(expression: try NSRegularExpression(pattern: translated))
        } catch {
            throw .evaluation("error parsing regexp: invalid or unsupported Perl syntax: `\(pattern)`")
        }
    }

    /// `matches`, `find` and `findAll` on `text`; `args` are what follows the pattern.
    func call(_ function: Function, _ text: String, _ args: [CELValue]) throws(CELError) -> CELValue {
        switch (function, args.count) {
        case (.matches, 0): return .bool(matches(text))
        case (.find, 0): return .string(find(text, limit: 1).first ?? "")
        case (.findAll, 0), (.findAll, 1):
            let limit = args.isEmpty ? -1 : try StringFunctions.integer(args[0])
            if limit == 0 { return .list([]) }
            return .list(find(text, limit: Int(clamping: limit)).map { .string($0) })
        default: throw .noSuchOverload
        }
    }

    func matches(_ text: String) -> Bool {
        expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// Up to `limit` non-overlapping matches (all when negative), as Go's `FindAllString`.
    func find(_ text: String, limit: Int) -> [String] {
        var found: [String] = []
        let range = NSRange(text.startIndex..., in: text)
        for match in expression.matches(in: text, range: range) {
            if limit >= 0 && found.count >= limit { break }
            if let matched = Range(match.range, in: text) { found.append(String(text[matched])) }
        }
        return found
    }
}
