/// A parsed label selector (`app=web,tier!=db,env in (a,b),!legacy`), matched against label maps.
public struct LabelSelector: Sendable, Equatable, CustomStringConvertible {
    /// One requirement of a selector; all must hold.
    public enum Requirement: Sendable, Equatable {
        case equals(String, String)
        case notEquals(String, String)
        case `in`(String, [String])
        case notIn(String, [String])
        case exists(String)
        case doesNotExist(String)
        case greaterThan(String, Int64)
        case lessThan(String, Int64)

        func matches(_ labels: [String: String]) -> Bool {
            switch self {
            case .equals(let key, let value): return labels[key] == value
            case .notEquals(let key, let value): return labels[key] != value
            case .in(let key, let values): return labels[key].map(values.contains) ?? false
            case .notIn(let key, let values): return labels[key].map { !values.contains($0) } ?? true
            case .exists(let key): return labels[key] != nil
            case .doesNotExist(let key): return labels[key] == nil
            case .greaterThan(let key, let bound): return labels[key].flatMap { Int64($0) }.map { $0 > bound } ?? false
            case .lessThan(let key, let bound): return labels[key].flatMap { Int64($0) }.map { $0 < bound } ?? false
            }
        }
    }

    public var requirements: [Requirement]

    public init(requirements: [Requirement] = []) { self.requirements = requirements }

    /// The selector that matches everything.
    public static let everything = LabelSelector()

    public var isEverything: Bool { requirements.isEmpty }

    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { $0.matches(labels) }
    }

    public var description: String {
        requirements.map { requirement in
            switch requirement {
            case .equals(let key, let value): return "\(key)=\(value)"
            case .notEquals(let key, let value): return "\(key)!=\(value)"
            case .in(let key, let values): return "\(key) in (\(values.joined(separator: ",")))"
            case .notIn(let key, let values): return "\(key) notin (\(values.joined(separator: ",")))"
            case .exists(let key): return key
            case .doesNotExist(let key): return "!\(key)"
            case .greaterThan(let key, let value): return "\(key)>\(value)"
            case .lessThan(let key, let value): return "\(key)<\(value)"
            }
        }.joined(separator: ",")
    }

    /// Parses the query-string syntax; errors read like upstream's `unable to parse requirement` messages.
    public init(parsing text: String) throws(APIError) {
        var scanner = SelectorScanner(text)
        var requirements: [Requirement] = []
        while true {
            scanner.skipSpace()
            if scanner.atEnd {
                // Only reached at the start (an empty selector) or after a trailing comma.
                if !requirements.isEmpty { throw APIError.badRequest("found '', expected: identifier after ','") }
                break
            }
            requirements.append(try scanner.requirement())
            scanner.skipSpace()
            if scanner.atEnd { break }
            guard scanner.consume(",") else {
                throw APIError.badRequest("found '\(scanner.rest)', expected: ',' or 'end of string'")
            }
        }
        self.requirements = requirements
    }

    /// Builds a selector from a `metav1.LabelSelector` object (matchLabels and matchExpressions).
    public init(object: JSON) throws(APIError) {
        var requirements: [Requirement] = []
        for (key, value) in object["matchLabels"]?.objectValue ?? JSONObject() {
            requirements.append(.equals(key, value.stringValue ?? ""))
        }
        for expression in object["matchExpressions"]?.arrayValue ?? [] {
            let key = expression["key"]?.stringValue ?? ""
            let values = expression["values"]?.arrayValue?.compactMap(\.stringValue) ?? []
            switch expression["operator"]?.stringValue ?? "" {
            case "In": requirements.append(.in(key, values))
            case "NotIn": requirements.append(.notIn(key, values))
            case "Exists": requirements.append(.exists(key))
            case "DoesNotExist": requirements.append(.doesNotExist(key))
            case let other: throw APIError.badRequest("\"\(other)\" is not a valid label selector operator")
            }
        }
        self.requirements = requirements
    }
}

/// A tiny scanner for selector syntax, shared by label and field selectors.
struct SelectorScanner {
    let characters: [Character]
    var index = 0

    init(_ text: String) { characters = Array(text) }

    var atEnd: Bool { index >= characters.count }
    var rest: String { String(characters[min(index, characters.count)...]) }

    mutating func skipSpace() {
        while index < characters.count, characters[index].isWhitespace { index += 1 }
    }

    mutating func consume(_ token: String) -> Bool {
        let tokenCharacters = Array(token)
        guard index + tokenCharacters.count <= characters.count,
            Array(characters[index..<(index + tokenCharacters.count)]) == tokenCharacters
        else { return false }
        index += tokenCharacters.count
        return true
    }

    static func isIdentifierCharacter(_ character: Character) -> Bool {
        !(character.isWhitespace || ",=!()<>".contains(character))
    }

    mutating func identifier() -> String {
        let start = index
        while index < characters.count, Self.isIdentifierCharacter(characters[index]) { index += 1 }
        return String(characters[start..<index])
    }

    mutating func key() throws(APIError) -> String {
        skipSpace()
        let key = identifier()
        guard !key.isEmpty else { throw APIError.badRequest("found '\(rest)', expected: identifier") }
        let problems = NameValidation.qualifiedName(key)
        if let problem = problems.first {
            throw APIError.badRequest("unable to parse requirement: key: Invalid value: \"\(key)\": \(problem)")
        }
        return key
    }

    mutating func value(for key: String) throws(APIError) -> String {
        skipSpace()
        let value = identifier()
        if let problem = NameValidation.labelValue(value).first {
            throw APIError.badRequest(
                "unable to parse requirement: values[0][\(key)]: Invalid value: \"\(value)\": \(problem)")
        }
        return value
    }

    mutating func valueList(for key: String) throws(APIError) -> [String] {
        skipSpace()
        guard consume("(") else { throw APIError.badRequest("found '\(rest)', expected: '('") }
        var values: [String] = []
        while true {
            values.append(try value(for: key))
            skipSpace()
            if consume(")") { return values }
            guard consume(",") else { throw APIError.badRequest("found '\(rest)', expected: ',' or ')'") }
        }
    }

    mutating func requirement() throws(APIError) -> LabelSelector.Requirement {
        skipSpace()
        if consume("!") { return .doesNotExist(try key()) }
        let key = try key()
        skipSpace()
        if atEnd || characters[index] == "," { return .exists(key) }
        if consume("==") || consume("=") { return .equals(key, try value(for: key)) }
        if consume("!=") { return .notEquals(key, try value(for: key)) }
        if consume(">") || consume("<") {
            let greater = characters[index - 1] == ">"
            skipSpace()
            let text = identifier()
            guard let bound = Int64(text) else {
                throw APIError.badRequest(
                    "unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer")
            }
            return greater ? .greaterThan(key, bound) : .lessThan(key, bound)
        }
        let word = identifier()
        switch word {
        case "in": return .in(key, try valueList(for: key))
        case "notin": return .notIn(key, try valueList(for: key))
        default:
            throw APIError.badRequest("found '\(word)', expected: in, notin, =, ==, !=, gt, lt")
        }
    }
}
