public import APIMachinery
import NIOHTTP1

/// Authenticates a request from its headers (bearer tokens); client certificates are read per connection.
/// The token authenticators arrive with the security issue; static tokens from `--token-auth-file` are here.
public struct Authenticator: Sendable {
    /// Token → user, from `--token-auth-file`.
    public var staticTokens: [String: UserInfo]

    public init(staticTokens: [String: UserInfo] = [:]) {
        self.staticTokens = staticTokens
    }

    func authenticate(headers: HTTPHeaders) -> Authentication {
        guard let header = headers.first(name: "authorization") else { return .none }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return .rejected }
        let token = parts[1].trimmingCharacters(in: " ")
        guard let user = staticTokens[token] else { return .rejected }
        return .user(user)
    }
}

/// The outcome of authenticating one request.
public enum Authentication: Sendable, Equatable {
    case user(UserInfo)
    /// No credentials at all: anonymous, when `--anonymous-auth` allows it.
    case none
    /// Credentials were presented and are not valid: always 401.
    case rejected
}

extension Substring {
    func trimmingCharacters(in set: Character) -> String {
        var slice = self
        while slice.first == set { slice.removeFirst() }
        while slice.last == set { slice.removeLast() }
        return String(slice)
    }
}
