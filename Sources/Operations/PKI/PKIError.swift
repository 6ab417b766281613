/// Why a PKI operation failed; each case carries what a person needs to fix the input.
public enum PKIError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A PEM text held no block of the kind that was needed.
    case noPEMBlock(expected: String, source: String)
    /// A private key PEM block was of a kind we cannot use (e.g. an encrypted key).
    case unsupportedPrivateKey(kind: String, source: String)
    /// A PEM block could not be decoded.
    case malformedPEM(source: String, reason: String)
    /// The private key does not belong to the certificate it was loaded with.
    case keyDoesNotMatchCertificate(certificate: String, key: String)
    /// A certificate loaded as a CA says it is not one.
    case notACertificateAuthority(source: String)
    /// An IP address given for a certificate or a CIDR could not be parsed.
    case invalidIPAddress(String)
    /// A CIDR (address/prefix) could not be parsed or has no usable first address.
    case invalidCIDR(String)
    /// A DNS name given for a certificate is empty or not ASCII.
    case invalidDNSName(String)
    /// A file could not be read or written.
    case fileError(path: String, reason: String)

    public var description: String {
        switch self {
        case .noPEMBlock(let expected, let source):
            return "\(source): no \(expected) PEM block found"
        case .unsupportedPrivateKey(let kind, let source):
            return
                "\(source): unsupported private key type \"\(kind)\" (encrypted keys are not supported)"
        case .malformedPEM(let source, let reason):
            return "\(source): malformed PEM: \(reason)"
        case .keyDoesNotMatchCertificate(let certificate, let key):
            return "private key \(key) does not match the public key of certificate \(certificate)"
        case .notACertificateAuthority(let source):
            return "\(source): certificate is not a CA (basicConstraints CA:FALSE)"
        case .invalidIPAddress(let text):
            return "invalid IP address \"\(text)\""
        case .invalidCIDR(let text):
            return "invalid CIDR \"\(text)\""
        case .invalidDNSName(let text):
            return "invalid DNS name \"\(text)\""
        case .fileError(let path, let reason):
            return "\(path): \(reason)"
        }
    }
}
