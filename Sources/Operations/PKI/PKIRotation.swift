import Crypto
public import Foundation
import X509

/// `kubeswift pki rotate`: every leaf reissued from the same CA with the same subject, names and usages.
public enum PKIRotation {
    /// Reissues each `<name>.pem`/`<name>-key.pem` in `directory` (the CA kept) and rewrites the kubeconfigs whose
    /// embedded client certificate named the same user. Returns the files written.
    @discardableResult
    public static func rotate(
        directory: String, lifetime: TimeInterval = CertificateLifetime.leaf, now: Date = Date()
    ) throws -> [String] {
        let authority = try CertificateAuthority.load(directory: directory)
        let fileManager = FileManager.default
        var written: [String] = []
        var bySubject: [CertificateSubject: CertificateKeyPair] = [:]
        let names = try fileManager.contentsOfDirectory(atPath: directory).sorted()
        for name in names
        where name.hasSuffix(".pem") && !name.hasSuffix("-key.pem") && name != CertificateAuthority.certificateFileName
        {
            let stem = String(name.dropLast(".pem".count))
            let certificateFile = "\(directory)/\(name)"
            let keyFile = "\(directory)/\(stem)-key.pem"
            guard let old = try PEM.certificates(from: SecureFile.read(certificateFile), source: name).first else {
                continue
            }
            let subject = CertificateSubject(old.subject)
            let names = PKICheck.splitNames(of: old)
            let spec = CertificateSpec(
                commonName: subject.commonName ?? stem, organizations: subject.organizations, dnsNames: names.dns,
                ipAddresses: names.ips, usage: PKICheck.usages(of: old), lifetime: lifetime,
                keyAlgorithm: keyAlgorithm(of: old))
            let pair = try authority.issue(spec, now: now)
            try pair.write(certificateFile: certificateFile, keyFile: keyFile)
            written += [name, stem + "-key.pem"]
            if spec.usage == .clientAuth { bySubject[subject] = pair }
        }
        for name in names where name.hasSuffix(".kubeconfig") {
            let path = "\(directory)/\(name)"
            var config = try Kubeconfig.load(fromFile: path)
            var changed = false
            for index in config.users.indices {
                guard let data = config.users[index].value.clientCertificateData,
                    let current = try? PEM.certificates(from: String(decoding: data, as: UTF8.self)).first,
                    let pair = bySubject[CertificateSubject(current.subject)]
                else { continue }
                config.users[index].value.clientCertificateData = Data(pair.certificatePEM.utf8)
                config.users[index].value.clientKeyData = Data(pair.privateKeyPEM.utf8)
                changed = true
            }
            if changed {
                try config.write(toFile: path)
                written.append(name)
            }
        }
        return written
    }

    /// The guide's cfssl made RSA keys; a rotated leaf keeps its kind so nothing that expects it breaks.
    private static func keyAlgorithm(of certificate: Certificate) -> KeyAlgorithm {
        P256.Signing.PublicKey(certificate.publicKey) != nil ? .ecdsaP256 : .rsa2048
    }
}
