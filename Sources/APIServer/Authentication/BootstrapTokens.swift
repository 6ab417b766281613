import APIMachinery
import Foundation
import Storage

/// Reads stored objects by kind folder and name, for authenticators that check the objects a
/// credential names (bootstrap-token Secrets, service accounts, pods).
struct StoredObjects: Sendable {
    let storage: any KeyValueStore
    let prefix: String

    func get(_ folder: String, namespace: String, name: String) async -> JSON? {
        guard let value = try? await storage.get(key: "\(prefix)/\(folder)/\(namespace)/\(name)") else { return nil }
        return try? JSON.parse(value.value)
    }
}

/// Bootstrap tokens (`--enable-bootstrap-token-auth`): `<id>.<secret>` bearer tokens backed by
/// `bootstrap-token-<id>` Secrets of type `bootstrap.kubernetes.io/token` in kube-system, as upstream's
/// bootstrap authenticator checks them. A token that fails any check is simply not recognised.
struct BootstrapTokenAuthenticator: Sendable {
    let objects: StoredObjects

    static let secretType = "bootstrap.kubernetes.io/token"
    static let defaultGroup = "system:bootstrappers"

    /// Splits `<id>.<secret>` ([a-z0-9]{6}.[a-z0-9]{16}); nil for anything else.
    static func parse(_ token: String) -> (id: String, secret: String)? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 6, parts[1].count == 16 else { return nil }
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789")
        guard parts[0].allSatisfy(allowed.contains), parts[1].allSatisfy(allowed.contains) else { return nil }
        return (String(parts[0]), String(parts[1]))
    }

    func authenticate(token: String, now: Date = Date()) async -> UserInfo? {
        guard let (id, secret) = Self.parse(token),
            let object = await objects.get("secrets", namespace: "kube-system", name: "bootstrap-token-" + id)
        else { return nil }
        return Self.user(tokenID: id, tokenSecret: secret, secret: object, now: now)
    }

    /// The user a bootstrap-token Secret grants, after upstream's checks.
    static func user(tokenID: String, tokenSecret: String, secret: JSON, now: Date) -> UserInfo? {
        guard secret["metadata"]?["deletionTimestamp"] == nil, secret["type"]?.stringValue == secretType else {
            return nil
        }
        func data(_ key: String) -> String? {
            guard let encoded = secret["data"]?[key]?.stringValue, let bytes = Data(base64Encoded: encoded) else {
                return nil
            }
            return String(data: bytes, encoding: .utf8)
        }
        guard let storedSecret = data("token-secret"), constantTimeEqual(storedSecret, tokenSecret),
            data("token-id") == tokenID, data("usage-bootstrap-authentication") == "true"
        else { return nil }
        if let expiration = data("expiration") {
            guard let expiry = Timestamp.parse(expiration), expiry > Int64(now.timeIntervalSince1970) else {
                return nil
            }
        }
        var groups = [defaultGroup]
        for group in (data("auth-extra-groups") ?? "").split(separator: ",") {
            let name = String(group).trimmingSpaces
            // upstream refuses the whole token when an extra group is outside system:bootstrappers:*.
            guard isBootstrapGroup(name) else { return nil }
            if !groups.contains(name) { groups.append(name) }
        }
        return UserInfo(name: "system:bootstrap:" + tokenID, groups: groups)
    }

    /// `^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$`
    static func isBootstrapGroup(_ name: String) -> Bool {
        let prefix = defaultGroup + ":"
        guard name.hasPrefix(prefix) else { return false }
        let rest = name.dropFirst(prefix.count)
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789:-")
        guard let last = rest.last, rest.count <= 256, last != ":", last != "-" else { return false }
        return rest.allSatisfy(allowed.contains)
    }

    /// Compares secrets without leaking where they differ through timing.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8)
        let right = Array(b.utf8)
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }
}
