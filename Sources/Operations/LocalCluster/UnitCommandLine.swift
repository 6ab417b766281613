/// What systemd would run for a rendered unit: its `ExecStart=` with the variables expanded from the unit's
/// `EnvironmentFile=`s, so a local cluster starts each process with exactly the flags `kubeswift render` writes.
public enum UnitCommandLine {
    /// The variables of an EnvironmentFile: `NAME="value"` (or unquoted) lines; comments and blank lines skipped.
    public static func environment(_ text: String) -> [String: String] {
        var variables: [String: String] = [:]
        for rawLine in text.split(separator: "\n") {
            let line = rawLine.trimmingPrefix(while: { $0 == " " || $0 == "\t" })
            guard !line.hasPrefix("#"), !line.hasPrefix(";"), let equals = line.firstIndex(of: "=") else { continue }
            let name = String(line[..<equals]).trimmingSuffix(while: { $0 == " " })
            var value = Substring(line[line.index(after: equals)...])
            if value.count >= 2, let quote = value.first, quote == "\"" || quote == "'", value.last == quote {
                value = value.dropFirst().dropLast()
            }
            variables[name] = String(value)
        }
        return variables
    }

    /// The argument vector of `unit`'s `ExecStart=`, executable first. `files` maps absolute paths to contents:
    /// an `EnvironmentFile=-path` that is missing is skipped and one without `-` is an error, as in systemd.
    /// `$NAME` expands to the value's whitespace-separated words and `${NAME}` to one word, as systemd does.
    public static func arguments(unit: String, files: [String: String]) throws(UnitCommandLineError) -> [String] {
        var variables: [String: String] = [:]
        var command: String?
        // Continuation lines end in a backslash; systemd joins them before reading the setting.
        let joined = unit.replacing("\\\n", with: " ")
        for rawLine in joined.split(separator: "\n") {
            let line = rawLine.trimmingPrefix(while: { $0 == " " || $0 == "\t" })
            if line.hasPrefix("EnvironmentFile=") {
                var path = String(line.dropFirst("EnvironmentFile=".count))
                let optional = path.hasPrefix("-")
                if optional { path.removeFirst() }
                guard let text = files[path] else {
                    if optional { continue }
                    throw UnitCommandLineError("EnvironmentFile \(path) is missing")
                }
                variables.merge(environment(text)) { _, later in later }
            } else if line.hasPrefix("ExecStart=") {
                command = String(line.dropFirst("ExecStart=".count))
            }
        }
        guard let command else { throw UnitCommandLineError("the unit has no ExecStart=") }
        var arguments: [String] = []
        for word in command.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            if word.hasPrefix("${"), word.hasSuffix("}") {
                let name = String(word.dropFirst(2).dropLast())
                if let value = variables[name] { arguments.append(value) }
            } else if word.hasPrefix("$") {
                let value = variables[String(word.dropFirst())] ?? ""
                arguments += value.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            } else {
                arguments.append(String(word))
            }
        }
        guard !arguments.isEmpty else { throw UnitCommandLineError("ExecStart= is empty") }
        return arguments
    }
}

/// A unit whose command line cannot be built.
public struct UnitCommandLineError: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension StringProtocol {
    fileprivate func trimmingSuffix(while predicate: (Character) -> Bool) -> String {
        var text = String(self)
        while let last = text.last, predicate(last) { text.removeLast() }
        return text
    }
}
