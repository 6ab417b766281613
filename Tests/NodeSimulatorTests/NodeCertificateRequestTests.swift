import Foundation
import Operations
import X509
import XCTest

/// The TLS bootstrap's request: the subject the kubelet signer accepts, a key that matches, and renewal
/// spread over 70 to 90 % of a certificate's life.
final class NodeCertificateRequestTests: XCTestCase {
    func testRequestNamesTheNodeInSystemNodesAndMatchesItsKey() throws {
        let made = try NodeCertificateRequest(nodeName: "node-7")
        let request = try X509.CertificateSigningRequest(pemEncoded: made.requestPEM)
        let commonNames = request.subject.flatMap { $0 }.filter { $0.type == .RDNAttributeType.commonName }
        let organizations = request.subject.flatMap { $0 }.filter { $0.type == .RDNAttributeType.organizationName }
        XCTAssertEqual(commonNames.map { "\($0.value)" }, ["system:node:node-7"])
        XCTAssertEqual(organizations.map { "\($0.value)" }, ["system:nodes"])
        XCTAssertTrue(request.publicKey.isValidSignature(request.signature, for: request))
        let key = try PEM.privateKey(from: made.keyPEM)
        XCTAssertEqual(key.publicKey, request.publicKey)
        XCTAssertNotEqual(try NodeCertificateRequest(nodeName: "node-7").keyPEM, made.keyPEM, "a new key each time")
        XCTAssertEqual(NodeCertificateRequest.signerName, "kubernetes.io/kube-apiserver-client-kubelet")
    }

    func testRenewalFallsBetweenSeventyAndNinetyPercentOfTheLife() {
        let start = Date(timeIntervalSince1970: 1_000_000)
        let end = start.addingTimeInterval(1000)
        XCTAssertEqual(NodeCertificateRequest.renewalTime(notBefore: start, notAfter: end, jitter: 0), start + 700)
        XCTAssertEqual(NodeCertificateRequest.renewalTime(notBefore: start, notAfter: end, jitter: 0.5), start + 800)
        XCTAssertEqual(NodeCertificateRequest.renewalTime(notBefore: start, notAfter: end, jitter: 1), start + 900)
        XCTAssertEqual(NodeCertificateRequest.renewalTime(notBefore: start, notAfter: end, jitter: 7), start + 900)
    }
}
