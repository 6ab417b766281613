import APIMachinery
import Client
import Crypto
import Foundation

/// A bootstrap-token Secret as upstream's `cluster-bootstrap` reads it: `bootstrap-token-<id>` in kube-system, of
/// type `bootstrap.kubernetes.io/token`, with `token-id`, `token-secret`, an optional RFC 3339 `expiration`
/// and `usage-bootstrap-*` flags in its data.
struct BootstrapTokenSecret: Sendable, Equatable {
    static let secretType = "bootstrap.kubernetes.io/token"
    static let namespace = "kube-system"
    static let namePrefix = "bootstrap-token-"

    let secret: Secret

    init(_ secret: Secret) { self.secret = secret }

    /// A value of the Secret's data, decoded.
    func data(_ key: String) -> String? {
        guard let encoded = secret.data[key], let bytes = Data(base64Encoded: encoded) else { return nil }
        return String(data: bytes, encoding: .utf8)
    }

    var isBootstrapToken: Bool { secret.type == Self.secretType }

    /// The token id the Secret's name carries (`bootstrap-token-<[a-z0-9]{6}>`).
    var nameTokenID: String? {
        guard let name = secret.metadata.name, name.hasPrefix(Self.namePrefix) else { return nil }
        let id = name.dropFirst(Self.namePrefix.count)
        guard id.count == 6, id.allSatisfy({ ($0.isLowercase || $0.isNumber) && $0.isASCII }) else { return nil }
        return String(id)
    }

    /// Upstream's `GetExpiration`: how long the token has left, or expired; an expiration that does not parse
    /// counts as expired. No expiration: never expires (nil remaining, not expired).
    func expiration(now: Date) -> (remaining: TimeInterval?, expired: Bool) {
        guard let text = data("expiration"), !text.isEmpty else { return (nil, false) }
        guard let seconds = Timestamp.parse(text) else { return (nil, true) }
        let remaining = TimeInterval(seconds) - now.timeIntervalSince1970
        return remaining <= 0 ? (nil, true) : (remaining, false)
    }

    /// The token id and secret when this Secret may sign `cluster-info` at `now` (upstream's
    /// `validateSecretForSigning`): the id in the name and data agree, it has a secret, it has not expired and
    /// `usage-bootstrap-signing` is "true".
    func signingToken(now: Date) -> (id: String, secret: String)? {
        guard isBootstrapToken, let nameID = nameTokenID, let id = data("token-id"), id == nameID,
            let tokenSecret = data("token-secret"), !tokenSecret.isEmpty, !expiration(now: now).expired,
            data("usage-bootstrap-signing") == "true"
        else { return nil }
        return (id, tokenSecret)
    }
}

/// The detached JWS (RFC 7515 compact serialization with the payload left out, appendix F) that signs
/// `cluster-info`'s kubeconfig with a bootstrap token: HS256 keyed by the token secret, the token id as `kid`
/// in the protected header, as upstream's `jws.ComputeDetachedSignature` (go-jose) produces it.
enum DetachedJWS {
    /// `<base64url(header)>..<base64url(signature)>`.
    static func sign(content: String, tokenID: String, tokenSecret: String) -> String {
        // go-jose writes the protected header's keys sorted, as Go's JSON encoder writes a map.
        let header = base64URL(Array("{\"alg\":\"HS256\",\"kid\":\"\(jsonEscaped(tokenID))\"}".utf8))
        let signingInput = header + "." + base64URL(Array(content.utf8))
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array(signingInput.utf8), using: SymmetricKey(data: Array(tokenSecret.utf8)))
        return header + ".." + base64URL(Array(mac))
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Token ids are `[a-z0-9]{6}`; escaping keeps the header valid JSON whatever a Secret holds.
    static func jsonEscaped(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
