import Client
import Foundation
import NodeSimulator
import Operations
import X509
import XCTest

/// The pure parts of a simulated node's TLS bootstrap: the request's name and object, reading its status as
/// client-go does, and when a certificate is renewed on `FakeTime`.
final class NodeCertificateRequestsTests: XCTestCase {
    func testTheNameDigestsKeySubjectAndUsagesAsUpstreamsDoes() {
        let name = NodeCertificateRequests.name(
            publicKeyDER: [1, 2, 3], commonName: "system:node:a", organizations: ["system:nodes"],
            usages: ["digital signature", "client auth"])
        XCTAssertTrue(name.hasPrefix("node-csr-"), name)
        // 32 digest bytes in unpadded base64url: 43 characters of [A-Za-z0-9_-].
        let digest = name.dropFirst("node-csr-".count)
        XCTAssertEqual(digest.count, 43)
        XCTAssertTrue(digest.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }, name)
        XCTAssertEqual(
            name,
            NodeCertificateRequests.name(
                publicKeyDER: [1, 2, 3], commonName: "system:node:a", organizations: ["system:nodes"],
                usages: ["digital signature", "client auth"]), "the same request asks under the same name")
        XCTAssertNotEqual(
            name,
            NodeCertificateRequests.name(
                publicKeyDER: [1, 2, 4], commonName: "system:node:a", organizations: ["system:nodes"],
                usages: ["digital signature", "client auth"]))
        XCTAssertNotEqual(
            name,
            NodeCertificateRequests.name(
                publicKeyDER: [1, 2, 3], commonName: "system:node:b", organizations: ["system:nodes"],
                usages: ["digital signature", "client auth"]))
    }

    func testTheObjectAsksTheKubeletSignerForTheNodesRequest() throws {
        let request = try NodeCertificateRequest(nodeName: "sim-4")
        let object = try NodeCertificateRequests.object(for: request, nodeName: "sim-4")
        XCTAssertEqual(object.spec.signerName, "kubernetes.io/kube-apiserver-client-kubelet")
        XCTAssertEqual(object.spec.usages, ["digital signature", "client auth"])
        let pem = try XCTUnwrap(object.spec.request.flatMap { Data(base64Encoded: $0) })
        XCTAssertEqual(String(decoding: pem, as: UTF8.self), request.requestPEM)
        XCTAssertTrue(object.metadata.name?.hasPrefix("node-csr-") ?? false)
        let again = try NodeCertificateRequests.object(
            for: try NodeCertificateRequest(nodeName: "sim-4"), nodeName: "sim-4")
        XCTAssertNotEqual(again.metadata.name, object.metadata.name, "a new key gets a new name")
    }

    func testOutcomeReadsDenialFailureAndTheCertificate() {
        var request = CertificateSigningRequest()
        XCTAssertEqual(NodeCertificateRequests.outcome(of: request), .pending)
        request.status.conditions = [CertificateSigningRequestCondition(type: "Approved", status: "True")]
        XCTAssertEqual(NodeCertificateRequests.outcome(of: request), .pending, "approved, not yet issued")
        request.status.certificate = Data("-----BEGIN CERTIFICATE-----\n".utf8).base64EncodedString()
        XCTAssertEqual(
            NodeCertificateRequests.outcome(of: request), .issued(certificatePEM: "-----BEGIN CERTIFICATE-----\n"))

        var denied = CertificateSigningRequest()
        denied.status.conditions = [
            CertificateSigningRequestCondition(type: "Denied", status: "True", message: "no", reason: "Nope")
        ]
        XCTAssertEqual(
            NodeCertificateRequests.outcome(of: denied),
            .refused("certificate signing request is denied, reason: Nope, message: no"))
        var failed = CertificateSigningRequest()
        failed.status.conditions = [
            CertificateSigningRequestCondition(type: "Failed", status: "True", message: "bad key", reason: "Invalid")
        ]
        XCTAssertEqual(
            NodeCertificateRequests.outcome(of: failed),
            .refused("certificate signing request failed, reason: Invalid, message: bad key"))
    }

    func testRenewalComesAtSeventyToNinetyPercentOfTheLifeOrAtOnceWhenPast() {
        let time = FakeTime()
        let notBefore = time.wallNow
        let notAfter = notBefore.addingTimeInterval(10_000)
        XCTAssertEqual(
            NodeCertificateRequests.renewalDelay(
                notBefore: notBefore, notAfter: notAfter, jitter: 0, now: time.wallNow),
            .seconds(7_000))
        XCTAssertEqual(
            NodeCertificateRequests.renewalDelay(
                notBefore: notBefore, notAfter: notAfter, jitter: 0.5, now: time.wallNow), .seconds(8_000))
        time.advance(by: .seconds(8_500))
        XCTAssertEqual(
            NodeCertificateRequests.renewalDelay(
                notBefore: notBefore, notAfter: notAfter, jitter: 1, now: time.wallNow),
            .seconds(500))
        time.advance(by: .seconds(1_000))
        XCTAssertEqual(
            NodeCertificateRequests.renewalDelay(
                notBefore: notBefore, notAfter: notAfter, jitter: 1, now: time.wallNow),
            .zero, "a certificate past its renewal point renews at once")
    }

    func testBootstrapTokensParseAndMakeTheSecretTheAuthenticatorChecks() throws {
        XCTAssertNil(BootstrapToken(parsing: "0123456789abcdef0123456789abcdef"), "the guide's static token")
        XCTAssertNil(BootstrapToken(parsing: "ABCDEF.0123456789abcdef"))
        let token = try XCTUnwrap(BootstrapToken(parsing: "abc123.0123456789abcdef"))
        XCTAssertEqual(token.description, "abc123.0123456789abcdef")
        let random = BootstrapToken.random()
        XCTAssertEqual(BootstrapToken(parsing: random.description), random)
        XCTAssertNotEqual(BootstrapToken.random(), random)
        let secret = token.secretObject
        XCTAssertEqual(secret.metadata.name, "bootstrap-token-abc123")
        XCTAssertEqual(secret.metadata.namespace, "kube-system")
        XCTAssertEqual(secret.type, "bootstrap.kubernetes.io/token")
        let data = secret.data.compactMapValues { Data(base64Encoded: $0).map { String(decoding: $0, as: UTF8.self) } }
        XCTAssertEqual(data["token-id"], "abc123")
        XCTAssertEqual(data["token-secret"], "0123456789abcdef")
        XCTAssertEqual(data["usage-bootstrap-authentication"], "true")
        XCTAssertNil(data["expiration"])
    }
}
