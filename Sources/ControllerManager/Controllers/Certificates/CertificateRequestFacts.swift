import Foundation
import Operations
import X509

/// What the certificate controllers read from a CSR's PKCS#10 request: the subject, the names it asks for and
/// its key, parsed once as upstream's `ParseCSR` does.
struct CertificateRequestFacts: Sendable {
    /// The parsed request, whose key and subject a signed certificate carries.
    let request: X509.CertificateSigningRequest
    /// The subject's first CN ("" without one, as Go's `pkix.Name` reads it).
    let commonName: String
    /// The subject's O entries, in order.
    let organizations: [String]
    /// DNS names from the request's subjectAltName extension.
    let dnsNames: [String]
    /// IP addresses from the request's subjectAltName extension, as text.
    let ipAddresses: [String]
    /// Email addresses from the request's subjectAltName extension.
    let emailAddresses: [String]
    /// URIs from the request's subjectAltName extension.
    let uris: [String]

    /// Why a request cannot be parsed, in upstream's words.
    struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        let description: String
    }

    /// Parses `spec.request`: PEM text holding a `CERTIFICATE REQUEST` block whose signature verifies.
    init(pem: [UInt8]) throws(ParseError) {
        guard let der = Self.requestDER(pem) else {
            throw ParseError(description: "PEM block type must be CERTIFICATE REQUEST")
        }
        let request: X509.CertificateSigningRequest
        do {
            request = try CertificateSigningRequest(derEncoded: der)
        } catch {
            throw ParseError(description: "asn1: structure error: \(error)")
        }
        guard request.publicKey.isValidSignature(request.signature, for: request) else {
            throw ParseError(description: "x509: signature verification failure")
        }
        self.init(request)
    }

    /// Reads the facts of an already parsed request.
    init(_ request: X509.CertificateSigningRequest) {
        self.request = request
        let subject = CertificateSubject(request.subject)
        commonName = subject.commonName ?? ""
        organizations = subject.organizations
        var dns: [String] = []
        var ips: [String] = []
        var emails: [String] = []
        var uris: [String] = []
        for name in Self.alternativeNames(request) {
            switch name {
            case .dnsName(let value): dns.append(value)
            case .ipAddress(let octets): ips.append(Self.formatIP(Array(octets.bytes)))
            case .rfc822Name(let value): emails.append(value)
            case .uniformResourceIdentifier(let value): uris.append(value)
            default: continue
            }
        }
        dnsNames = dns
        ipAddresses = ips
        emailAddresses = emails
        self.uris = uris
    }

    /// The request's subjectAltName extension; none when it has no extension request.
    static func alternativeNames(_ request: X509.CertificateSigningRequest) -> SubjectAlternativeNames {
        guard let extensionRequest = try? request.attributes.extensionRequest,
            let names = try? extensionRequest.extensions.subjectAlternativeNames
        else { return SubjectAlternativeNames() }
        return names
    }

    /// The DER of the first PEM block, when it is a `CERTIFICATE REQUEST` (Go's `pem.Decode` reads only the first).
    static func requestDER(_ pem: [UInt8]) -> [UInt8]? {
        guard let text = String(bytes: pem, encoding: .utf8) else { return nil }
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let begin = lines.firstIndex(where: { $0.hasPrefix("-----BEGIN ") && $0.hasSuffix("-----") }),
            lines[begin] == "-----BEGIN CERTIFICATE REQUEST-----",
            let end = lines[begin...].firstIndex(of: "-----END CERTIFICATE REQUEST-----")
        else { return nil }
        return Data(base64Encoded: lines[(begin + 1)..<end].joined()).map(Array.init)
    }

    /// Go's `net.IP.String()` for 4- and 16-byte addresses.
    static func formatIP(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        guard bytes.count == 16 else { return "?" + bytes.map { String($0, radix: 16) }.joined() }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let text = bytes.withUnsafeBytes { source in
            buffer.withUnsafeMutableBufferPointer { target in
                inet_ntop(AF_INET6, source.baseAddress, target.baseAddress, socklen_t(INET6_ADDRSTRLEN))
            }
        }
        guard text != nil else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Upstream's checks of what the `kubernetes.io/*` signers will sign (`k8s.io/api/certificates/v1`'s validators),
/// with their error texts, which become the Failed condition's message.
enum CertificateRequestRules {
    static let kubeAPIServerClientSigner = "kubernetes.io/kube-apiserver-client"
    static let kubeletClientSigner = "kubernetes.io/kube-apiserver-client-kubelet"
    static let kubeletServingSigner = "kubernetes.io/kubelet-serving"
    static let legacyUnknownSigner = "kubernetes.io/legacy-unknown"

    static let nodeGroup = "system:nodes"
    static let nodeUserPrefix = "system:node:"
    static let kubeletClientUsages: Set<String> = ["digital signature", "key encipherment", "client auth"]
    static let kubeletClientUsagesNoRSA: Set<String> = ["digital signature", "client auth"]
    static let kubeletServingUsages: Set<String> = ["digital signature", "key encipherment", "server auth"]
    static let kubeletServingUsagesNoRSA: Set<String> = ["digital signature", "server auth"]
    static let kubeAPIServerClientUsages: Set<String> = ["digital signature", "key encipherment", "client auth"]

    /// A request upstream's signer for `signerName` refuses, with its reason; nil when it would sign it.
    static func signerRejection(
        signerName: String, facts: CertificateRequestFacts, usages: [String]
    ) -> String? {
        switch signerName {
        case kubeletClientSigner: return kubeletClientProblem(facts, usages: Set(usages))
        case kubeletServingSigner: return kubeletServingProblem(facts, usages: Set(usages))
        case kubeAPIServerClientSigner:
            // Upstream checks usages in the request's order and names the first it does not allow.
            if let invalid = usages.first(where: { !kubeAPIServerClientUsages.contains($0) }) {
                return "invalid usage for client certificate: \(invalid)"
            }
            return usages.contains("client auth") ? nil : "missing required usage for client certificate: client auth"
        default:
            // legacy-unknown signs anything, as upstream keeps it for compatibility.
            return nil
        }
    }

    /// Upstream's `ValidateKubeletClientCSR`.
    static func kubeletClientProblem(_ facts: CertificateRequestFacts, usages: Set<String>) -> String? {
        if facts.organizations != [nodeGroup] { return "subject organization is not system:nodes" }
        if !facts.dnsNames.isEmpty { return "DNS subjectAltNames are not allowed" }
        if !facts.emailAddresses.isEmpty { return "Email subjectAltNames are not allowed" }
        if !facts.ipAddresses.isEmpty { return "IP subjectAltNames are not allowed" }
        if !facts.uris.isEmpty { return "URI subjectAltNames are not allowed" }
        if !facts.commonName.hasPrefix(nodeUserPrefix) { return "subject common name does not begin with system:node:" }
        if usages != kubeletClientUsages && usages != kubeletClientUsagesNoRSA {
            return "usages did not match \(goList(kubeletClientUsages))"
        }
        return nil
    }

    /// Upstream's `ValidateKubeletServingCSR`.
    static func kubeletServingProblem(_ facts: CertificateRequestFacts, usages: Set<String>) -> String? {
        if facts.organizations != [nodeGroup] { return "subject organization is not system:nodes" }
        if facts.dnsNames.isEmpty && facts.ipAddresses.isEmpty { return "DNS or IP subjectAltName is required" }
        if !facts.emailAddresses.isEmpty { return "Email subjectAltNames are not allowed" }
        if !facts.uris.isEmpty { return "URI subjectAltNames are not allowed" }
        if usages != kubeletServingUsages && usages != kubeletServingUsagesNoRSA {
            return "usages did not match \(goList(kubeletServingUsages))"
        }
        if !facts.commonName.hasPrefix(nodeUserPrefix) { return "subject common name does not begin with system:node:" }
        return nil
    }

    /// Whether a request is a node's client certificate request (upstream's `IsKubeletClientCSR` for the
    /// kubelet client signer), which the approver may approve.
    static func isNodeClient(signerName: String, facts: CertificateRequestFacts, usages: [String]) -> Bool {
        signerName == kubeletClientSigner && kubeletClientProblem(facts, usages: Set(usages)) == nil
    }

    /// A node renewing its own client certificate: the requester is the user the certificate names.
    static func isSelfNodeClient(
        username: String, signerName: String, facts: CertificateRequestFacts, usages: [String]
    ) -> Bool {
        username == facts.commonName && isNodeClient(signerName: signerName, facts: facts, usages: usages)
    }

    /// The certificate lifetime upstream's signer gives: the flag's duration, or the requested
    /// `expirationSeconds` when shorter, but never under ten minutes (twice the five-minute backdate).
    static func lifetime(expirationSeconds: Int32?, maximum: TimeInterval) -> TimeInterval {
        guard let expirationSeconds else { return maximum }
        let requested = TimeInterval(expirationSeconds)
        return min(max(requested, 600), maximum)
    }

    /// How far notBefore is moved back, so nodes with a lagging clock accept the certificate at once.
    static let backdate: TimeInterval = 5 * 60
    /// Certificates shorter than this keep their full lifetime after now; longer ones give up the backdate.
    static let short: TimeInterval = 8 * 3600

    /// Seconds from now to notAfter for a certificate of `lifetime` (upstream's PermissiveSigningPolicy).
    static func validAfterNow(lifetime: TimeInterval) -> TimeInterval {
        lifetime < short ? lifetime : lifetime - backdate
    }

    /// Go's `fmt` form of a sorted string list: `[a b c]`.
    static func goList(_ values: Set<String>) -> String { "[" + values.sorted().joined(separator: " ") + "]" }
}
