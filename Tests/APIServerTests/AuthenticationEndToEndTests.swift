import TestSupport
import Foundation
import Operations
import XCTest

/// The authenticator chain through the real binary and /usr/bin/kubectl, with the guide's files: a token.csv,
/// `--experimental-bootstrap-token-auth`, `--service-account-key-file=ca-key.pem`, certificates made here.
final class AuthenticationEndToEndTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.41" }
    override class var extraFlags: [String] {
        [
            "--experimental-bootstrap-token-auth", "--token-auth-file=@token.csv",
            "--service-account-key-file=@pki/ca-key.pem",
        ]
    }
    /// What kubectl prints for a 401 (after discovery, so the reason is its own wording, as against upstream).
    static let unauthorized = "error: You must be logged in to the server"
    static let staticToken = "4b1e8c7f3a9d2e6b5c0f1a2b3c4d5e6f"
    override class func prepare(directory: URL) throws {
        try "# the guide's token.csv\n\(staticToken),kubelet-bootstrap,10001,\"system:kubelet-bootstrap\"\n"
            .write(to: directory.appendingPathComponent("token.csv"), atomically: true, encoding: .utf8)
    }

    /// kubectl with no kubeconfig: the server, its CA, and the given credentials only.
    func kubectl(_ credentials: [String], _ arguments: [String]) throws -> TestCluster.Output {
        let cluster = try cluster
        let pki = cluster.directory.appendingPathComponent("pki").path
        return try TestCluster.run(
            TestCluster.kubectlPath,
            [
                "--kubeconfig=/dev/null", "--server=https://\(cluster.address):\(cluster.port)",
                "--certificate-authority=\(pki)/ca.pem",
            ]
                + credentials + arguments)
    }

    func whoami(_ credentials: [String]) throws -> String {
        expectSuccess(
            try kubectl(
                credentials, ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}"])
        )
    }

    func testAdminCertificateAndTokenFileUser() throws {
        XCTAssertEqual(
            expectSuccess(
                try cluster.kubectl([
                    "auth", "whoami", "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}",
                ])),
            "admin [\"system:masters\",\"system:authenticated\"]")
        XCTAssertEqual(
            try whoami(["--token=\(Self.staticToken)"]),
            "kubelet-bootstrap [\"system:kubelet-bootstrap\",\"system:authenticated\"]")
    }

    func testForeignExpiredAndUnknownCredentialsAre401() throws {
        let cluster = try cluster
        let directory = cluster.directory.appendingPathComponent("bad-certs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let ca = try CertificateAuthority.load(directory: cluster.directory.appendingPathComponent("pki").path)
        let foreign = try CertificateAuthority.create(commonName: "someone-else")
        let cases: [(String, CertificateKeyPair)] = [
            ("foreign", try foreign.issue(.client(user: "mallory", groups: ["system:masters"]))),
            ("expired", try ca.issue(.client(user: "old", lifetime: 3600), now: Date().addingTimeInterval(-7200))),
            ("future", try ca.issue(.client(user: "early", lifetime: 3600), now: Date().addingTimeInterval(7200))),
            ("serving only", try ca.issue(CertificateSpec(commonName: "server", usage: .serverAuth))),
        ]
        for (name, pair) in cases {
            let certificate = directory.appendingPathComponent("\(name).pem").path
            let key = directory.appendingPathComponent("\(name)-key.pem").path
            try pair.certificatePEM.write(toFile: certificate, atomically: true, encoding: .utf8)
            try pair.privateKeyPEM.write(toFile: key, atomically: true, encoding: .utf8)
            let result = try kubectl(["--client-certificate=\(certificate)", "--client-key=\(key)"], ["get", "ns"])
            XCTAssertEqual(result.status, 1, name)
            XCTAssertTrue(result.stderr.contains(Self.unauthorized), "\(name): \(result.stderr)")
        }
        // A valid client certificate from the CA gives its CN and O.
        let good = try ca.issue(.client(user: "jane", groups: ["dev"]))
        let certificate = directory.appendingPathComponent("jane.pem").path
        let key = directory.appendingPathComponent("jane-key.pem").path
        try good.certificatePEM.write(toFile: certificate, atomically: true, encoding: .utf8)
        try good.privateKeyPEM.write(toFile: key, atomically: true, encoding: .utf8)
        XCTAssertEqual(
            try whoami(["--client-certificate=\(certificate)", "--client-key=\(key)"]),
            "jane [\"dev\",\"system:authenticated\"]")
        let unknown = try kubectl(["--token=no-such-token"], ["get", "ns"])
        XCTAssertTrue(unknown.stderr.contains(Self.unauthorized), unknown.stderr)
    }

    func testBootstrapTokenAuthenticatesAsBootstrapUser() throws {
        let cluster = try cluster
        expectSuccess(
            try cluster.kubectl([
                "-n", "kube-system", "create", "secret", "generic", "bootstrap-token-07401b",
                "--type=bootstrap.kubernetes.io/token", "--from-literal=token-id=07401b",
                "--from-literal=token-secret=f395accd246ae52d", "--from-literal=usage-bootstrap-authentication=true",
                "--from-literal=auth-extra-groups=system:bootstrappers:worker",
            ]))
        XCTAssertEqual(
            try whoami(["--token=07401b.f395accd246ae52d"]),
            "system:bootstrap:07401b [\"system:bootstrappers\",\"system:bootstrappers:worker\",\"system:authenticated\"]"
        )
        let wrong = try kubectl(["--token=07401b.f395accd246ae52e"], ["get", "ns"])
        XCTAssertTrue(wrong.stderr.contains(Self.unauthorized), wrong.stderr)
        // Expired tokens stop working.
        expectSuccess(
            try cluster.kubectl([
                "-n", "kube-system", "patch", "secret", "bootstrap-token-07401b", "-p",
                #"{"stringData":{"expiration":"2020-01-01T00:00:00Z"}}"#,
            ]))
        let expired = try kubectl(["--token=07401b.f395accd246ae52d"], ["get", "ns"])
        XCTAssertTrue(expired.stderr.contains(Self.unauthorized), expired.stderr)
    }

    func testCreateTokenWorksUntilTheServiceAccountIsDeleted() throws {
        let cluster = try cluster
        expectSuccess(try cluster.kubectl(["create", "serviceaccount", "robot"]))
        let token = expectSuccess(try cluster.kubectl(["create", "token", "robot", "--duration=20m"]))
        XCTAssertEqual(token.split(separator: ".").count, 3)
        XCTAssertEqual(
            try whoami(["--token=\(token)"]),
            "system:serviceaccount:default:robot [\"system:serviceaccounts\",\"system:serviceaccounts:default\",\"system:authenticated\"]"
        )
        // TokenReview agrees, and refuses a token for another audience.
        let review = expectSuccess(
            try cluster.kubectl(
                ["create", "--raw", "/apis/authentication.k8s.io/v1/tokenreviews", "-f", "-"],
                input: #"{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"\#(token)"}}"#))
        let status = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(review.utf8)) as? [String: Any])[
            "status"]
        let reviewed = try XCTUnwrap(status as? [String: Any])
        XCTAssertEqual(reviewed["authenticated"] as? Bool, true)
        XCTAssertEqual(
            (reviewed["user"] as? [String: Any])?["username"] as? String, "system:serviceaccount:default:robot")
        let tooShort = try cluster.kubectl(["create", "token", "robot", "--duration=5m"])
        XCTAssertTrue(tooShort.stderr.contains("may not specify a duration less than 10 minutes"), tooShort.stderr)

        expectSuccess(try cluster.kubectl(["delete", "serviceaccount", "robot"]))
        let afterDelete = try kubectl(["--token=\(token)"], ["get", "ns"])
        XCTAssertTrue(afterDelete.stderr.contains(Self.unauthorized), afterDelete.stderr)
        let missing = try cluster.kubectl(["create", "token", "robot"])
        XCTAssertEqual(missing.stderr, "error: failed to create token: serviceaccounts \"robot\" not found\n")
    }
}
