public import APIMachinery
import Foundation
public import NIOHTTP1
public import NIOSSL

/// Upstream's front-proxy (request-header) authenticator: a client certificate signed by
/// `--requestheader-client-ca-file` (whose common name is in `--requestheader-allowed-names`, when that is
/// set) vouches for the user named in the request's headers — the first non-empty
/// `--requestheader-username-headers`, every value of `--requestheader-group-headers`, and extras from headers
/// starting with a `--requestheader-extra-headers-prefix` (the rest of the name, lowercased and
/// percent-decoded, is the key). It runs first in the chain, so an aggregating server's proxied requests
/// are served as the user it authenticated.
public struct RequestHeaderAuthenticator: Sendable {
    /// What one request's certificate and headers amount to.
    public enum Result: Sendable, Equatable {
        /// The authenticator does not apply (no username header, or no certificate): the chain goes on.
        case notApplicable
        case user(UserInfo)
        /// The certificate is not a trusted front proxy's; the chain goes on, as upstream's union does,
        /// and the reason is for the log.
        case failed(String)
    }

    let verifier: ClientCertificateVerifier
    public let allowedNames: [String]
    public let usernameHeaders: [String]
    public let groupHeaders: [String]
    public let extraHeaderPrefixes: [String]

    /// Reads the CA bundle; header names are matched case-insensitively, as HTTP's are.
    public init(
        caCertificates: [NIOSSLCertificate], allowedNames: [String] = [], usernameHeaders: [String],
        groupHeaders: [String] = [], extraHeaderPrefixes: [String] = []
    ) throws {
        verifier = try ClientCertificateVerifier(caCertificates: caCertificates)
        self.allowedNames = allowedNames
        self.usernameHeaders = usernameHeaders
        self.groupHeaders = groupHeaders
        self.extraHeaderPrefixes = extraHeaderPrefixes.map { $0.lowercased() }
    }

    /// Judges a request's client certificate chain (leaf first) and headers.
    public func authenticate(chain: [NIOSSLCertificate], headers: HTTPHeaders) async -> Result {
        // Without a username header there is nothing to vouch for: skip the chain check entirely.
        guard !chain.isEmpty,
            let name = usernameHeaders.lazy.compactMap({ headers.first(name: $0) }).first(where: {
                !$0.isEmpty
            })
        else { return .notApplicable }
        let proxy: UserInfo
        switch await verifier.verify(chain: chain) {
        case .user(let user): proxy = user
        case .invalid(let reason): return .failed(reason)
        case .none: return .notApplicable
        }
        if !allowedNames.isEmpty, !allowedNames.contains(proxy.name) {
            return .failed("x509: subject with cn=\(proxy.name) is not in the allowed list")
        }
        var groups: [String] = []
        for header in groupHeaders { groups += headers[header].filter { !$0.isEmpty } }
        var extra: [String: [String]] = [:]
        for (header, value) in headers {
            let lower = header.lowercased()
            guard let prefix = extraHeaderPrefixes.first(where: { lower.hasPrefix($0) }) else { continue }
            let escaped = String(lower.dropFirst(prefix.count))
            guard !escaped.isEmpty, !value.isEmpty else { continue }
            extra[escaped.removingPercentEncoding ?? escaped, default: []].append(value)
        }
        return .user(UserInfo(name: name, groups: groups, extra: extra))
    }
}
