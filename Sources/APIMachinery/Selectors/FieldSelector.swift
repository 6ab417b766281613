import Foundation

/// A parsed field selector (`spec.nodeName=n1,status.phase!=Running`); only equality terms exist upstream.
public struct FieldSelector: Sendable, Equatable, CustomStringConvertible {
    /// One term: a field compared with a value.
    public struct Term: Sendable, Equatable {
        public var field: String
        public var value: String
        public var equal: Bool

        public init(field: String, value: String, equal: Bool) {
            self.field = field
            self.value = value
            self.equal = equal
        }
    }

    public var terms: [Term]

    public init(terms: [Term] = []) { self.terms = terms }

    public var isEverything: Bool { terms.isEmpty }

    /// Parses the query-string syntax, honouring `\,` `\=` and `\\` escapes in values.
    public init(parsing text: String) throws(APIError) {
        var terms: [Term] = []
        for part in Self.splitUnescaped(text, on: ",") where !part.allSatisfy(\.isWhitespace) {
            let term: Term
            if let range = part.range(of: "!=") {
                term = Term(
                    field: String(part[..<range.lowerBound]), value: String(part[range.upperBound...]), equal: false)
            } else if let range = part.range(of: "==") {
                term = Term(
                    field: String(part[..<range.lowerBound]), value: String(part[range.upperBound...]), equal: true)
            } else if let range = part.range(of: "=") {
                term = Term(
                    field: String(part[..<range.lowerBound]), value: String(part[range.upperBound...]), equal: true)
            } else {
                throw APIError.badRequest("invalid selector: '\(text)'; can't understand '\(part)'")
            }
            terms.append(Term(field: term.field.trimmingSpaces, value: Self.unescape(term.value), equal: term.equal))
        }
        self.terms = terms
    }

    /// True when every term holds for the object's field values (`fields` gives a field's value).
    public func matches(_ fields: (String) -> String?) -> Bool {
        terms.allSatisfy { term in
            let actual = fields(term.field) ?? ""
            return (actual == term.value) == term.equal
        }
    }

    public var description: String {
        terms.map { "\($0.field)\($0.equal ? "=" : "!=")\($0.value)" }.joined(separator: ",")
    }

    static func splitUnescaped(_ text: String, on separator: Character) -> [String] {
        var parts: [String] = []
        var current = ""
        var escaped = false
        for character in text {
            if escaped {
                current.append("\\")
                current.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == separator {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        if escaped { current.append("\\") }
        parts.append(current)
        return parts
    }

    static func unescape(_ text: String) -> String {
        var result = ""
        var escaped = false
        for character in text {
            if escaped {
                result.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                result.append(character)
            }
        }
        return result
    }
}

extension String {
    /// The string without leading and trailing whitespace (Foundation-free, for hot parsing paths).
    public var trimmingSpaces: String {
        var slice = Substring(self)
        while slice.first?.isWhitespace == true { slice.removeFirst() }
        while slice.last?.isWhitespace == true { slice.removeLast() }
        return String(slice)
    }
}
