import Foundation
import Operations
import TestSupport
import XCTest

@testable import ControllerManager

/// A node's TLS bootstrap against a real kube-apiserver (bootstrap tokens, RBAC) and a real kube-controller-manager
/// whose certificate and bootstrap-token controllers act as their own service accounts with upstream's roles:
/// kubectl with the token creates a kubelet client CSR, it is approved and signed, and the certificate
/// authenticates as the node; cluster-info is signed with the token and an expired token is deleted.
final class CertificateBootstrapEndToEndTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.92" }
    override class var extraFlags: [String] { ["--enable-bootstrap-token-auth", "--authorization-mode=RBAC"] }

    private var manager: ComponentProcess?

    override func tearDown() {
        _ = manager?.stop(kill: true)
        manager = nil
        super.tearDown()
    }

    func testNodeBootstrapsWithATokenAndAuthenticatesWithItsSignedCertificate() throws {
        let cluster = try cluster
        let directory = cluster.directory
        let server = "https://\(cluster.address):\(cluster.port)"
        let authority = try CertificateAuthority.load(directory: directory.appendingPathComponent("pki").path)
        let (id, secret) = ("e2e123", "0123456789abcdef")
        expectSuccess(try cluster.kubectl(["create", "-f", "-"], input: Self.tokenSecret(id: id, secret: secret)))
        expectSuccess(
            try cluster.kubectl(
                ["create", "-f", "-"],
                input: Self.tokenSecret(id: "old123", secret: secret, expiration: "2020-01-01T00:00:00Z")))
        expectSuccess(
            try cluster.kubectl([
                "create", "configmap", "cluster-info", "-n", "kube-public",
                "--from-literal=kubeconfig=server: \(server)",
            ]))
        expectSuccess(
            try cluster.kubectl([
                "create", "clusterrolebinding", "kubelet-bootstrap", "--clusterrole=system:node-bootstrapper",
                "--group=system:bootstrappers",
            ]))
        expectSuccess(
            try cluster.kubectl([
                "create", "clusterrolebinding", "node-autoapprove-bootstrap",
                "--clusterrole=system:certificates.k8s.io:certificatesigningrequests:nodeclient",
                "--group=system:bootstrappers",
            ]))
        let pki = directory.appendingPathComponent("pki").path
        let manager = try ComponentProcess(
            executable: "kube-controller-manager",
            arguments: [
                "--kubeconfig=\(try cluster.kubeconfig(forUser: "system:kube-controller-manager"))",
                "--bind-address=\(Self.clusterAddress)", "--secure-port=0", "--leader-elect=false",
                "--use-service-account-credentials", "--v=2",
                "--controllers=csrapproving,csrsigning,csrcleaner,bootstrapsigner,tokencleaner",
                "--cluster-signing-cert-file=\(pki)/ca.pem", "--cluster-signing-key-file=\(pki)/ca-key.pem",
                "--experimental-cluster-signing-duration=2h",
            ], directory: directory, logName: "controller-manager")
        self.manager = manager

        // The kubelet's side: a bootstrap kubeconfig with the token, a key, a CSR for system:node:<name>.
        let bootstrapPath = directory.appendingPathComponent("bootstrap.kubeconfig").path
        try Kubeconfig.bootstrap(
            server: server, certificateAuthorityPEM: authority.certificatePEM, token: "\(id).\(secret)"
        )
        .write(toFile: bootstrapPath)
        let node = try TestCertificateRequests.make(commonName: "system:node:e2e-node", organizations: ["system:nodes"])
        let request = """
            {"apiVersion":"certificates.k8s.io/v1","kind":"CertificateSigningRequest","metadata":{"name":"node-csr-e2e"},
             "spec":{"request":"\(Data(node.request.utf8).base64EncodedString())",
                     "signerName":"kubernetes.io/kube-apiserver-client-kubelet","usages":["digital signature","client auth"]}}
            """
        expectSuccess(try cluster.kubectl(["--kubeconfig", bootstrapPath, "create", "-f", "-"], input: request))
        let encoded = poll {
            let output = try cluster.kubectl([
                "--kubeconfig", bootstrapPath, "get", "csr", "node-csr-e2e", "-o", "jsonpath={.status.certificate}",
            ])
            return output.status == 0 && !output.stdout.isEmpty ? output.stdout : nil
        }
        let certificate = try XCTUnwrap(
            encoded.flatMap { Data(base64Encoded: $0) }.flatMap { String(data: $0, encoding: .utf8) },
            manager.log.suffix(3000).description)
        let table = try cluster.kubectl(["get", "csr", "node-csr-e2e", "--no-headers"])
        XCTAssertTrue(table.stdout.contains("Approved,Issued"), table.stdout)
        XCTAssertTrue(table.stdout.contains("system:bootstrap:\(id)"), table.stdout)
        let issued = try XCTUnwrap(PEM.certificates(from: certificate).first)
        // --experimental-cluster-signing-duration=2h replaces the default year; short certificates are backdated
        // five minutes without giving the five minutes up at the end.
        XCTAssertEqual(issued.notValidAfter.timeIntervalSince(issued.notValidBefore), 7500)

        let nodePath = directory.appendingPathComponent("node.kubeconfig").path
        try Kubeconfig.clientCertificate(
            server: server, certificateAuthorityPEM: authority.certificatePEM, userName: "node",
            certificatePEM: certificate, keyPEM: node.key
        ).write(toFile: nodePath)
        let whoami = try cluster.kubectl([
            "--kubeconfig", nodePath, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}",
        ])
        XCTAssertEqual(whoami.stdout, "system:node:e2e-node", whoami.stderr)

        let signature = poll {
            let output = try cluster.kubectl([
                "get", "configmap", "cluster-info", "-n", "kube-public", "-o", "jsonpath={.data.jws-kubeconfig-\(id)}",
            ])
            return output.stdout.isEmpty ? nil : output.stdout
        }
        XCTAssertEqual(
            signature, DetachedJWS.sign(content: "server: \(server)", tokenID: id, tokenSecret: secret),
            manager.log.suffix(3000).description)
        // The token cleaner, as its own service account, removed the expired token.
        let gone = poll {
            let output = try cluster.kubectl(["get", "secret", "bootstrap-token-old123", "-n", "kube-system"])
            return output.status != 0 && output.stderr.contains("NotFound") ? true : nil
        }
        XCTAssertEqual(gone, true, manager.log.suffix(3000).description)
    }

    static func tokenSecret(id: String, secret: String, expiration: String? = nil) -> String {
        """
        {"apiVersion":"v1","kind":"Secret","type":"bootstrap.kubernetes.io/token",
         "metadata":{"name":"bootstrap-token-\(id)","namespace":"kube-system"},
         "stringData":{"token-id":"\(id)","token-secret":"\(secret)","usage-bootstrap-authentication":"true",
                       \(expiration.map { "\"expiration\":\"\($0)\"," } ?? "")"usage-bootstrap-signing":"true"}}
        """
    }

    private func poll<T>(timeout: TimeInterval = 30, _ probe: () throws -> T?) -> T? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let value = try? probe() { return value }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return nil
    }
}
