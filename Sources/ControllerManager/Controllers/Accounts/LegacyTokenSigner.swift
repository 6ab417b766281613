import Crypto
import Foundation
import JWTKit

/// The claims of a legacy (Secret-based) service-account token, as upstream's `LegacyClaims` writes them:
/// the `kubernetes/serviceaccount` issuer, the account as subject, and four flat private claims.
struct LegacyServiceAccountClaims: JWTPayload, Equatable {
    var iss: IssuerClaim
    var sub: SubjectClaim
    var namespace: String
    var secretName: String
    var serviceAccountName: String
    var serviceAccountUID: String

    enum CodingKeys: String, CodingKey {
        case iss, sub
        case namespace = "kubernetes.io/serviceaccount/namespace"
        case secretName = "kubernetes.io/serviceaccount/secret.name"
        case serviceAccountName = "kubernetes.io/serviceaccount/service-account.name"
        case serviceAccountUID = "kubernetes.io/serviceaccount/service-account.uid"
    }

    init(namespace: String, secretName: String, serviceAccountName: String, serviceAccountUID: String) {
        iss = IssuerClaim(value: LegacyTokenSigner.issuer)
        sub = SubjectClaim(value: "system:serviceaccount:\(namespace):\(serviceAccountName)")
        self.namespace = namespace
        self.secretName = secretName
        self.serviceAccountName = serviceAccountName
        self.serviceAccountUID = serviceAccountUID
    }

    /// Legacy tokens carry no expiry; the API server judges them against the Secret and the account.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// Signs legacy service-account tokens with `--service-account-private-key-file` (RSA → RS256, EC P-256/384/521
/// → ES256/384/512), the key ID being upstream's: unpadded base64url SHA-256 of the public key's DER.
struct LegacyTokenSigner: Sendable {
    static let issuer = "kubernetes/serviceaccount"

    /// A key file that holds no usable private key.
    struct KeyError: Error, CustomStringConvertible {
        var description: String
    }

    /// A parsed private key.
    enum Key: Sendable {
        case p256(P256.Signing.PrivateKey)
        case p384(P384.Signing.PrivateKey)
        case p521(P521.Signing.PrivateKey)
        case rsa(JWTKit.Insecure.RSA.PrivateKey)
    }

    let key: Key
    let keyID: String

    /// Reads the first private key of the PEM file at `path`.
    static func load(path: String) throws -> LegacyTokenSigner {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw KeyError(
                description: "error reading key for service account token controller: \(error.localizedDescription)")
        }
        return try LegacyTokenSigner(pem: text)
    }

    /// The signer for the first private key in `pem`.
    init(pem: String) throws {
        guard let key = Self.privateKeyBlocks(pem).lazy.compactMap(Self.key(from:)).first else {
            throw KeyError(
                description: "error reading key for service account token controller: no RSA or ECDSA private key found"
            )
        }
        self.key = key
        switch key {
        case .p256(let key): keyID = Self.keyID(publicKeyDER: key.publicKey.derRepresentation)
        case .p384(let key): keyID = Self.keyID(publicKeyDER: key.publicKey.derRepresentation)
        case .p521(let key): keyID = Self.keyID(publicKeyDER: key.publicKey.derRepresentation)
        case .rsa(let key): keyID = Self.keyID(publicKeyDER: key.publicKey.derRepresentation)
        }
    }

    static func key(from block: String) -> Key? {
        if let key = try? P256.Signing.PrivateKey(pemRepresentation: block) { return .p256(key) }
        if let key = try? P384.Signing.PrivateKey(pemRepresentation: block) { return .p384(key) }
        if let key = try? P521.Signing.PrivateKey(pemRepresentation: block) { return .p521(key) }
        if let key = try? JWTKit.Insecure.RSA.PrivateKey(pem: block) { return .rsa(key) }
        return nil
    }

    /// Signs `claims` (RS256 for RSA keys, ES256/384/512 by curve).
    func sign(_ claims: LegacyServiceAccountClaims) async throws -> String {
        let keys = JWTKeyCollection()
        let kid = JWKIdentifier(string: keyID)
        switch key {
        case .p256(let key): await keys.add(ecdsa: try ES256PrivateKey(backing: key), kid: kid)
        case .p384(let key): await keys.add(ecdsa: try ES384PrivateKey(backing: key), kid: kid)
        case .p521(let key): await keys.add(ecdsa: try ES512PrivateKey(backing: key), kid: kid)
        case .rsa(let key): await keys.add(rsa: key, digestAlgorithm: .sha256, kid: kid)
        }
        return try await keys.sign(claims, kid: kid)
    }

    /// The PEM blocks of `text` that hold a private key, each as its own PEM document.
    static func privateKeyBlocks(_ text: String) -> [String] {
        var blocks: [String] = []
        var current: [Substring]?
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("-----BEGIN "), trimmed.hasSuffix("PRIVATE KEY-----") {
                current = [line]
            } else if current != nil {
                current?.append(line)
                if trimmed.hasPrefix("-----END ") {
                    blocks.append((current ?? []).joined(separator: "\n") + "\n")
                    current = nil
                }
            }
        }
        return blocks
    }

    /// Upstream's `keyIDFromPublicKey`.
    static func keyID(publicKeyDER: Data) -> String {
        Data(SHA256.hash(data: publicKeyDER)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
