import Client
import Crypto
import Foundation
import Operations
import X509

@testable import ControllerManager

/// PKCS#10 requests as a kubelet (or anyone) makes them, for the certificate controller tests.
enum TestCertificateRequests {
    /// A signed request PEM for the subject and names, and the PEM of its new P-256 key.
    static func make(
        commonName: String, organizations: [String] = [], dnsNames: [String] = [], emails: [String] = []
    ) throws -> (request: String, key: String) {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        var attributes = organizations.map {
            RelativeDistinguishedName.Attribute(type: .RDNAttributeType.organizationName, utf8String: $0)
        }
        attributes.append(.init(type: .RDNAttributeType.commonName, utf8String: commonName))
        var requestAttributes = X509.CertificateSigningRequest.Attributes()
        let names = dnsNames.map(GeneralName.dnsName) + emails.map(GeneralName.rfc822Name)
        if !names.isEmpty {
            let extensions = try Certificate.Extensions([
                Certificate.Extension(SubjectAlternativeNames(names), critical: false)
            ])
            requestAttributes.insert(try .init(ExtensionRequest(extensions: extensions)))
        }
        let request = try X509.CertificateSigningRequest(
            version: .v1, subject: try DistinguishedName(attributes), privateKey: key,
            attributes: requestAttributes, signatureAlgorithm: .ecdsaWithSHA256)
        return (try request.serializeAsPEM().pemString + "\n", try PEM.encode(key))
    }

    /// The facts the controllers read from such a request.
    static func facts(
        commonName: String, organizations: [String] = [], dnsNames: [String] = [], emails: [String] = []
    ) throws -> CertificateRequestFacts {
        let pem = try make(commonName: commonName, organizations: organizations, dnsNames: dnsNames, emails: emails)
        return try CertificateRequestFacts(pem: Array(pem.request.utf8))
    }

    /// A CertificateSigningRequest object for `pem`.
    static func object(
        name: String, pem: String, signer: String, usages: [String], expirationSeconds: Int32? = nil
    ) -> Client.CertificateSigningRequest {
        var object = Client.CertificateSigningRequest()
        object.metadata.name = name
        object.spec.request = Data(pem.utf8).base64EncodedString()
        object.spec.signerName = signer
        object.spec.usages = usages
        object.spec.expirationSeconds = expirationSeconds
        return object
    }
}
