import Component
import Logging

extension APIServerCommand {
    /// Builds the admission chain from `--admission-control`, `--enable-admission-plugins` and
    /// `--disable-admission-plugins`, configured by `--admission-control-config-file`, logging the enabled
    /// plugins this server does not implement and the configuration it reads without honouring.
    static func admissionChain(_ flags: FlagSet, logger: Logger) throws -> AdmissionChain {
        func names(_ flag: String) -> [String]? { flags.isSet(flag) ? flags.list(flag) : nil }
        let file = flags.string("admission-control-config-file")
        let configuration = file.isEmpty ? AdmissionConfiguration() : try AdmissionConfiguration.read(file: file)
        let settings = AdmissionPluginSettings(configuration)
        let selection = try AdmissionPlugins.select(
            admissionControl: names("admission-control"), enable: names("enable-admission-plugins"),
            disable: names("disable-admission-plugins"), settings: settings)
        // Upstream reads a plugin's document only when it initialises the plugin: a disabled one's is not checked.
        try settings.check(enabled: selection.enabled)
        logger.info("Loaded admission plugins in order: \(selection.enabled.joined(separator: ","))")
        for name in selection.withoutEffect {
            logger.info("admission plugin \(name) is enabled and has no effect: this server does not implement it")
        }
        for name in selection.enabled {
            if let why = settings.withoutEffect[name] {
                logger.warning("admission plugin \(name) is configured in \(file): \(why)")
            }
        }
        return selection.chain
    }
}
