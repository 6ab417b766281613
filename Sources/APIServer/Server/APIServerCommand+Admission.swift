import Component
import Logging

extension APIServerCommand {
    /// Builds the admission chain from `--admission-control`, `--enable-admission-plugins` and
    /// `--disable-admission-plugins`, logging the enabled plugins this server does not implement.
    static func admissionChain(_ flags: FlagSet, logger: Logger) throws -> AdmissionChain {
        func names(_ flag: String) -> [String]? { flags.isSet(flag) ? flags.list(flag) : nil }
        let selection = try AdmissionPlugins.select(
            admissionControl: names("admission-control"), enable: names("enable-admission-plugins"),
            disable: names("disable-admission-plugins"))
        logger.info("Loaded admission plugins in order: \(selection.enabled.joined(separator: ","))")
        for name in selection.withoutEffect {
            logger.info("admission plugin \(name) is enabled and has no effect: this server does not implement it")
        }
        return selection.chain
    }
}
