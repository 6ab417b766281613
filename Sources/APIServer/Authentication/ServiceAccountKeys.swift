import Crypto
import Foundation
import JWTKit
import SwiftASN1
import X509
import _CryptoExtras

/// A key that signs or verifies service-account tokens: RSA (RS256) or ECDSA (ES256/ES384/ES512),
/// identified by upstream's key ID (base64url SHA-256 of the public key's DER).
public struct ServiceAccountKey: Sendable {
    enum Material: Sendable {
        case rsaPublic(_RSA.Signing.PublicKey)
        case rsaPrivate(_RSA.Signing.PrivateKey)
        case p256Public(P256.Signing.PublicKey)
        case p256Private(P256.Signing.PrivateKey)
        case p384Public(P384.Signing.PublicKey)
        case p384Private(P384.Signing.PrivateKey)
        case p521Public(P521.Signing.PublicKey)
        case p521Private(P521.Signing.PrivateKey)
    }

    let material: Material

    /// True when the key can sign (it is a private key).
    public var isPrivate: Bool {
        switch material {
        case .rsaPrivate, .p256Private, .p384Private, .p521Private: true
        default: false
        }
    }

    /// The public key's SubjectPublicKeyInfo DER.
    var publicKeyDER: Data {
        switch material {
        case .rsaPublic(let key): key.derRepresentation
        case .rsaPrivate(let key): key.publicKey.derRepresentation
        case .p256Public(let key): key.derRepresentation
        case .p256Private(let key): key.publicKey.derRepresentation
        case .p384Public(let key): key.derRepresentation
        case .p384Private(let key): key.publicKey.derRepresentation
        case .p521Public(let key): key.derRepresentation
        case .p521Private(let key): key.publicKey.derRepresentation
        }
    }

    /// upstream's `keyIDFromPublicKey`: unpadded base64url of SHA-256 over the public key DER.
    public var keyID: String {
        Data(SHA256.hash(data: publicKeyDER)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Adds the key to a jwt-kit collection: for verifying (its public half) or for signing.
    func add(to keys: JWTKeyCollection, signing: Bool) async throws {
        let kid = JWKIdentifier(string: keyID)
        switch material {
        case .rsaPublic(let key):
            await keys.add(rsa: try Insecure.RSA.PublicKey(backing: key), digestAlgorithm: .sha256, kid: kid)
        case .rsaPrivate(let key):
            if signing {
                await keys.add(rsa: try Insecure.RSA.PrivateKey(backing: key), digestAlgorithm: .sha256, kid: kid)
            } else {
                await keys.add(
                    rsa: try Insecure.RSA.PublicKey(backing: key.publicKey), digestAlgorithm: .sha256, kid: kid)
            }
        case .p256Public(let key): await keys.add(ecdsa: try ES256PublicKey(backing: key), kid: kid)
        case .p256Private(let key):
            if signing {
                await keys.add(ecdsa: try ES256PrivateKey(backing: key), kid: kid)
            } else {
                await keys.add(ecdsa: try ES256PublicKey(backing: key.publicKey), kid: kid)
            }
        case .p384Public(let key): await keys.add(ecdsa: try ES384PublicKey(backing: key), kid: kid)
        case .p384Private(let key):
            if signing {
                await keys.add(ecdsa: try ES384PrivateKey(backing: key), kid: kid)
            } else {
                await keys.add(ecdsa: try ES384PublicKey(backing: key.publicKey), kid: kid)
            }
        case .p521Public(let key): await keys.add(ecdsa: try ES512PublicKey(backing: key), kid: kid)
        case .p521Private(let key):
            if signing {
                await keys.add(ecdsa: try ES512PrivateKey(backing: key), kid: kid)
            } else {
                await keys.add(ecdsa: try ES512PublicKey(backing: key.publicKey), kid: kid)
            }
        }
    }

    /// A key file that holds no usable key.
    public struct LoadError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Every key in a PEM file, as upstream's `keyutil.ParsePublicKeysPEM` reads it: public keys, RSA/EC/PKCS#8
    /// private keys and certificates (their public key).
    public static func load(path: String) throws -> [ServiceAccountKey] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw LoadError(
                description: "failed to read service account key file \(path): \(error.localizedDescription)")
        }
        let keys = try parse(pem: text)
        guard !keys.isEmpty else {
            throw LoadError(description: "data does not contain any valid RSA or ECDSA public keys (\(path))")
        }
        return keys
    }

    /// Parses every PEM block it understands; other blocks are skipped, as upstream skips them.
    public static func parse(pem text: String) throws -> [ServiceAccountKey] {
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: text)
        } catch {
            throw LoadError(description: "malformed PEM: \(error)")
        }
        return documents.compactMap(key(from:))
    }

    static func key(from document: PEMDocument) -> ServiceAccountKey? {
        let pem = document.pemString
        switch document.discriminator {
        case "RSA PRIVATE KEY":
            return (try? _RSA.Signing.PrivateKey(pemRepresentation: pem)).map {
                ServiceAccountKey(material: .rsaPrivate($0))
            }
        case "EC PRIVATE KEY", "PRIVATE KEY":
            if let key = try? P256.Signing.PrivateKey(pemRepresentation: pem) {
                return .init(material: .p256Private(key))
            }
            if let key = try? P384.Signing.PrivateKey(pemRepresentation: pem) {
                return .init(material: .p384Private(key))
            }
            if let key = try? P521.Signing.PrivateKey(pemRepresentation: pem) {
                return .init(material: .p521Private(key))
            }
            if let key = try? _RSA.Signing.PrivateKey(pemRepresentation: pem) {
                return .init(material: .rsaPrivate(key))
            }
            return nil
        case "RSA PUBLIC KEY":
            return (try? _RSA.Signing.PublicKey(pemRepresentation: pem)).map {
                ServiceAccountKey(material: .rsaPublic($0))
            }
        case "PUBLIC KEY":
            return (try? Certificate.PublicKey(derEncoded: document.derBytes)).flatMap(key(from:))
        case "CERTIFICATE":
            return (try? Certificate(derEncoded: document.derBytes)).flatMap { key(from: $0.publicKey) }
        default:
            return nil
        }
    }

    static func key(from publicKey: Certificate.PublicKey) -> ServiceAccountKey? {
        if let key = _RSA.Signing.PublicKey(publicKey) { return .init(material: .rsaPublic(key)) }
        if let key = P256.Signing.PublicKey(publicKey) { return .init(material: .p256Public(key)) }
        if let key = P384.Signing.PublicKey(publicKey) { return .init(material: .p384Public(key)) }
        if let key = P521.Signing.PublicKey(publicKey) { return .init(material: .p521Public(key)) }
        return nil
    }
}
