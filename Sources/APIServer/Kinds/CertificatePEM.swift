import Foundation
import X509

/// PEM blocks read as Go's `encoding/pem` reads them: text before, between and after blocks is skipped,
/// a block may carry `Key: value` headers, and its body is base64.
struct PEMBlock: Sendable {
    var type: String
    var hasHeaders: Bool
    var der: [UInt8]

    /// Every well-formed block in `data`, in order; malformed ones end the scan, as `pem.Decode` stops there.
    static func blocks(in data: [UInt8]) -> [PEMBlock] {
        guard let text = String(bytes: data, encoding: .utf8) else { return [] }
        var blocks: [PEMBlock] = []
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)[...]
        while let start = lines.firstIndex(where: { $0.hasPrefix("-----BEGIN ") && $0.hasSuffix("-----") }) {
            let type = String(lines[start].dropFirst("-----BEGIN ".count).dropLast(5))
            lines = lines[(start + 1)...]
            guard let end = lines.firstIndex(where: { $0 == "-----END \(type)-----" }) else { break }
            var body = lines[..<end]
            lines = lines[(end + 1)...]
            var hasHeaders = false
            if let first = body.first, first.contains(":") {
                hasHeaders = true
                // Headers run up to the first blank line.
                guard let blank = body.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
                    break
                }
                body = body[(blank + 1)...]
            }
            let base64 = body.map { $0.trimmingCharacters(in: .whitespaces) }.joined()
            guard let der = Data(base64Encoded: base64) else { break }
            blocks.append(PEMBlock(type: type, hasHeaders: hasHeaders, der: Array(der)))
        }
        return blocks
    }
}

/// What upstream's certificate validation checks in a CertificateSigningRequest's PEM fields.
enum CertificatePEM {
    /// The request's parsed PKCS#10 request, or upstream's error text for `spec.request`.
    static func parseRequest(_ pem: [UInt8]) -> Result<CertificateSigningRequest, CertificatePEMError> {
        guard let block = PEMBlock.blocks(in: pem).first, block.type == "CERTIFICATE REQUEST" else {
            return .failure(CertificatePEMError("PEM block type must be CERTIFICATE REQUEST"))
        }
        let request: CertificateSigningRequest
        do {
            request = try CertificateSigningRequest(derEncoded: block.der)
        } catch {
            return .failure(CertificatePEMError("asn1: structure error: \(error)"))
        }
        guard request.publicKey.isValidSignature(request.signature, for: request) else {
            return .failure(CertificatePEMError("x509: signature verification failure"))
        }
        return .success(request)
    }

    /// Upstream's check of `status.certificate`: nil when empty or only well-formed CERTIFICATE blocks.
    static func certificateProblem(_ pem: [UInt8]) -> String? {
        if pem.isEmpty { return nil }
        let blocks = PEMBlock.blocks(in: pem)
        guard !blocks.isEmpty else { return "must contain at least one CERTIFICATE PEM block" }
        for block in blocks {
            if block.type != "CERTIFICATE" { return "only CERTIFICATE PEM blocks are allowed, found \"\(block.type)\"" }
            if block.hasHeaders { return "no PEM block headers are permitted" }
            do {
                _ = try Certificate(derEncoded: block.der)
            } catch {
                return "x509: malformed certificate"
            }
        }
        return nil
    }

    /// The subject's organizations (O=), which upstream reads as the requested groups.
    static func organizations(of request: CertificateSigningRequest) -> [String] {
        request.subject.flatMap { $0 }.filter { $0.type == .RDNAttributeType.organizationName }.map {
            String(describing: $0.value)
        }
    }
}

/// A failure to read a CertificateSigningRequest's PEM, with upstream's message.
struct CertificatePEMError: Error, Sendable {
    let message: String
    init(_ message: String) { self.message = message }
}
