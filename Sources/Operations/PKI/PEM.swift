import Foundation
import SwiftASN1
public import X509

/// Reading and writing PEM text for certificates and private keys.
public enum PEM {
    /// Parses every `CERTIFICATE` block in `text`, in order; other blocks are skipped.
    ///
    /// - Parameter source: names the input in error messages (usually the file path).
    public static func certificates(from text: String, source: String = "PEM") throws -> [Certificate] {
        let documents = try blocks(in: text, source: source)
        var result: [Certificate] = []
        for document in documents where document.discriminator == "CERTIFICATE" {
            do {
                result.append(try Certificate(derEncoded: document.derBytes))
            } catch {
                throw PKIError.malformedPEM(source: source, reason: "certificate: \(error)")
            }
        }
        guard !result.isEmpty else {
            throw PKIError.noPEMBlock(expected: "CERTIFICATE", source: source)
        }
        return result
    }

    /// Parses the first private key in `text`: PKCS#8 `PRIVATE KEY`, PKCS#1 `RSA PRIVATE KEY`
    /// or SEC1 `EC PRIVATE KEY` (P-256, P-384, P-521).
    ///
    /// Other blocks are skipped, because `openssl ecparam -genkey` writes an `EC PARAMETERS`
    /// block before the key.
    public static func privateKey(from text: String, source: String = "PEM") throws
        -> Certificate.PrivateKey
    {
        let keyKinds: Set<String> = ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"]
        for document in try blocks(in: text, source: source) {
            if keyKinds.contains(document.discriminator) {
                do {
                    return try Certificate.PrivateKey(pemDocument: document)
                } catch {
                    throw PKIError.malformedPEM(source: source, reason: "\(document.discriminator): \(error)")
                }
            }
            if document.discriminator.hasSuffix("PRIVATE KEY") {
                throw PKIError.unsupportedPrivateKey(kind: document.discriminator, source: source)
            }
        }
        throw PKIError.noPEMBlock(expected: "PRIVATE KEY", source: source)
    }

    /// The PEM text of a certificate, ending with a newline.
    public static func encode(_ certificate: Certificate) throws -> String {
        try certificate.serializeAsPEM().pemString + "\n"
    }

    /// The PEM text of a private key (PKCS#8 for EC, PKCS#1 for RSA), ending with a newline.
    public static func encode(_ privateKey: Certificate.PrivateKey) throws -> String {
        let text = try privateKey.serializeAsPEM().pemString
        return text.hasSuffix("\n") ? text : text + "\n"
    }

    /// Splits `text` into PEM blocks, tolerating text between blocks as openssl does.
    static func blocks(in text: String, source: String) throws -> [PEMDocument] {
        // PEMDocument.parseMultiple refuses text outside blocks (e.g. "Bag Attributes" headers
        // or comments), so cut out each BEGIN…END span ourselves first.
        var documents: [PEMDocument] = []
        var current: [Substring] = []
        var inside = false
        for line in text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("-----BEGIN ") {
                inside = true
                current = [Substring(trimmed)]
            } else if inside {
                current.append(Substring(trimmed))
                if trimmed.hasPrefix("-----END ") {
                    inside = false
                    let block = current.joined(separator: "\n")
                    do {
                        documents.append(try PEMDocument(pemString: block))
                    } catch {
                        throw PKIError.malformedPEM(source: source, reason: "\(error)")
                    }
                }
            }
        }
        if inside { throw PKIError.malformedPEM(source: source, reason: "unterminated PEM block") }
        return documents
    }
}
