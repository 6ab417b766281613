/// What the server does with a flag it accepts.
public enum FlagSupport: Sendable, Equatable {
    case implemented
    /// Accepted for compatibility with older guides; it changes nothing here.
    case noEffect(String)
    /// Accepted and logged until the named work lands.
    case notImplementedYet(String)
}

/// One declared flag.
public struct FlagDefinition: Sendable {
    public var name: String
    public var aliases: [String]
    public var isBool: Bool
    public var defaultValue: String
    public var support: FlagSupport
    public var usage: String

    public init(
        _ name: String, aliases: [String] = [], bool: Bool = false, default defaultValue: String = "",
        support: FlagSupport = .implemented, usage: String = ""
    ) {
        self.name = name
        self.aliases = aliases
        self.isBool = bool
        self.defaultValue = defaultValue
        self.support = support
        self.usage = usage
    }
}

/// A parse failure with upstream's wording (`unknown flag: --foo`).
public struct FlagError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }

    public init(message: String) { self.message = message }
}

/// pflag-style parsing as Kubernetes components do it: `--f=v`, `--f v`, bare `--f` for booleans,
/// `--f=true`; unknown flags are errors that name the flag.
public struct FlagSet: Sendable {
    public let definitions: [FlagDefinition]
    private var byName: [String: Int] = [:]
    /// Values given on the command line, by canonical name; repeated flags keep every value.
    public private(set) var given: [String: [String]] = [:]
    /// Arguments that are not flags.
    public private(set) var positional: [String] = []

    public init(_ definitions: [FlagDefinition]) {
        self.definitions = definitions
        for (index, definition) in definitions.enumerated() {
            byName[definition.name] = index
            for alias in definition.aliases { byName[alias] = index }
        }
    }

    public mutating func parse(_ arguments: [String]) throws(FlagError) {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                positional += arguments[index...]
                break
            }
            guard argument.hasPrefix("-"), argument.count > 1 else {
                positional.append(argument)
                continue
            }
            let body = argument.hasPrefix("--") ? argument.dropFirst(2) : argument.dropFirst(1)
            let name: String
            var value: String?
            if let equals = body.firstIndex(of: "=") {
                name = String(body[..<equals])
                value = String(body[body.index(after: equals)...])
            } else {
                name = String(body)
            }
            guard let position = byName[name] else {
                throw FlagError(
                    message: argument.hasPrefix("--")
                        ? "unknown flag: --\(name)" : "unknown shorthand flag: '\(name.prefix(1))' in \(argument)")
            }
            let definition = definitions[position]
            if value == nil {
                if definition.isBool {
                    value = "true"
                } else {
                    guard index < arguments.count else {
                        throw FlagError(message: "flag needs an argument: --\(name)")
                    }
                    value = arguments[index]
                    index += 1
                }
            }
            let text = value ?? ""
            if definition.isBool, Self.parseBool(text) == nil {
                throw FlagError(
                    message:
                        "invalid argument \"\(text)\" for \"--\(name)\" flag: strconv.ParseBool: parsing \"\(text)\": invalid syntax"
                )
            }
            given[definition.name, default: []].append(text)
        }
    }

    /// Go's `strconv.ParseBool`, which pflag's booleans and `--feature-gates` values go through.
    public static func parseBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "true", "TRUE", "True": return true
        case "0", "f", "F", "false", "FALSE", "False": return false
        default: return nil
        }
    }

    public func isSet(_ name: String) -> Bool { given[name] != nil }

    public func string(_ name: String) -> String {
        if let value = given[name]?.last { return value }
        return definitions.first { $0.name == name }?.defaultValue ?? ""
    }

    public func bool(_ name: String) -> Bool { Self.parseBool(string(name)) ?? false }

    public func int(_ name: String) throws(FlagError) -> Int {
        let text = string(name)
        guard let value = Int(text) else {
            throw FlagError(
                message:
                    "invalid argument \"\(text)\" for \"--\(name)\" flag: strconv.ParseInt: parsing \"\(text)\": invalid syntax"
            )
        }
        return value
    }

    /// A Go duration (`40s`, `5m0s`, `-1s`), refused with pflag's message naming the flag and the value.
    public func duration(_ name: String) throws(FlagError) -> Duration {
        let text = string(name)
        let negative = text.hasPrefix("-")
        guard let value = GoDuration.parse(negative ? String(text.dropFirst()) : text) else {
            throw FlagError(
                message: "invalid argument \"\(text)\" for \"--\(name)\" flag: time: invalid duration \"\(text)\"")
        }
        return negative ? .zero - value : value
    }

    /// Comma-separated lists, also accumulated over repeated flags.
    public func list(_ name: String) -> [String] {
        let values = given[name] ?? [definitions.first { $0.name == name }?.defaultValue ?? ""]
        return values.flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters() } }.filter {
            !$0.isEmpty
        }
    }

    /// Flags that were given but do nothing yet or any more, for a start-up log line each.
    public var accepted: [(name: String, support: FlagSupport)] {
        definitions.filter { given[$0.name] != nil && $0.support != .implemented }.map { ($0.name, $0.support) }
    }
}

extension String {
    func trimmingCharacters() -> String {
        var slice = Substring(self)
        while slice.first?.isWhitespace == true { slice.removeFirst() }
        while slice.last?.isWhitespace == true { slice.removeLast() }
        return String(slice)
    }
}
