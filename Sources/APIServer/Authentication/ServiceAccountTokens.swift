import APIMachinery
import Foundation
import JWTKit

/// The claims of a service-account token: upstream's bound-token claims (`kubernetes.io`) and the
/// legacy secret-based token's flat claims. jwt-kit checks the signature; the authenticator checks
/// the claims against the issuer, audiences, clock and stored objects.
struct ServiceAccountClaims: JWTPayload, Equatable {
    /// A bound object as the claims name it.
    struct Reference: Codable, Sendable, Equatable {
        var name: String
        var uid: String
    }

    /// The `kubernetes.io` private claim of bound tokens.
    struct Kubernetes: Codable, Sendable, Equatable {
        var namespace: String
        var serviceaccount: Reference
        var pod: Reference?
        var secret: Reference?
        var node: Reference?
    }

    var aud: AudienceClaim?
    var exp: ExpirationClaim?
    var iat: IssuedAtClaim?
    var iss: IssuerClaim
    var jti: IDClaim?
    var kubernetes: Kubernetes?
    var nbf: NotBeforeClaim?
    var sub: SubjectClaim?
    var legacyNamespace: String?
    var legacySecretName: String?
    var legacyServiceAccountName: String?
    var legacyServiceAccountUID: String?

    enum CodingKeys: String, CodingKey {
        case aud, exp, iat, iss, jti, nbf, sub
        case kubernetes = "kubernetes.io"
        case legacyNamespace = "kubernetes.io/serviceaccount/namespace"
        case legacySecretName = "kubernetes.io/serviceaccount/secret.name"
        case legacyServiceAccountName = "kubernetes.io/serviceaccount/service-account.name"
        case legacyServiceAccountUID = "kubernetes.io/serviceaccount/service-account.uid"
    }

    /// Claims are judged by `ServiceAccountTokens.authenticate`, which knows the clock and the objects.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// Issues and verifies service-account tokens (`--service-account-key-file`, `--service-account-signing-key-file`,
/// `--service-account-issuer`, `--api-audiences`), as upstream's token authenticator and TokenRequest do.
public struct ServiceAccountTokens: Sendable {
    /// The issuer the legacy secret-based tokens carry.
    static let legacyIssuer = "kubernetes/serviceaccount"

    /// Accepted issuers; the first is the one this server issues with.
    public let issuers: [String]
    /// The audiences a token must name one of; also the default audiences of issued tokens.
    public let audiences: [String]
    /// Longest lifetime a TokenRequest may ask for (nil: no limit beyond upstream's 2^32 seconds).
    public let maxExpirationSeconds: Int64?
    let verification: JWTKeyCollection
    let signing: JWTKeyCollection?
    let signingKeyID: String?

    /// Builds the key collections; `signingKey` must be a private key when given.
    public init(
        issuers: [String], audiences: [String], verificationKeys: [ServiceAccountKey], signingKey: ServiceAccountKey?,
        maxExpirationSeconds: Int64? = nil
    ) async throws {
        self.issuers = issuers
        self.audiences = audiences.isEmpty ? Array(issuers.prefix(1)) : audiences
        self.maxExpirationSeconds = maxExpirationSeconds
        let verification = JWTKeyCollection()
        for key in verificationKeys { try await key.add(to: verification, signing: false) }
        if let signingKey {
            // The signing key verifies what it signs, as upstream adds its public half to the verifiers.
            try await signingKey.add(to: verification, signing: false)
            let signing = JWTKeyCollection()
            try await signingKey.add(to: signing, signing: true)
            self.signing = signing
            self.signingKeyID = signingKey.keyID
        } else {
            self.signing = nil
            self.signingKeyID = nil
        }
        self.verification = verification
    }

    /// True when this server can answer TokenRequests.
    public var canIssue: Bool { signing != nil }

    /// Signs a bound token for `serviceAccount` (its name and uid) valid from `now` for `seconds`.
    func issue(
        namespace: String, serviceAccount: ServiceAccountClaims.Reference, audiences: [String], seconds: Int64,
        pod: ServiceAccountClaims.Reference? = nil, secret: ServiceAccountClaims.Reference? = nil,
        now: Date = Date()
    ) async throws -> (token: String, expires: Date) {
        guard let signing, let signingKeyID, let issuer = issuers.first else {
            throw APIError.internalError("service account token signing is not configured")
        }
        let issued = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let expires = issued.addingTimeInterval(TimeInterval(seconds))
        let claims = ServiceAccountClaims(
            aud: AudienceClaim(value: audiences), exp: ExpirationClaim(value: expires),
            iat: IssuedAtClaim(value: issued), iss: IssuerClaim(value: issuer),
            jti: IDClaim(value: UUID().uuidString.lowercased()),
            kubernetes: .init(namespace: namespace, serviceaccount: serviceAccount, pod: pod, secret: secret),
            nbf: NotBeforeClaim(value: issued),
            sub: SubjectClaim(value: "system:serviceaccount:\(namespace):\(serviceAccount.name)"))
        let token = try await signing.sign(claims, kid: JWKIdentifier(string: signingKeyID))
        return (token, expires)
    }

    /// The service account a token proves, or nil when the token is not one of ours or no longer valid
    /// (bad signature, wrong issuer or audience, expired, or its service account or bound object is gone).
    func authenticate(token: String, objects: StoredObjects, audiences: [String]? = nil, now: Date = Date()) async
        -> UserInfo?
    {
        // Only JWTs whose issuer we accept are ours; other token authenticators may own the rest.
        guard token.split(separator: ".", omittingEmptySubsequences: false).count == 3,
            let unverified = try? await verification.unverified(token, as: ServiceAccountClaims.self),
            unverified.iss.value == Self.legacyIssuer || issuers.contains(unverified.iss.value),
            let claims = try? await verification.verify(token, as: ServiceAccountClaims.self, iteratingKeys: true)
        else { return nil }
        if claims.iss.value == Self.legacyIssuer { return await legacyUser(claims, token: token, objects: objects) }
        return await boundUser(claims, objects: objects, audiences: audiences ?? self.audiences, now: now)
    }

    private func boundUser(_ claims: ServiceAccountClaims, objects: StoredObjects, audiences: [String], now: Date)
        async -> UserInfo?
    {
        guard let bound = claims.kubernetes, let expiry = claims.exp?.value, expiry > now,
            claims.nbf.map({ $0.value <= now.addingTimeInterval(60) }) ?? true,
            !Set(claims.aud?.value ?? []).isDisjoint(with: audiences),
            claims.sub?.value == "system:serviceaccount:\(bound.namespace):\(bound.serviceaccount.name)"
        else { return nil }
        let namespace = bound.namespace
        guard
            await Self.isLive(
                objects.get("serviceaccounts", namespace: namespace, name: bound.serviceaccount.name),
                uid: bound.serviceaccount.uid)
        else { return nil }
        var extra: [String: [String]] = [:]
        if let pod = bound.pod {
            guard await Self.isLive(objects.get("pods", namespace: namespace, name: pod.name), uid: pod.uid) else {
                return nil
            }
            extra["authentication.kubernetes.io/pod-name"] = [pod.name]
            extra["authentication.kubernetes.io/pod-uid"] = [pod.uid]
        }
        if let secret = bound.secret {
            guard await Self.isLive(objects.get("secrets", namespace: namespace, name: secret.name), uid: secret.uid)
            else { return nil }
        }
        if let jti = claims.jti?.value { extra["authentication.kubernetes.io/credential-id"] = ["JTI=\(jti)"] }
        return Self.user(
            namespace: namespace, name: bound.serviceaccount.name, uid: bound.serviceaccount.uid, extra: extra)
    }

    /// Legacy tokens live in a `kubernetes.io/service-account-token` Secret: valid while that Secret still
    /// holds exactly this token and the service account it names exists with the same uid.
    private func legacyUser(_ claims: ServiceAccountClaims, token: String, objects: StoredObjects) async -> UserInfo? {
        guard let namespace = claims.legacyNamespace, let secretName = claims.legacySecretName,
            let name = claims.legacyServiceAccountName, let uid = claims.legacyServiceAccountUID,
            let secret = await objects.get("secrets", namespace: namespace, name: secretName),
            secret["metadata"]?["deletionTimestamp"] == nil,
            let stored = secret["data"]?["token"]?.stringValue.flatMap({ Data(base64Encoded: $0) }),
            String(data: stored, encoding: .utf8) == token,
            await Self.isLive(objects.get("serviceaccounts", namespace: namespace, name: name), uid: uid)
        else { return nil }
        return Self.user(namespace: namespace, name: name, uid: uid, extra: [:])
    }

    /// An object that exists, is not being deleted and has the uid the token was bound to.
    static func isLive(_ object: JSON?, uid: String) -> Bool {
        guard let object, object["metadata"]?["deletionTimestamp"] == nil else { return false }
        return object.uid == uid
    }

    /// upstream's service-account user: its name, the service-account groups and the bound-object extras.
    static func user(namespace: String, name: String, uid: String, extra: [String: [String]]) -> UserInfo {
        UserInfo(
            name: "system:serviceaccount:\(namespace):\(name)", uid: uid,
            groups: ["system:serviceaccounts", "system:serviceaccounts:\(namespace)"], extra: extra)
    }
}
