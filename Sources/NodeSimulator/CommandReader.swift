import Foundation

/// What a simulated container does once started: exit after a while with a code, or run until stopped.
public enum ContainerBehaviour: Sendable, Hashable {
    /// Exits `after` its start with `code` (0: success).
    case exits(after: Duration, code: Int32)
    /// Runs until the pod is deleted or the container is killed (a server, `sleep infinity`, an unknown command).
    case runsUntilStopped
}

/// Reads what a container would do from its command and arguments, so ordinary manifests behave as users expect
/// without running anything: `sleep N`, `true`, `false`, `exit N` and `sh -c` scripts made of those (with `;`,
/// `&&` and harmless commands such as `echo`); whatever else runs until stopped.
public enum CommandReader {
    /// The behaviour of a container whose effective command line is `command + args` (empty: the image's own
    /// entrypoint, which is taken to be a server).
    public static func behaviour(command: [String], args: [String]) -> ContainerBehaviour {
        let argv = command + args
        guard let program = argv.first else { return .runsUntilStopped }
        if Self.shells.contains(basename(program)), argv.count >= 3, isCommandFlag(argv[1]) {
            return script(argv[2])
        }
        var run = Run()
        run.execute(argv, separator: .sequence)
        return run.result
    }

    /// The behaviour of a shell script: statements separated by newlines, `;` and `&&`; a `||` or a pipe, whose
    /// outcome depends on output, is beyond this reader and runs until stopped.
    public static func script(_ text: String) -> ContainerBehaviour {
        guard !text.contains("||"), !text.contains("|"), !text.contains("`"), !text.contains("$(") else {
            return .runsUntilStopped
        }
        var run = Run()
        for (words, separator) in statements(text) {
            run.execute(words, separator: separator)
            if run.finished { break }
        }
        return run.result
    }

    static let shells: Set<String> = ["sh", "bash", "ash", "dash", "zsh"]

    /// `-c`, or a cluster of short flags ending in it such as `-ec` or `-xc`.
    static func isCommandFlag(_ flag: String) -> Bool {
        flag.hasPrefix("-") && !flag.hasPrefix("--") && flag.hasSuffix("c")
    }

    static func basename(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// How a statement is joined to the one before it.
    enum Separator: Sendable {
        /// `;` or a newline: runs whatever the previous status.
        case sequence
        /// `&&`: runs only if the previous statement succeeded.
        case and
    }

    /// The script's statements as words, each with the separator before it.
    static func statements(_ text: String) -> [(words: [String], separator: Separator)] {
        var result: [(words: [String], separator: Separator)] = []
        var separator = Separator.sequence
        var current = ""
        var characters = Array(text)[...]
        func flush(next: Separator) {
            let words = words(current)
            if !words.isEmpty { result.append((words, separator)) }
            current = ""
            separator = next
        }
        while let character = characters.popFirst() {
            switch character {
            case ";", "\n":
                flush(next: .sequence)
            case "&" where characters.first == "&":
                characters.removeFirst()
                flush(next: .and)
            default:
                current.append(character)
            }
        }
        flush(next: .sequence)
        return result
    }

    /// Splits a statement into words, dropping simple quotes.
    static func words(_ statement: String) -> [String] {
        statement.split(whereSeparator: { $0 == " " || $0 == "\t" }).map {
            String($0).trimmingCharacters(in: ["\"", "'"])
        }
    }

    /// GNU sleep's operands: numbers with an optional `s`, `m`, `h` or `d` suffix, summed; nil when missing or
    /// unreadable.
    static func sleepDuration(_ operands: [String]) -> Duration? {
        guard !operands.isEmpty else { return nil }
        var total = 0.0
        for operand in operands {
            var number = Substring(operand)
            var unit = 1.0
            switch number.last {
            case "s": number = number.dropLast()
            case "m": (number, unit) = (number.dropLast(), 60)
            case "h": (number, unit) = (number.dropLast(), 3_600)
            case "d": (number, unit) = (number.dropLast(), 86_400)
            default: break
            }
            guard let value = Double(number), value.isFinite, value >= 0 else { return nil }
            total += value * unit
        }
        return .milliseconds(Int64((total * 1_000).rounded()))
    }

    /// Commands that finish at once with status 0 and change nothing a simulation can see.
    static let instantCommands: Set<String> = [
        "echo", "printf", "date", "env", "hostname", "id", "ls", "pwd", "touch", "mkdir", "rm", "cp", "mv", "cat",
        "set", "export", "whoami", "uname", "sync", "chmod", "chown", "ln", ":",
    ]

    /// A script being read: time spent so far and the last status, until an `exit` or a command it cannot
    /// predict.
    struct Run {
        var elapsed = Duration.zero
        var status: Int32 = 0
        var forever = false
        var exited = false

        var finished: Bool { forever || exited }

        var result: ContainerBehaviour {
            forever ? .runsUntilStopped : .exits(after: elapsed, code: status)
        }

        mutating func execute(_ words: [String], separator: Separator) {
            guard !finished, let program = words.first.map(CommandReader.basename) else { return }
            if separator == .and && status != 0 { return }
            let operands = Array(words.dropFirst())
            switch program {
            case "sleep":
                if operands.contains(where: { $0.hasPrefix("inf") }) {
                    forever = true
                } else if let duration = CommandReader.sleepDuration(operands) {
                    elapsed += duration
                    status = 0
                } else {
                    // GNU sleep refuses a missing or invalid interval at once.
                    status = 1
                }
            case "true":
                status = 0
            case "false":
                status = 1
            case "exit":
                if let operand = operands.first {
                    // The shell keeps the low byte, as the kernel reports it.
                    status = Int32(truncatingIfNeeded: UInt8(truncatingIfNeeded: Int(operand) ?? 2))
                }
                exited = true
            case "exec":
                execute(operands, separator: .sequence)
            default:
                if CommandReader.instantCommands.contains(program) {
                    status = 0
                } else {
                    forever = true
                }
            }
        }
    }
}
