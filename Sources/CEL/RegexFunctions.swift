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
