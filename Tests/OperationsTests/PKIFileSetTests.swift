import Foundation
import Operations
import X509
import XCTest

final class PKIFileSetTests: XCTestCase {
    static let masters = ["192.168.103.146", "192.168.103.147", "192.168.103.148"]
    static let loadBalancer = "192.168.103.150"

    static func options() -> GuideCertificates.FileSetOptions {
        var certificates = GuideCertificates.Options()
        certificates.apiServerIPAddresses = ["127.0.0.1"] + masters + [loadBalancer, "10.254.0.1"]
        return GuideCertificates.FileSetOptions(
            certificates: certificates, etcdIPAddresses: ["192.168.103.147", "192.168.103.148", "192.168.103.149"],
            clusterServer: "https://\(loadBalancer):8443")
    }

    func testFileSetIsCompleteChainsAndCoversEveryAPIServerName() throws {
        let directory = try makeTemporaryDirectory(self)
        let written = try GuideCertificates.writeFileSet(directory: directory, options: Self.options())
        let expected = GuideCertificates.fileSetNames(options: Self.options())
        XCTAssertEqual(Set(written), Set(expected))
        for name in expected + GuideCertificates.fileNames {
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/" + name), name)
        }
        XCTAssertEqual(try fileMode(directory + "/ca-key.pem"), 0o600)
        XCTAssertEqual(try fileMode(directory + "/token.csv"), 0o600)
        // Every leaf chains to the CA, with its key and usages, and the serving names cover the cluster.
        XCTAssertEqual(
            try PKICheck.check(directory: directory, addresses: Self.masters + [Self.loadBalancer, "10.254.0.1"]), [])
        let serving = try XCTUnwrap(
            PEM.certificates(from: String(contentsOfFile: directory + "/kubernetes.pem", encoding: .utf8)).first)
        let names = try XCTUnwrap(serving.extensions.subjectAlternativeNames)
        for dns in [
            "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local",
        ] {
            XCTAssertTrue(names.contains(.dnsName(dns)), dns)
        }
        let token = try String(contentsOfFile: directory + "/token.csv", encoding: .utf8)
        XCTAssertTrue(token.hasSuffix(",kubelet-bootstrap,10001,\"system:kubelet-bootstrap\"\n"), token)
        let scheduler = try Kubeconfig.load(fromFile: directory + "/kube-scheduler.kubeconfig")
        XCTAssertEqual(scheduler.users.first?.name, "system:kube-scheduler")
        XCTAssertEqual(scheduler.clusters.first?.value.server, "https://127.0.0.1:6443")
        let admin = try Kubeconfig.load(fromFile: directory + "/admin.kubeconfig")
        XCTAssertEqual(admin.clusters.first?.value.server, "https://\(Self.loadBalancer):8443")
    }

    func testSecondRunKeepsEverythingAndForceKeepsOnlyTheCA() throws {
        let directory = try makeTemporaryDirectory(self)
        try GuideCertificates.writeFileSet(directory: directory, options: Self.options())
        let ca = try String(contentsOfFile: directory + "/ca.pem", encoding: .utf8)
        let serving = try String(contentsOfFile: directory + "/kubernetes.pem", encoding: .utf8)
        XCTAssertEqual(try GuideCertificates.writeFileSet(directory: directory, options: Self.options()), [])
        XCTAssertEqual(try String(contentsOfFile: directory + "/kubernetes.pem", encoding: .utf8), serving)
        let forced = try GuideCertificates.writeFileSet(directory: directory, options: Self.options(), force: true)
        XCTAssertFalse(forced.contains("ca.pem"))
        XCTAssertTrue(forced.contains("kubernetes.pem"))
        XCTAssertEqual(try String(contentsOfFile: directory + "/ca.pem", encoding: .utf8), ca)
        XCTAssertNotEqual(try String(contentsOfFile: directory + "/kubernetes.pem", encoding: .utf8), serving)
        XCTAssertEqual(try PKICheck.check(directory: directory), [])
    }

    func testCheckFindsExpiredWrongNameMismatchedKeyForeignAndWrongUsage() throws {
        let directory = try makeTemporaryDirectory(self)
        try GuideCertificates.writeFileSet(directory: directory, options: Self.options())
        let authority = try CertificateAuthority.load(directory: directory)
        let now = Date()
        // Issued two years ago for a year: expired.
        try authority.issue(.client(user: "system:kube-proxy"), now: now.addingTimeInterval(-2 * 365 * 86400))
            .write(certificateFile: directory + "/kube-proxy.pem", keyFile: directory + "/kube-proxy-key.pem")
        // A serving certificate for loopback only: the masters are not covered.
        try authority.issue(
            CertificateSpec(
                commonName: "kubernetes", dnsNames: CertificateSpec.apiServerDNSNames, ipAddresses: ["127.0.0.1"],
                usage: [.serverAuth, .clientAuth]), now: now
        ).write(certificateFile: directory + "/kubernetes.pem", keyFile: directory + "/kubernetes-key.pem")
        // The admin certificate with another certificate's key.
        let other = try authority.issue(.client(user: "someone"), now: now)
        try other.privateKeyPEM.write(toFile: directory + "/admin-key.pem", atomically: true, encoding: .utf8)
        // A certificate from another CA, and a scheduler certificate that cannot authenticate a client.
        try CertificateAuthority.create(now: now).issue(.client(user: "system:kube-controller-manager"), now: now)
            .write(
                certificateFile: directory + "/kube-controller-manager.pem",
                keyFile: directory + "/kube-controller-manager-key.pem")
        try authority.issue(.serving(commonName: "system:kube-scheduler", dnsNames: ["x"], ipAddresses: []), now: now)
            .write(certificateFile: directory + "/kube-scheduler.pem", keyFile: directory + "/kube-scheduler-key.pem")

        let findings = try PKICheck.check(directory: directory, addresses: [Self.masters[1]], now: now)
        let lines = findings.map(\.description)
        func expect(_ file: String, _ fragment: String, line: UInt = #line) {
            XCTAssertTrue(
                findings.contains { $0.file == file && $0.message.contains(fragment) && $0.severity == .error },
                "\(file): \(fragment) not in \(lines)", line: line)
        }
        expect("kube-proxy.pem", "expired at")
        expect("kubernetes.pem", "does not cover \(Self.masters[1])")
        expect("admin.pem", "does not match")
        expect("kube-controller-manager.pem", "is not signed by the CA")
        expect("kube-scheduler.pem", "lacks the clientAuth")
        XCTAssertFalse(findings.contains { $0.file == "etcd-server.pem" }, "\(lines)")
    }

    func testCheckWarnsThirtyDaysBeforeExpiry() throws {
        let directory = try makeTemporaryDirectory(self)
        try GuideCertificates.writeFileSet(directory: directory, options: Self.options())
        let inElevenMonths = Date().addingTimeInterval(340 * 86400)
        let findings = try PKICheck.check(directory: directory, now: inElevenMonths)
        XCTAssertTrue(findings.contains { $0.file == "kubernetes.pem" && $0.severity == .warning }, "\(findings)")
        XCTAssertFalse(findings.contains { $0.file == "ca.pem" }, "the CA lives ten years: \(findings)")
    }

    func testRotateReissuesLeavesWithTheSameNamesAndUpdatesKubeconfigs() throws {
        let directory = try makeTemporaryDirectory(self)
        try GuideCertificates.writeFileSet(directory: directory, options: Self.options())
        func certificate(_ name: String) throws -> Certificate {
            try XCTUnwrap(
                PEM.certificates(from: String(contentsOfFile: directory + "/" + name, encoding: .utf8)).first)
        }
        let before = try certificate("kubernetes.pem")
        let ca = try certificate("ca.pem")
        let adminConfig = try Kubeconfig.load(fromFile: directory + "/admin.kubeconfig")
        let written = try PKIRotation.rotate(directory: directory)
        XCTAssertTrue(written.contains("admin.kubeconfig"))
        let after = try certificate("kubernetes.pem")
        XCTAssertNotEqual(after.serialNumber, before.serialNumber)
        let afterNames = try XCTUnwrap(after.extensions.subjectAlternativeNames)
        let beforeNames = try XCTUnwrap(before.extensions.subjectAlternativeNames)
        XCTAssertEqual(Array(afterNames), Array(beforeNames))
        XCTAssertEqual(try certificate("ca.pem"), ca)
        XCTAssertEqual(try PKICheck.check(directory: directory, addresses: Self.masters), [])
        let rotated = try Kubeconfig.load(fromFile: directory + "/admin.kubeconfig")
        XCTAssertNotEqual(
            rotated.users.first?.value.clientCertificateData, adminConfig.users.first?.value.clientCertificateData)
        XCTAssertEqual(
            rotated.users.first?.value.clientCertificateData,
            Data(try String(contentsOfFile: directory + "/admin.pem", encoding: .utf8).utf8))
    }
}
