public import APIMachinery
import Foundation
public import Storage

/// upstream's request authenticator chain: a front proxy's request headers, the client certificate, then the
/// bearer-token authenticators (token file, bootstrap tokens, service-account tokens) in that order; the first
/// that recognises the credential wins. A credential nobody recognises rejects the request (401) rather than falling back to
/// anonymous, and every authenticated user gets `system:authenticated`.
public struct Authenticator: Sendable {
    /// The enabled authenticators and what they need.
    public struct Configuration: Sendable {
        /// Token → user, from `--token-auth-file`.
        public var staticTokens: [String: UserInfo] = [:]
        /// `--enable-bootstrap-token-auth`.
        public var bootstrapTokens = false
        /// Service-account token keys; nil when none are configured.
        public var serviceAccountTokens: ServiceAccountTokens?
        /// `--anonymous-auth`.
        public var anonymous = true
        /// Front proxies (`--requestheader-*`); nil when `--requestheader-client-ca-file` is not set.
        public var requestHeader: RequestHeaderAuthenticator?

        public init() {}
    }

    public let configuration: Configuration
    let objects: StoredObjects

    public init(configuration: Configuration, storage: any KeyValueStore, storagePrefix: String) {
        self.configuration = configuration
        self.objects = StoredObjects(storage: storage, prefix: storagePrefix)
    }

    /// Authenticates a request from its client certificate and `Authorization` header.
    func authenticate(_ request: HTTPRequest) async -> Authentication {
        if let requestHeader = configuration.requestHeader,
            case .user(let user) = await requestHeader.authenticate(
                chain: request.clientCertificateChain, headers: request.headers)
        {
            return .user(Self.authenticated(user))
        }
        if case .user(let user) = request.clientCertificate { return .user(Self.authenticated(user)) }
        if let header = request.header("authorization") {
            guard let token = Self.bearerToken(header), let user = await authenticate(token: token) else {
                return .rejected
            }
            return .user(user)
        }
        if case .invalid = request.clientCertificate { return .rejected }
        return configuration.anonymous ? .user(.anonymous) : .rejected
    }

    /// The token authenticators alone; TokenReview names the audiences a service-account token must carry.
    func authenticate(token: String, audiences: [String]? = nil) async -> UserInfo? {
        if let user = configuration.staticTokens[token] { return Self.authenticated(user) }
        if configuration.bootstrapTokens,
            let user = await BootstrapTokenAuthenticator(objects: objects).authenticate(token: token)
        {
            return Self.authenticated(user)
        }
        if let serviceAccounts = configuration.serviceAccountTokens,
            let user = await serviceAccounts.authenticate(token: token, objects: objects, audiences: audiences)
        {
            return Self.authenticated(user)
        }
        return nil
    }

    /// `Bearer <token>`, the scheme case-insensitive, as upstream's bearer-token authenticator reads it.
    /// Read byte by byte: on every request, so no split or lowercased copies.
    static func bearerToken(_ header: String) -> String? {
        let value = header.drop { $0 == " " }
        guard let space = value.utf8.firstIndex(of: UInt8(ascii: " ")) else { return nil }
        let scheme = value.utf8[..<space]
        // `| 0x20` lowercases ASCII letters and maps no other byte onto one.
        guard scheme.count == 6, zip(scheme, "bearer".utf8).allSatisfy({ $0 | 0x20 == $1 }) else { return nil }
        let token = String(value[space...]).trimmingSpaces
        return token.isEmpty ? nil : token
    }

    /// upstream's `AuthenticatedGroupAdder`.
    static func authenticated(_ user: UserInfo) -> UserInfo {
        var user = user
        if user.name != UserInfo.anonymous.name, !user.groups.contains("system:authenticated") {
            user.groups.append("system:authenticated")
        }
        return user
    }
}

/// The outcome of authenticating one request.
public enum Authentication: Sendable, Equatable {
    case user(UserInfo)
    /// Credentials were presented and are not valid, or none were and anonymous access is off: 401.
    case rejected
}
