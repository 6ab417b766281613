import Foundation
import Operations
import XCTest

/// `kubectl config view` reads a kubeconfig without a server, so it checks our YAML as kubectl sees it.
final class KubectlInteropTests: XCTestCase {
    private let kubectl = "/usr/bin/kubectl"

    private func view(_ file: String, _ jsonPath: String) throws -> String {
        let run = try runTool(
            kubectl, ["config", "view", "--kubeconfig", file, "--raw", "-o", "jsonpath=\(jsonPath)"])
        XCTAssertEqual(run.status, 0, run.stderr)
        return run.stdout
    }

    func testKubectlReadsOurAdminKubeconfig() throws {
        let directory = try makeTemporaryDirectory(self)
        let authority = try CertificateAuthority.create()
        let admin = try authority.issueClient(user: "admin", groups: ["system:masters"])
        let file = directory + "/admin.kubeconfig"
        try Kubeconfig.admin(
            server: "https://127.0.0.1:6443", certificateAuthority: authority, admin: admin
        )
        .write(toFile: file)

        XCTAssertEqual(try view(file, "{.current-context}"), "kubernetes")
        XCTAssertEqual(try view(file, "{.clusters[0].name}"), "kubernetes")
        XCTAssertEqual(try view(file, "{.clusters[0].cluster.server}"), "https://127.0.0.1:6443")
        XCTAssertEqual(
            try view(file, "{.clusters[0].cluster.certificate-authority-data}"),
            Data(authority.certificatePEM.utf8).base64EncodedString())
        XCTAssertEqual(try view(file, "{.users[0].name}"), "admin")
        XCTAssertEqual(
            try view(file, "{.users[0].user.client-certificate-data}"),
            Data(admin.certificatePEM.utf8).base64EncodedString())
        XCTAssertEqual(
            try view(file, "{.users[0].user.client-key-data}"),
            Data(admin.privateKeyPEM.utf8).base64EncodedString())
        XCTAssertEqual(try view(file, "{.contexts[0].context.user}"), "admin")
    }

    func testKubectlReadsTrickyStringsAsWeMeantThem() throws {
        let directory = try makeTemporaryDirectory(self)
        let token = "yes: \"q\" #x\\ ü"
        let config = Kubeconfig(
            clusters: [.init("on", .init(server: "https://10.0.0.1:6443", insecureSkipTLSVerify: true))],
            users: [.init("1.5", .init(token: token))],
            contexts: [.init("null", .init(cluster: "on", user: "1.5", namespace: "kube-system"))],
            currentContext: "null")
        let file = directory + "/bootstrap.kubeconfig"
        try config.write(toFile: file)
        XCTAssertEqual(try view(file, "{.current-context}"), "null")
        XCTAssertEqual(try view(file, "{.clusters[0].name}"), "on")
        XCTAssertEqual(try view(file, "{.clusters[0].cluster.insecure-skip-tls-verify}"), "true")
        XCTAssertEqual(try view(file, "{.users[0].name}"), "1.5")
        XCTAssertEqual(try view(file, "{.users[0].user.token}"), token)
        XCTAssertEqual(try view(file, "{.contexts[0].context.namespace}"), "kube-system")
    }

    func testWeReadWhatKubectlWrites() throws {
        let directory = try makeTemporaryDirectory(self)
        let file = directory + "/bootstrap.kubeconfig"
        let caFile = directory + "/ca.pem"
        let authority = try CertificateAuthority.create()
        try authority.certificatePEM.write(toFile: caFile, atomically: true, encoding: .utf8)
        // The guide's own commands for bootstrap.kubeconfig.
        let commands = [
            [
                "config", "set-cluster", "kubernetes", "--certificate-authority=\(caFile)",
                "--embed-certs=true",
                "--server=https://192.168.103.146:6443", "--kubeconfig=\(file)",
            ],
            [
                "config", "set-credentials", "kubelet-bootstrap", "--token=0123abcd",
                "--kubeconfig=\(file)",
            ],
            [
                "config", "set-context", "default", "--cluster=kubernetes", "--user=kubelet-bootstrap",
                "--kubeconfig=\(file)",
            ],
            ["config", "use-context", "default", "--kubeconfig=\(file)"],
        ]
        for command in commands {
            let run = try runTool(kubectl, command)
            XCTAssertEqual(run.status, 0, run.stderr)
        }
        let theirs = try Kubeconfig.load(fromFile: file)
        let ours = Kubeconfig.bootstrap(
            server: "https://192.168.103.146:6443", certificateAuthorityPEM: authority.certificatePEM,
            token: "0123abcd")
        XCTAssertEqual(theirs, ours)
    }
}
