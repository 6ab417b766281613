import Component
import Foundation
import Logging

extension APIServerCommand {
    static let featureGateFlags = [
        FlagDefinition(
            "feature-gates",
            usage: "A set of key=value pairs that describe feature gates for alpha/experimental features.")
    ]

    /// The gates this server acts on, from `--feature-gates` (upstream's `Name=bool,…`). Only
    /// APIResponseCompression changes anything here; other gates are accepted and logged, since this server
    /// does not know every upstream gate to refuse the unknown ones as upstream does.
    struct FeatureGates: Sendable, Equatable {
        /// Large responses gzipped for clients that accept it (beta, on by default since 1.16).
        var apiResponseCompression = true

        init(_ flags: FlagSet, logger: Logger? = nil) throws(FlagError) {
            let text = flags.string("feature-gates")
            for pair in text.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard let name = parts.first, !name.isEmpty else { continue }
                guard parts.count == 2 else { throw Self.invalid(text, "missing bool value for \(name)") }
                guard let enabled = FlagSet.parseBool(parts[1]) else {
                    throw Self.invalid(
                        text,
                        "invalid value of \(name)=\(parts[1]), err: strconv.ParseBool: parsing \"\(parts[1])\": invalid syntax"
                    )
                }
                switch name {
                case "APIResponseCompression": apiResponseCompression = enabled
                default: logger?.info("feature gate \(name)=\(enabled) is accepted and has no effect")
                }
            }
        }

        private static func invalid(_ text: String, _ reason: String) -> FlagError {
            FlagError(message: "invalid argument \"\(text)\" for \"--feature-gates\" flag: \(reason)")
        }
    }
}
