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
}
