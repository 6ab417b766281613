import Component
import Foundation
import Operations
import X509
import XCTest

@testable import ControllerManager

/// The signers' checks of subject, names and usages, the lifetime rules and the certificate a signer issues.
final class CertificateRequestRulesTests: XCTestCase {
    typealias Rules = CertificateRequestRules
    let nodeClient = ["digital signature", "client auth"]
    let nodeServing = ["digital signature", "key encipherment", "server auth"]

    func testSignerChecksTable() throws {
        let node = try TestCertificateRequests.facts(commonName: "system:node:n1", organizations: ["system:nodes"])
        let nodeWithDNS = try TestCertificateRequests.facts(
            commonName: "system:node:n1", organizations: ["system:nodes"], dnsNames: ["n1.example"])
        let nodeWithEmail = try TestCertificateRequests.facts(
            commonName: "system:node:n1", organizations: ["system:nodes"], dnsNames: ["n1"], emails: ["a@b.c"])
        let notNodeGroup = try TestCertificateRequests.facts(commonName: "system:node:n1", organizations: ["x"])
        let notNodeName = try TestCertificateRequests.facts(commonName: "alice", organizations: ["system:nodes"])
        let user = try TestCertificateRequests.facts(commonName: "alice", organizations: ["devs"])
        let cases: [(String, CertificateRequestFacts, String, [String], String?)] = [
            ("kubelet client, EC usages", node, Rules.kubeletClientSigner, nodeClient, nil),
            (
                "kubelet client, RSA usages", node, Rules.kubeletClientSigner,
                ["key encipherment", "digital signature", "client auth"], nil
            ),
            (
                "kubelet client, server usage", node, Rules.kubeletClientSigner, ["digital signature", "server auth"],
                "usages did not match [client auth digital signature key encipherment]"
            ),
            (
                "kubelet client, other group", notNodeGroup, Rules.kubeletClientSigner, nodeClient,
                "subject organization is not system:nodes"
            ),
            (
                "kubelet client, other user", notNodeName, Rules.kubeletClientSigner, nodeClient,
                "subject common name does not begin with system:node:"
            ),
            (
                "kubelet client, DNS name", nodeWithDNS, Rules.kubeletClientSigner, nodeClient,
                "DNS subjectAltNames are not allowed"
            ),
            ("kubelet serving", nodeWithDNS, Rules.kubeletServingSigner, nodeServing, nil),
            (
                "kubelet serving, no names", node, Rules.kubeletServingSigner, nodeServing,
                "DNS or IP subjectAltName is required"
            ),
            (
                "kubelet serving, email", nodeWithEmail, Rules.kubeletServingSigner, nodeServing,
                "Email subjectAltNames are not allowed"
            ),
            (
                "kubelet serving, client usage", nodeWithDNS, Rules.kubeletServingSigner, nodeClient,
                "usages did not match [digital signature key encipherment server auth]"
            ),
            ("apiserver client", user, Rules.kubeAPIServerClientSigner, ["client auth", "digital signature"], nil),
            (
                "apiserver client, server usage", user, Rules.kubeAPIServerClientSigner,
                ["client auth", "server auth", "code signing"], "invalid usage for client certificate: server auth"
            ),
            (
                "apiserver client, no client auth", user, Rules.kubeAPIServerClientSigner, ["digital signature"],
                "missing required usage for client certificate: client auth"
            ),
            ("legacy unknown signs anything", user, Rules.legacyUnknownSigner, ["code signing"], nil),
        ]
        for (name, facts, signer, usages, expected) in cases {
            XCTAssertEqual(Rules.signerRejection(signerName: signer, facts: facts, usages: usages), expected, name)
        }
    }

    func testRequestsThatAreNotPKCS10AreRefused() {
        XCTAssertThrowsError(
            try CertificateRequestFacts(
                pem: Array("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".utf8))
        ) {
            XCTAssertEqual("\($0)", "PEM block type must be CERTIFICATE REQUEST")
        }
        XCTAssertThrowsError(try CertificateRequestFacts(pem: Array("not pem".utf8)))
    }

    func testApproverRecognisesNodeAndSelfNodeClients() throws {
        let pem = try TestCertificateRequests.make(commonName: "system:node:n1", organizations: ["system:nodes"])
        let facts = try CertificateRequestFacts(pem: Array(pem.request.utf8))
        var request = TestCertificateRequests.object(
            name: "r", pem: pem.request, signer: Rules.kubeletClientSigner, usages: nodeClient)
        typealias Recognizer = CertificateApprovingController.Recognizer
        request.spec.username = "system:bootstrap:abcdef"
        XCTAssertEqual(Recognizer.matching(request, facts), [.nodeClient])
        request.spec.username = "system:node:n1"
        XCTAssertEqual(Recognizer.matching(request, facts), [.selfNodeClient, .nodeClient])
        request.spec.signerName = Rules.kubeAPIServerClientSigner
        XCTAssertEqual(Recognizer.matching(request, facts), [])
        request.spec.signerName = Rules.kubeletClientSigner
        request.spec.usages = ["digital signature", "server auth"]
        XCTAssertEqual(Recognizer.matching(request, facts), [])
    }

    func testRequestedLifetimeIsCappedAndHasAFloor() {
        let year: TimeInterval = 8760 * 3600
        XCTAssertEqual(Rules.lifetime(expirationSeconds: nil, maximum: year), year)
        XCTAssertEqual(Rules.lifetime(expirationSeconds: 3600, maximum: year), 3600)
        XCTAssertEqual(Rules.lifetime(expirationSeconds: 60, maximum: year), 600)
        XCTAssertEqual(Rules.lifetime(expirationSeconds: Int32.max, maximum: year), year)
        XCTAssertEqual(Rules.lifetime(expirationSeconds: 7200, maximum: 3600), 3600)
        // Short certificates keep their whole lifetime after now; long ones give the backdate up.
        XCTAssertEqual(Rules.validAfterNow(lifetime: 3600), 3600)
        XCTAssertEqual(Rules.validAfterNow(lifetime: year), year - 300)
    }

    func testSignedCertificateCarriesTheRequestAndChainsToTheCA() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let authority = try CertificateAuthority.create(now: now.addingTimeInterval(-86400))
        let pem = try TestCertificateRequests.make(commonName: "system:node:n1", organizations: ["system:nodes"])
        let facts = try CertificateRequestFacts(pem: Array(pem.request.utf8))
        for (lifetime, validFor) in [(TimeInterval(3600), TimeInterval(3600)), (8760 * 3600, 8760 * 3600 - 300)] {
            let text = try CertificateIssuing.sign(
                facts, usages: nodeClient, lifetime: lifetime, by: authority, now: now)
            let certificate = try XCTUnwrap(PEM.certificates(from: text).first)
            XCTAssertEqual(certificate.notValidBefore, now.addingTimeInterval(-300))
            XCTAssertEqual(certificate.notValidAfter, now.addingTimeInterval(validFor))
            XCTAssertEqual(certificate.publicKey, facts.request.publicKey)
            XCTAssertEqual(certificate.issuer, authority.certificate.subject)
            XCTAssertTrue(authority.certificate.publicKey.isValidSignature(certificate.signature, for: certificate))
            let subject = CertificateSubject(certificate.subject)
            XCTAssertEqual(subject.commonName, "system:node:n1")
            XCTAssertEqual(subject.organizations, ["system:nodes"])
            XCTAssertEqual(try certificate.extensions.extendedKeyUsage.map(Array.init), [.clientAuth])
        }
        XCTAssertThrowsError(
            try CertificateIssuing.sign(
                facts, usages: nodeClient, lifetime: 3600, by: authority,
                now: authority.certificate.notValidAfter.addingTimeInterval(1)))
    }

    func testServingCertificateCarriesTheRequestedNames() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let authority = try CertificateAuthority.create(now: now.addingTimeInterval(-86400))
        let facts = try TestCertificateRequests.facts(
            commonName: "system:node:n1", organizations: ["system:nodes"], dnsNames: ["n1.example", "n1"])
        XCTAssertEqual(facts.dnsNames, ["n1.example", "n1"])
        let text = try CertificateIssuing.sign(facts, usages: nodeServing, lifetime: 3600, by: authority, now: now)
        let certificate = try XCTUnwrap(PEM.certificates(from: text).first)
        let names = try XCTUnwrap(try certificate.extensions.subjectAlternativeNames)
        XCTAssertEqual(Array(names), [.dnsName("n1.example"), .dnsName("n1")])
        XCTAssertEqual(try certificate.extensions.extendedKeyUsage.map(Array.init), [.serverAuth])
    }

    func testIPAddressesReadAsGoWritesThem() {
        XCTAssertEqual(CertificateRequestFacts.formatIP([10, 0, 0, 7]), "10.0.0.7")
        XCTAssertEqual(
            CertificateRequestFacts.formatIP([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
            "2001:db8::1")
    }

    func testSigningFilesFromFlags() throws {
        func files(_ values: [String: String]) throws -> [String: SigningAuthorities.Files] {
            try SigningAuthorities.files { values[$0] ?? "" }
        }
        XCTAssertEqual(try files([:]), [:])
        let shared = try files(["cluster-signing-cert-file": "ca.pem", "cluster-signing-key-file": "ca-key.pem"])
        XCTAssertEqual(shared.count, 4)
        XCTAssertEqual(shared[Rules.kubeletClientSigner], .init(certificate: "ca.pem", key: "ca-key.pem"))
        let own = try files([
            "cluster-signing-kubelet-client-cert-file": "k.pem", "cluster-signing-kubelet-client-key-file": "k-key.pem",
        ])
        XCTAssertEqual(Array(own.keys), [Rules.kubeletClientSigner])
        XCTAssertThrowsError(
            try files(["cluster-signing-cert-file": "ca.pem", "cluster-signing-legacy-unknown-cert-file": "x"]))
        XCTAssertThrowsError(try files(["cluster-signing-cert-file": "ca.pem"]))
    }

    func testSigningDurationKeepsItsOldName() throws {
        var flags = FlagSet(SigningAuthorities.flagDefinitions)
        XCTAssertEqual(flags.string("cluster-signing-duration"), "8760h0m0s")
        try flags.parse(["--experimental-cluster-signing-duration=1h"])
        XCTAssertEqual(flags.string("cluster-signing-duration"), "1h")
    }
}
