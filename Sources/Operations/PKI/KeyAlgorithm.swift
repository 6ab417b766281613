import Crypto
public import X509
import _CryptoExtras

/// The kind of private key to generate for a new certificate.
public enum KeyAlgorithm: Sendable, Hashable {
    /// ECDSA on P-256: small and fast to generate; what we use by default.
    case ecdsaP256
    /// RSA with 2048-bit modulus, as in the guide's cfssl-made files.
    case rsa2048
    /// RSA with 4096-bit modulus.
    case rsa4096

    /// Generates a fresh private key of this kind.
    public func generate() throws -> Certificate.PrivateKey {
        switch self {
        case .ecdsaP256:
            return Certificate.PrivateKey(P256.Signing.PrivateKey())
        case .rsa2048:
            return Certificate.PrivateKey(try _RSA.Signing.PrivateKey(keySize: .bits2048))
        case .rsa4096:
            return Certificate.PrivateKey(try _RSA.Signing.PrivateKey(keySize: .bits4096))
        }
    }
}
