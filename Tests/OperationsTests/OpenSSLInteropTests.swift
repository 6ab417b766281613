import Foundation
import Operations
import X509
import XCTest

/// Cross-checks with /usr/bin/openssl: keys it generates load, and certificates we write verify.
final class OpenSSLInteropTests: XCTestCase {
    private let openssl = "/usr/bin/openssl"

    private func openssl(_ arguments: String...) throws -> ToolRun {
        let run = try runTool(openssl, arguments)
        XCTAssertEqual(run.status, 0, "openssl \(arguments.joined(separator: " ")): \(run.stderr)")
        return run
    }

    func testKeysGeneratedByOpenSSLLoad() throws {
        let directory = try makeTemporaryDirectory(self)
        // OpenSSL 3 writes PKCS#8 by default; -traditional gives PKCS#1; ecparam gives SEC1
        // preceded by an EC PARAMETERS block.
        let cases: [(file: String, command: [String], marker: String)] = [
            (
                "rsa-pkcs8.pem", ["genrsa", "-out", "\(directory)/rsa-pkcs8.pem", "2048"],
                "BEGIN PRIVATE KEY"
            ),
            (
                "rsa-pkcs1.pem", ["genrsa", "-traditional", "-out", "\(directory)/rsa-pkcs1.pem", "2048"],
                "BEGIN RSA PRIVATE KEY"
            ),
            (
                "ec-sec1.pem",
                ["ecparam", "-name", "prime256v1", "-genkey", "-out", "\(directory)/ec-sec1.pem"],
                "BEGIN EC PRIVATE KEY"
            ),
            (
                "ec-pkcs8.pem",
                [
                    "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out",
                    "\(directory)/ec-pkcs8.pem",
                ], "BEGIN PRIVATE KEY"
            ),
        ]
        for entry in cases {
            let run = try runTool(openssl, entry.command)
            XCTAssertEqual(run.status, 0, run.stderr)
            let text = try String(contentsOfFile: "\(directory)/\(entry.file)", encoding: .utf8)
            XCTAssertTrue(text.contains(entry.marker), entry.file)
            let key = try PEM.privateKey(from: text, source: entry.file)
            // The public key we derive must be the one openssl derives.
            let opensslPublic = try openssl("pkey", "-in", "\(directory)/\(entry.file)", "-pubout").stdout
            let ours = try Certificate.PublicKey(pemEncoded: opensslPublic)
            XCTAssertEqual(key.publicKey, ours, entry.file)
        }
    }

    func testOpenSSLMadeRSACertificateAuthorityIssuesCertificatesOpenSSLVerifies() throws {
        let directory = try makeTemporaryDirectory(self)
        _ = try openssl("genrsa", "-traditional", "-out", "\(directory)/ca-key.pem", "2048")
        _ = try openssl(
            "req", "-x509", "-new", "-key", "\(directory)/ca-key.pem", "-subj",
            "/O=k8s/OU=System/CN=kubernetes",
            "-days", "30", "-out", "\(directory)/ca.pem",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
            "keyUsage=critical,keyCertSign,cRLSign")
        let authority = try CertificateAuthority.load(directory: directory)
        let admin = try authority.issueClient(user: "admin", groups: ["system:masters"])
        try admin.write(
            certificateFile: "\(directory)/admin.pem", keyFile: "\(directory)/admin-key.pem")

        let verify = try openssl(
            "verify", "-CAfile", "\(directory)/ca.pem", "-purpose", "sslclient", "\(directory)/admin.pem")
        XCTAssertTrue(verify.stdout.contains("admin.pem: OK"), verify.stdout)
        let subject = try openssl(
            "x509", "-in", "\(directory)/admin.pem", "-noout", "-subject", "-issuer"
        ).stdout
        XCTAssertTrue(subject.contains("subject=O = system:masters, CN = admin"), subject)
        XCTAssertTrue(subject.contains("issuer=O = k8s, OU = System, CN = kubernetes"), subject)
        // The key we wrote must be readable by openssl and match the certificate.
        let keyModulus = try openssl("pkey", "-in", "\(directory)/admin-key.pem", "-pubout").stdout
        let certModulus = try openssl("x509", "-in", "\(directory)/admin.pem", "-noout", "-pubkey")
            .stdout
        XCTAssertEqual(keyModulus, certModulus)
    }

    func testGuideCertificateSetVerifiesWithOpenSSL() throws {
        let directory = try makeTemporaryDirectory(self) + "/ssl"
        let set = try GuideCertificates.write(
            directory: directory,
            options: .init(apiServerIPAddresses: ["127.0.0.1", "192.168.103.146", "10.254.0.1"]))
        for name in GuideCertificates.fileNames {
            let path = "\(directory)/\(name)"
            XCTAssertTrue(FileManager.default.fileExists(atPath: path), name)
            XCTAssertEqual(try fileMode(path), name.hasSuffix("-key.pem") ? 0o600 : 0o644, name)
        }
        for (name, purpose) in [
            ("kubernetes.pem", "sslserver"), ("admin.pem", "sslclient"), ("kube-proxy.pem", "sslclient"),
        ] {
            let verify = try openssl(
                "verify", "-CAfile", "\(directory)/ca.pem", "-purpose", purpose, "\(directory)/\(name)")
            XCTAssertTrue(verify.stdout.contains("\(name): OK"), verify.stdout + verify.stderr)
        }
        let text = try openssl("x509", "-in", "\(directory)/kubernetes.pem", "-noout", "-text").stdout
        XCTAssertTrue(text.contains("DNS:kubernetes.default.svc.cluster.local"), text)
        XCTAssertTrue(text.contains("IP Address:10.254.0.1"), text)
        XCTAssertTrue(text.contains("IP Address:192.168.103.146"), text)
        XCTAssertTrue(text.contains("TLS Web Server Authentication"), text)
        let proxySubject = try openssl(
            "x509", "-in", "\(directory)/kube-proxy.pem", "-noout", "-subject"
        ).stdout
        XCTAssertTrue(proxySubject.contains("CN = system:kube-proxy"), proxySubject)
        _ = try openssl("x509", "-in", "\(directory)/admin.pem", "-noout", "-checkend", "0")

        // A second run keeps the CA, so certificates already handed out stay valid.
        let again = try GuideCertificates.write(directory: directory)
        XCTAssertEqual(again.certificateAuthority.certificate, set.certificateAuthority.certificate)
        XCTAssertNotEqual(again.admin.certificate, set.admin.certificate)
    }

    func testSelfSignedServingCertificateIsCreatedOnceAndReused() throws {
        let directory = try makeTemporaryDirectory(self) + "/run/kubernetes"
        let first = try SelfSignedServingCertificate.ensure(
            certDirectory: directory, hostNames: ["master-1"], ipAddresses: ["127.0.0.1", "10.254.0.1"])
        XCTAssertTrue(first.created)
        XCTAssertEqual(first.certificateFile, directory + "/apiserver.crt")
        XCTAssertEqual(first.keyFile, directory + "/apiserver.key")
        XCTAssertEqual(try fileMode(first.keyFile), 0o600)
        let firstText = try String(contentsOfFile: first.certificateFile, encoding: .utf8)

        let second = try SelfSignedServingCertificate.ensure(
            certDirectory: directory, hostNames: ["master-1"], ipAddresses: ["127.0.0.1"])
        XCTAssertFalse(second.created)
        XCTAssertEqual(try String(contentsOfFile: second.certificateFile, encoding: .utf8), firstText)

        let certificates = try PEM.certificates(from: firstText)
        XCTAssertEqual(certificates.count, 2, "leaf followed by its CA")
        XCTAssertTrue(
            CertificateSubject(certificates[0].subject).commonName?.hasPrefix("master-1@") ?? false)
        XCTAssertTrue(
            CertificateSubject(certificates[1].subject).commonName?.hasPrefix("master-1-ca@") ?? false)
        let verify = try openssl(
            "verify", "-CAfile", first.certificateFile, "-purpose", "sslserver", "-verify_hostname",
            "kubernetes.default",
            first.certificateFile)
        XCTAssertTrue(verify.stdout.contains("OK"), verify.stdout)

        // An expired pair is replaced.
        let later = Date().addingTimeInterval(2 * CertificateLifetime.leaf)
        let third = try SelfSignedServingCertificate.ensure(
            certDirectory: directory, hostNames: ["master-1"], ipAddresses: ["127.0.0.1"], now: later)
        XCTAssertTrue(third.created)
    }
}
