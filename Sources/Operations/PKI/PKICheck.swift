public import Foundation
import SwiftASN1
import X509

/// One problem `kubeswift pki check` found in a certificate directory.
public struct PKIFinding: Sendable, Hashable, CustomStringConvertible {
    /// How bad it is: a warning (expiring soon) or an error.
    public enum Severity: String, Sendable, Hashable {
        case warning, error
    }

    /// The file concerned, relative to the directory.
    public var file: String
    /// What is wrong, in a sentence.
    public var message: String
    /// Warning or error.
    public var severity: Severity

    public init(file: String, message: String, severity: Severity = .error) {
        self.file = file
        self.message = message
        self.severity = severity
    }

    public var description: String { "\(severity.rawValue): \(file): \(message)" }
}

/// Checks a certificate directory as an operator would before a rollout: expiry, names, keys, chain, usages.
public enum PKICheck {
    /// Upstream's `kubeadm certs check-expiration` flags what expires within 30 days.
    public static let expiryWarning: TimeInterval = 30 * 24 * 3600

    /// The usages each leaf of the cluster set must carry, by file stem.
    static let requiredUsages: [String: CertificateUsage] = [
        "kubernetes": [.serverAuth, .clientAuth], "admin": .clientAuth, "kube-proxy": .clientAuth,
        "kube-scheduler": .clientAuth, "kube-controller-manager": .clientAuth, "etcd-server": .serverAuth,
        "etcd-peer": [.serverAuth, .clientAuth], "etcd-client": .clientAuth,
    ]

    /// Every finding for the certificates in `directory`; `addresses` must all be in `kubernetes.pem`'s names,
    /// as must 127.0.0.1 and the `kubernetes.default` names.
    public static func check(
        directory: String, addresses: [String] = [], now: Date = Date(), warnWithin: TimeInterval = expiryWarning
    ) throws -> [PKIFinding] {
        let authorityFile = CertificateAuthority.certificateFileName
        let authority: CertificateAuthority
        do {
            authority = try CertificateAuthority.load(directory: directory)
        } catch {
            return [PKIFinding(file: authorityFile, message: "cannot load the CA: \(error)")]
        }
        var findings = expiry(of: authority.certificate, file: authorityFile, now: now, warnWithin: warnWithin)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        for name in names where name.hasSuffix(".pem") && !name.hasSuffix("-key.pem") && name != authorityFile {
            findings += checkLeaf(
                file: name, directory: directory, authority: authority, addresses: addresses, now: now,
                warnWithin: warnWithin)
        }
        return findings
    }

    private static func checkLeaf(
        file: String, directory: String, authority: CertificateAuthority, addresses: [String], now: Date,
        warnWithin: TimeInterval
    ) -> [PKIFinding] {
        let stem = String(file.dropLast(".pem".count))
        let certificate: Certificate
        do {
            guard let first = try PEM.certificates(from: SecureFile.read(directory + "/" + file), source: file).first
            else { return [PKIFinding(file: file, message: "holds no certificate")] }
            certificate = first
        } catch {
            return [PKIFinding(file: file, message: "cannot be read: \(error)")]
        }
        var findings = expiry(of: certificate, file: file, now: now, warnWithin: warnWithin)
        let keyFile = stem + "-key.pem"
        do {
            let key = try PEM.privateKey(from: SecureFile.read(directory + "/" + keyFile), source: keyFile)
            if key.publicKey != certificate.publicKey {
                findings.append(PKIFinding(file: file, message: "its key \(keyFile) does not match the certificate"))
            }
        } catch {
            findings.append(PKIFinding(file: file, message: "its key \(keyFile) cannot be read: \(error)"))
        }
        let ca = authority.certificate
        if certificate.issuer != ca.subject || !ca.publicKey.isValidSignature(certificate.signature, for: certificate) {
            findings.append(PKIFinding(file: file, message: "is not signed by the CA in ca.pem"))
        }
        if let required = requiredUsages[stem] {
            let usage = usages(of: certificate)
            for (flag, name) in [(CertificateUsage.serverAuth, "serverAuth"), (.clientAuth, "clientAuth")]
            where required.contains(flag) && !usage.contains(flag) {
                findings.append(PKIFinding(file: file, message: "lacks the \(name) extended key usage"))
            }
        }
        if stem == "kubernetes" {
            let present = subjectAlternativeNames(of: certificate)
            let wanted = ["127.0.0.1"] + addresses + CertificateSpec.apiServerDNSNames.filter { $0 != "localhost" }
            for name in wanted where !present.contains(normalized(name)) {
                findings.append(PKIFinding(file: file, message: "does not cover \(name) (subject alternative names)"))
            }
        }
        return findings
    }

    private static func expiry(of certificate: Certificate, file: String, now: Date, warnWithin: TimeInterval)
        -> [PKIFinding]
    {
        let notAfter = certificate.notValidAfter
        let stamp = ISO8601DateFormatter().string(from: notAfter)
        if notAfter <= now {
            return [PKIFinding(file: file, message: "expired at \(stamp)")]
        }
        if certificate.notValidBefore > now {
            let from = ISO8601DateFormatter().string(from: certificate.notValidBefore)
            return [PKIFinding(file: file, message: "is not valid before \(from)")]
        }
        if notAfter.timeIntervalSince(now) < warnWithin {
            let days = Int(notAfter.timeIntervalSince(now) / 86400)
            return [PKIFinding(file: file, message: "expires in \(days) days, at \(stamp)", severity: .warning)]
        }
        return []
    }

    /// The TLS usages in the certificate's extended key usage extension.
    static func usages(of certificate: Certificate) -> CertificateUsage {
        guard let extended = try? certificate.extensions.extendedKeyUsage else { return [] }
        var usage: CertificateUsage = []
        if extended.contains(.serverAuth) { usage.insert(.serverAuth) }
        if extended.contains(.clientAuth) { usage.insert(.clientAuth) }
        return usage
    }

    /// DNS names (lowercased) and IPs (in canonical text) of the certificate.
    static func subjectAlternativeNames(of certificate: Certificate) -> Set<String> {
        guard let names = try? certificate.extensions.subjectAlternativeNames else { return [] }
        var result = Set<String>()
        for name in names {
            switch name {
            case .dnsName(let dns): result.insert(dns.lowercased())
            case .ipAddress(let octets): result.insert(IPAddressBytes.format(Array(octets.bytes)))
            default: continue
            }
        }
        return result
    }

    /// The DNS and IP lists of a certificate, split, for reissuing it with the same names.
    static func splitNames(of certificate: Certificate) -> (dns: [String], ips: [String]) {
        guard let names = try? certificate.extensions.subjectAlternativeNames else { return ([], []) }
        var dns: [String] = []
        var ips: [String] = []
        for name in names {
            switch name {
            case .dnsName(let value): dns.append(value)
            case .ipAddress(let octets): ips.append(IPAddressBytes.format(Array(octets.bytes)))
            default: continue
            }
        }
        return (dns, ips)
    }

    private static func normalized(_ name: String) -> String {
        IPAddressBytes.parse(name).map(IPAddressBytes.format) ?? name.lowercased()
    }
}
