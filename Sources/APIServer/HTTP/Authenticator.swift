import APIMachinery
import NIOHTTP1

/// Authenticates a request from its headers (bearer tokens); client certificates are read per connection.
/// The token authenticators arrive with the security issue; static tokens from `--token-auth-file` are here.
public struct Authenticator: Sendable {
    /// Token → user, from `--token-auth-file`.
    public var staticTokens: [String: UserInfo]

    public init(staticTokens: [String: UserInfo] = [:]) {
        self.staticTokens = staticTokens
    }

    func authenticate(headers: HTTPHeaders) -> UserInfo? {
        guard let header = headers.first(name: "authorization") else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: " ")
        return staticTokens[token]
    }
}

extension Substring {
    func trimmingCharacters(in set: Character) -> String {
        var slice = self
        while slice.first == set { slice.removeFirst() }
        while slice.last == set { slice.removeLast() }
        return String(slice)
    }
}
