import Foundation
public import Logging

/// What every component's `main` does first, as upstream's cobra commands do: parse the flags (an error is
/// `Error: <message>` on standard error and exit code 1), then set up logging from the guide's shared log flags
/// (`--logtostderr`, `--log-dir`, `--v`).
public enum ComponentCommandLine {
    /// The parsed flags and the component's logger, or nil after printing the parse error.
    public static func start(component: String, definitions: [FlagDefinition], arguments: [String]) -> (
        FlagSet, Logger
    )? {
        var flags = FlagSet(definitions)
        do {
            try flags.parse(arguments)
        } catch {
            FileHandle.standardError.write(Data("Error: \(error.message)\n".utf8))
            return nil
        }
        LogSink.bootstrap(
            component: component, toStderr: flags.bool("logtostderr") || flags.string("log-dir").isEmpty,
            logDirectory: flags.string("log-dir"), verbosity: Int(flags.string("v")) ?? 0)
        return (flags, Logger(label: component))
    }

    /// A leader-elected component's `main`: parses `arguments`, logs the flags that are accepted without
    /// effect, then runs `body` until it returns or SIGTERM/SIGINT cancels it; the exit code.
    public static func main(
        component: String, definitions: [FlagDefinition], arguments: [String],
        body: @escaping @Sendable (FlagSet, Logger) async -> Int32
    ) async -> Int32 {
        guard let (flagSet, logger) = start(component: component, definitions: definitions, arguments: arguments)
        else { return 1 }
        for (name, support) in flagSet.accepted {
            if case .noEffect(let why) = support { logger.info("flag --\(name) is accepted and has no effect: \(why)") }
        }
        let task = Task { await body(flagSet, logger) }
        let signals = SignalWatcher {
            SystemdNotify.stopping()
            task.cancel()
        }
        defer { signals.cancel() }
        return await task.value
    }

    /// Runs a component inside another process (`kubeswift up`) until the task is cancelled; the exit code.
    public static func embedded(
        definitions: [FlagDefinition], arguments: [String], logger: Logger,
        body: (FlagSet, Logger) async -> Int32
    ) async -> Int32 {
        var flagSet = FlagSet(definitions)
        do {
            try flagSet.parse(arguments)
        } catch {
            logger.critical("\(error.message)")
            return 1
        }
        return await body(flagSet, logger)
    }
}
