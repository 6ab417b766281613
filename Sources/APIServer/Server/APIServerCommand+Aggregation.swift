import Component
import NIOSSL

extension APIServerCommand {
    /// upstream's aggregator flags.
    static let aggregationFlags: [FlagDefinition] = [
        FlagDefinition("proxy-client-cert-file"),
        FlagDefinition("proxy-client-key-file"),
        FlagDefinition("enable-aggregator-routing", bool: true, default: "false"),
    ]

    /// The aggregator's settings; both proxy client files or neither, as upstream requires.
    static func aggregation(_ flags: FlagSet) throws -> AggregationConfiguration {
        let certificate = flags.string("proxy-client-cert-file")
        let key = flags.string("proxy-client-key-file")
        guard certificate.isEmpty == key.isEmpty else {
            throw fail("--proxy-client-cert-file and --proxy-client-key-file must be specified together")
        }
        return AggregationConfiguration(
            proxyClientCertificateFile: certificate.isEmpty ? nil : certificate,
            proxyClientKeyFile: key.isEmpty ? nil : key,
            enableAggregatorRouting: flags.bool("enable-aggregator-routing"))
    }

    /// The front-proxy authenticator from `--requestheader-*`; nil without a request-header CA.
    static func requestHeaderAuthenticator(_ flags: FlagSet) throws -> RequestHeaderAuthenticator? {
        let caFile = flags.string("requestheader-client-ca-file")
        guard !caFile.isEmpty else { return nil }
        let authorities: [NIOSSLCertificate]
        do {
            authorities = try NIOSSLCertificate.fromPEMFile(caFile)
        } catch {
            throw fail("unable to load requestheader client CA file \(caFile): \(error)")
        }
        return try RequestHeaderAuthenticator(
            caCertificates: authorities, allowedNames: flags.list("requestheader-allowed-names"),
            usernameHeaders: flags.list("requestheader-username-headers"),
            groupHeaders: flags.list("requestheader-group-headers"),
            extraHeaderPrefixes: flags.list("requestheader-extra-headers-prefix"))
    }
}
