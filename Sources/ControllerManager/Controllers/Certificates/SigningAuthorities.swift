import Component
import Foundation
import Operations

/// Which CA signs for which `kubernetes.io/*` signer, from `--cluster-signing-cert-file`/`-key-file` or the
/// per-signer `--cluster-signing-<signer>-cert-file`/`-key-file` pairs, as upstream's `startCSRSigningController`
/// chooses them: the shared pair serves every signer unless any per-signer file is given, and then only the
/// signers with files of their own run.
struct SigningAuthorities: Sendable {
    /// Each signer's flag prefix (`--cluster-signing-<prefix>-cert-file`), in upstream's order.
    static let perSignerFlags: [(signer: String, prefix: String)] = [
        (CertificateRequestRules.kubeletServingSigner, "kubelet-serving"),
        (CertificateRequestRules.kubeletClientSigner, "kubelet-client"),
        (CertificateRequestRules.kubeAPIServerClientSigner, "kube-apiserver-client"),
        (CertificateRequestRules.legacyUnknownSigner, "legacy-unknown"),
    ]

    /// The flags the signing controller declares.
    static var flagDefinitions: [FlagDefinition] {
        var flags = [
            FlagDefinition("cluster-signing-cert-file"), FlagDefinition("cluster-signing-key-file"),
            FlagDefinition(
                "cluster-signing-duration", aliases: ["experimental-cluster-signing-duration"], default: "8760h0m0s"),
        ]
        for (_, prefix) in perSignerFlags {
            flags.append(FlagDefinition("cluster-signing-\(prefix)-cert-file"))
            flags.append(FlagDefinition("cluster-signing-\(prefix)-key-file"))
        }
        return flags
    }

    /// A signer's certificate and key files.
    struct Files: Sendable, Equatable {
        var certificate: String
        var key: String
    }

    /// The files each signer runs with, from the flag values `value(name)` returns ("" when not given); empty
    /// when no signing files are given at all (upstream then skips the controller).
    static func files(_ value: (String) -> String) throws(FlagError) -> [String: Files] {
        let shared = Files(certificate: value("cluster-signing-cert-file"), key: value("cluster-signing-key-file"))
        var own: [String: Files] = [:]
        for (signer, prefix) in perSignerFlags {
            let files = Files(
                certificate: value("cluster-signing-\(prefix)-cert-file"),
                key: value("cluster-signing-\(prefix)-key-file"))
            if !files.certificate.isEmpty || !files.key.isEmpty { own[signer] = files }
        }
        let sharedGiven = !shared.certificate.isEmpty || !shared.key.isEmpty
        if sharedGiven && !own.isEmpty {
            throw FlagError(message: "cannot specify default and per controller certs at the same time")
        }
        var result: [String: Files] = [:]
        if sharedGiven {
            for (signer, _) in perSignerFlags { result[signer] = shared }
        } else {
            result = own
        }
        for (signer, files) in result where files.certificate.isEmpty || files.key.isEmpty {
            throw FlagError(message: "\(signer): both a certificate file and a key file must be given")
        }
        return result
    }

    /// Each running signer's CA.
    let authorities: [String: CertificateAuthority]
    /// The longest lifetime a signed certificate gets (`--cluster-signing-duration`).
    let maximumLifetime: TimeInterval

    init(authorities: [String: CertificateAuthority], maximumLifetime: TimeInterval) {
        self.authorities = authorities
        self.maximumLifetime = maximumLifetime
    }

    /// Loads the CAs the flags name; nil when none is given.
    init?(flags: FlagSet, duration: Duration) throws {
        let files = try Self.files { flags.string($0) }
        if files.isEmpty { return nil }
        var loaded: [Files: CertificateAuthority] = [:]
        var authorities: [String: CertificateAuthority] = [:]
        for (signer, pair) in files {
            if let authority = loaded[pair] {
                authorities[signer] = authority
                continue
            }
            let authority = try CertificateAuthority.load(certificateFile: pair.certificate, keyFile: pair.key)
            loaded[pair] = authority
            authorities[signer] = authority
        }
        self.init(authorities: authorities, maximumLifetime: TimeInterval(duration.components.seconds))
    }
}

extension SigningAuthorities.Files: Hashable {}
