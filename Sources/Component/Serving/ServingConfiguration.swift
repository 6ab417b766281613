import Foundation

/// Where and how a component serves its health and metrics endpoint, from the flags upstream's
/// `SecureServingOptions` declares for kube-scheduler and kube-controller-manager.
public struct ServingConfiguration: Sendable {
    /// A `securePort` that binds any free port. Only tests use it: 0 turns serving off, as upstream.
    public static let anyFreePort = -1

    /// `--bind-address`; empty, `0.0.0.0` and `::` listen on every interface and address family.
    public var bindAddress: String
    /// `--secure-port`; 0 turns serving off, ``anyFreePort`` picks a free port.
    public var securePort: Int
    /// `--tls-cert-file`: the serving certificate, followed by any intermediates.
    public var certFile: String?
    /// `--tls-private-key-file`.
    public var keyFile: String?
    /// `--cert-dir`: where a generated self-signed pair is kept; nil keeps it in memory.
    public var certDirectory: String?
    /// The generated pair's file names in ``certDirectory``: `<pairName>.crt` and `<pairName>.key`.
    public var pairName: String
    /// `--tls-min-version`: the oldest TLS a client may speak.
    public var minimumTLSVersion: TLSVersion

    /// The versions `--tls-min-version` takes, by Go's constant names.
    public enum TLSVersion: String, Sendable, CaseIterable {
        case tls10 = "VersionTLS10"
        case tls11 = "VersionTLS11"
        case tls12 = "VersionTLS12"
        case tls13 = "VersionTLS13"
    }

    public init(
        bindAddress: String = "0.0.0.0", securePort: Int, certFile: String? = nil, keyFile: String? = nil,
        certDirectory: String? = nil, pairName: String, minimumTLSVersion: TLSVersion = .tls12
    ) {
        self.bindAddress = bindAddress
        self.securePort = securePort
        self.certFile = certFile
        self.keyFile = keyFile
        self.certDirectory = certDirectory
        self.pairName = pairName
        self.minimumTLSVersion = minimumTLSVersion
    }

    /// The secure-serving flags with the component's default port, and the insecure flags upstream removed
    /// (still in older guides' unit files), accepted so those units keep starting.
    public static func flagDefinitions(securePort: Int, insecurePort: Int) -> [FlagDefinition] {
        let removed = "insecure serving was removed upstream; use --secure-port"
        return [
            FlagDefinition(
                "bind-address", default: "0.0.0.0",
                usage: "Address the secure port listens on; empty, 0.0.0.0 or :: means every interface and family."),
            FlagDefinition(
                "secure-port", default: String(securePort),
                usage: "HTTPS port for health and metrics; 0 serves nothing."
            ),
            FlagDefinition(
                "tls-cert-file",
                usage:
                    "PEM serving certificate, intermediates after it. Without it a self-signed pair is generated (see --cert-dir)."
            ),
            FlagDefinition("tls-private-key-file", usage: "PEM private key of --tls-cert-file."),
            FlagDefinition(
                "cert-dir",
                usage: "Where a generated self-signed pair is kept and reused; empty keeps it in memory for the run."),
            FlagDefinition(
                "tls-min-version",
                usage: "Oldest TLS clients may use: VersionTLS10, VersionTLS11, VersionTLS12 (default), VersionTLS13."),
            FlagDefinition(
                "port", default: String(insecurePort), support: .noEffect(removed),
                usage: "DEPRECATED: the port on which to serve HTTP insecurely; it has no effect."),
            FlagDefinition(
                "address", default: "0.0.0.0", support: .noEffect(removed),
                usage: "DEPRECATED: the IP address on which to serve the insecure --port; it has no effect."),
        ]
    }

    /// Reads the flags of ``flagDefinitions(securePort:insecurePort:)``, refusing what upstream refuses with its
    /// messages. The pair name defaults to the executable's name, which upstream hard-codes per component
    /// (`kube-scheduler`, `kube-controller-manager`).
    public init(flags: FlagSet, pairName: String? = nil) throws(FlagError) {
        let port = try flags.int("secure-port")
        guard (0...65535).contains(port) else {
            throw FlagError(
                message: "--secure-port \(port) must be between 0 and 65535, inclusive. 0 for turning off secure port")
        }
        let given = flags.string("bind-address")
        let address = given.trimmingCharacters()
        // pflag's IP flag keeps its default for an empty value.
        guard address.isEmpty || Self.isIPAddress(address) else {
            throw FlagError(
                message: "invalid argument \"\(given)\" for \"--bind-address\" flag: failed to parse IP: \"\(given)\"")
        }
        let versionName = flags.string("tls-min-version")
        // Upstream's default when the flag is empty: TLS 1.0 and 1.1 are broken.
        guard let version = versionName.isEmpty ? .tls12 : TLSVersion(rawValue: versionName) else {
            throw FlagError(message: "unknown tls version \"\(versionName)\"")
        }
        self.init(
            bindAddress: address.isEmpty ? "0.0.0.0" : address, securePort: port,
            certFile: Self.nonEmpty(flags.string("tls-cert-file")),
            keyFile: Self.nonEmpty(flags.string("tls-private-key-file")),
            certDirectory: Self.nonEmpty(flags.string("cert-dir")),
            pairName: pairName ?? ProcessInfo.processInfo.processName, minimumTLSVersion: version)
    }

    /// True for `0.0.0.0`, `::` and an empty address: listen on everything.
    var bindsEveryInterface: Bool {
        bindAddress.isEmpty || Self.ipAddressBytes(bindAddress)?.allSatisfy { $0 == 0 } == true
    }

    static func nonEmpty(_ text: String) -> String? { text.isEmpty ? nil : text }

    static func isIPAddress(_ text: String) -> Bool { ipAddressBytes(text) != nil }

    /// Network-order bytes of an IPv4 or IPv6 literal; inet_pton is as strict as Go's net.ParseIP
    /// (no leading zeros, no zones).
    static func ipAddressBytes(_ text: String) -> [UInt8]? {
        let family = text.contains(":") ? AF_INET6 : AF_INET
        var bytes = [UInt8](repeating: 0, count: family == AF_INET6 ? 16 : 4)
        let parsed = bytes.withUnsafeMutableBytes { inet_pton(family, text, $0.baseAddress) }
        return parsed == 1 ? bytes : nil
    }
}
