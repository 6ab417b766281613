import Foundation
import Operations
import SwiftASN1
import X509
import XCTest

final class CertificateAuthorityTests: XCTestCase {
    func testClientCertificateChainsToCAAndNamesUserAndGroups() async throws {
        let authority = try CertificateAuthority.create()
        let admin = try authority.issueClient(user: "admin", groups: ["system:masters", "ops"])

        var verifier = Verifier(rootCertificates: CertificateStore([authority.certificate])) {
            RFC5280Policy()
        }
        let result = await verifier.validate(leaf: admin.certificate, intermediates: CertificateStore())
        guard case .validCertificate(let chain) = result else {
            return XCTFail("client certificate does not chain to the CA: \(result)")
        }
        XCTAssertEqual(chain.count, 2)

        let subject = CertificateSubject(admin.certificate.subject)
        XCTAssertEqual(subject.commonName, "admin")
        XCTAssertEqual(subject.organizations, ["system:masters", "ops"])
        let usages = try XCTUnwrap(try admin.certificate.extensions.extendedKeyUsage)
        XCTAssertTrue(usages.contains(.clientAuth))
        XCTAssertFalse(usages.contains(.serverAuth))
        XCTAssertEqual(try admin.certificate.extensions.basicConstraints, .notCertificateAuthority)
    }

    func testServingCertificateCarriesDNSAndIPNames() async throws {
        let authority = try CertificateAuthority.create()
        let serving = try authority.issueServing(
            dnsNames: CertificateSpec.apiServerDNSNames, ipAddresses: ["127.0.0.1", "10.254.0.1", "::1"])
        let names = try XCTUnwrap(try serving.certificate.extensions.subjectAlternativeNames)
        let dnsNames = names.compactMap { name -> String? in
            if case .dnsName(let text) = name { return text }
            return nil
        }
        let ipAddresses = names.compactMap { name -> [UInt8]? in
            if case .ipAddress(let octets) = name { return Array(octets.bytes) }
            return nil
        }
        XCTAssertEqual(dnsNames, CertificateSpec.apiServerDNSNames)
        XCTAssertEqual(
            ipAddresses, [[127, 0, 0, 1], [10, 254, 0, 1], [UInt8](repeating: 0, count: 15) + [1]])
        let usages = try XCTUnwrap(try serving.certificate.extensions.extendedKeyUsage)
        XCTAssertTrue(usages.contains(.serverAuth))

        let identities: [(host: String?, ip: String?)] = [
            ("kubernetes.default.svc", nil), (nil, "10.254.0.1"), ("localhost", "127.0.0.1"),
        ]
        for (host, ip) in identities {
            var verifier = Verifier(rootCertificates: CertificateStore([authority.certificate])) {
                RFC5280Policy()
                ServerIdentityPolicy(serverHostname: host, serverIP: ip)
            }
            let result = await verifier.validate(
                leaf: serving.certificate, intermediates: CertificateStore())
            guard case .validCertificate = result else {
                return XCTFail("serving certificate not valid for \(host ?? "-") \(ip ?? "-"): \(result)")
            }
        }
        var wrongHost = Verifier(rootCertificates: CertificateStore([authority.certificate])) {
            RFC5280Policy()
            ServerIdentityPolicy(serverHostname: "example.com", serverIP: nil)
        }
        let wrong = await wrongHost.validate(
            leaf: serving.certificate, intermediates: CertificateStore())
        guard case .couldNotValidate = wrong else { return XCTFail("example.com must not be accepted") }
    }

    func testLifetimesDefaultToOneAndTenYearsAndLeavesNeverOutliveTheCA() throws {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let authority = try CertificateAuthority.create(now: now)
        XCTAssertEqual(
            authority.certificate.notValidAfter.timeIntervalSince(now),
            CertificateLifetime.certificateAuthority,
            accuracy: 1)
        let leaf = try authority.issueClient(user: "u", now: now)
        XCTAssertEqual(
            leaf.certificate.notValidAfter.timeIntervalSince(now), CertificateLifetime.leaf, accuracy: 1)
        XCTAssertLessThanOrEqual(leaf.certificate.notValidBefore, now)

        let shortCA = try CertificateAuthority.create(lifetime: 3600, now: now)
        let clamped = try shortCA.issueClient(user: "u", now: now)
        XCTAssertEqual(clamped.certificate.notValidAfter, shortCA.certificate.notValidAfter)
    }

    func testInvalidNamesAreRefused() throws {
        let authority = try CertificateAuthority.create()
        XCTAssertThrowsError(try authority.issueServing(dnsNames: [], ipAddresses: ["10.0.0.256"])) {
            XCTAssertEqual($0 as? PKIError, .invalidIPAddress("10.0.0.256"))
        }
        XCTAssertThrowsError(try authority.issueServing(dnsNames: ["bad name"], ipAddresses: [])) {
            XCTAssertEqual($0 as? PKIError, .invalidDNSName("bad name"))
        }
    }

    func testLoadingACAWhoseKeyDoesNotMatchFails() throws {
        let first = try CertificateAuthority.create()
        let second = try CertificateAuthority.create()
        XCTAssertThrowsError(
            try CertificateAuthority(
                certificatePEM: first.certificatePEM, privateKeyPEM: second.keyPair.privateKeyPEM)
        )
        let leaf = try first.issueClient(user: "u")
        XCTAssertThrowsError(
            try CertificateAuthority(
                certificatePEM: leaf.certificatePEM, privateKeyPEM: leaf.privateKeyPEM)
        ) { XCTAssertEqual($0 as? PKIError, .notACertificateAuthority(source: "CA certificate")) }
    }

    func testRSACertificateAuthorityIssuesVerifiableCertificates() async throws {
        let authority = try CertificateAuthority.create(keyAlgorithm: .rsa2048)
        XCTAssertTrue(authority.keyPair.privateKeyPEM.contains("BEGIN RSA PRIVATE KEY"))
        let leaf = try authority.issue(.client(user: "rsa-user", keyAlgorithm: .rsa2048))
        XCTAssertEqual(leaf.certificate.signatureAlgorithm, .sha256WithRSAEncryption)
        var verifier = Verifier(rootCertificates: CertificateStore([authority.certificate])) {
            RFC5280Policy()
        }
        let result = await verifier.validate(leaf: leaf.certificate, intermediates: CertificateStore())
        guard case .validCertificate = result else { return XCTFail("\(result)") }
    }

    func testServiceNetworkFirstAddress() throws {
        XCTAssertEqual(try ServiceNetwork.firstAddress(ofCIDR: "10.254.0.0/16"), "10.254.0.1")
        XCTAssertEqual(try ServiceNetwork.firstAddress(ofCIDR: "10.0.0.0/24"), "10.0.0.1")
        XCTAssertEqual(try ServiceNetwork.firstAddress(ofCIDR: "10.96.7.9/12"), "10.96.0.1")
        XCTAssertEqual(try ServiceNetwork.firstAddress(ofCIDR: "fd00:10:96::/112"), "fd00:10:96::1")
        for bad in ["10.254.0.0", "10.254.0.0/33", "10.254.0.0/32", "x/16", "10.254.0.0/-1", "::/abc"] {
            XCTAssertThrowsError(try ServiceNetwork.firstAddress(ofCIDR: bad), bad)
        }
    }
}
