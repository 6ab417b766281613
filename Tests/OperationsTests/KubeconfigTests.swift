import Foundation
import Operations
import XCTest

final class KubeconfigTests: XCTestCase {
    private func sample() -> Kubeconfig {
        Kubeconfig(
            clusters: [
                .init(
                    "kubernetes",
                    .init(
                        server: "https://192.168.103.146:6443",
                        certificateAuthorityData: Data("-----BEGIN CERTIFICATE-----\nAAAA\n".utf8))),
                .init(
                    "odd: name #1",
                    .init(
                        server: "https://localhost:6443", certificateAuthority: "/etc/kubernetes/ssl/ca.pem",
                        insecureSkipTLSVerify: true, tlsServerName: "kubernetes.default")),
            ],
            users: [
                .init(
                    "admin",
                    .init(clientCertificateData: Data([0, 1, 2, 255]), clientKeyData: Data("key".utf8))),
                .init("kubelet-bootstrap", .init(token: "41f7e4ba8b7be874fcff18bf5cf41a7c")),
                .init(
                    "yes",
                    .init(token: "123\"quoted\"\\ 'single' \n\t ü € \u{1}", username: "no", password: "~")),
                .init("anonymous", .init()),
                .init(
                    "files",
                    .init(clientCertificate: "admin.pem", clientKey: "../ssl/admin-key.pem", tokenFile: "t")),
            ],
            contexts: [
                .init("default", .init(cluster: "kubernetes", user: "admin")),
                .init("10.0.0.1", .init(cluster: "odd: name #1", user: "yes", namespace: "kube-system")),
            ],
            currentContext: "default")
    }

    func testRenderedYAMLParsesBackToTheSameValue() throws {
        let config = sample()
        let yaml = config.renderYAML()
        XCTAssertEqual(try Kubeconfig.parse(yaml), config, yaml)
        XCTAssertTrue(yaml.hasPrefix("apiVersion: v1\nclusters:\n- cluster:\n"), yaml)
        XCTAssertTrue(yaml.contains("\nkind: Config\n"))
        XCTAssertTrue(yaml.contains("- name: \"yes\"\n"), "YAML 1.1 booleans must be quoted")
        XCTAssertTrue(yaml.contains("  name: \"10.0.0.1\"\n"))
    }

    func testEmptyKubeconfigRoundTrips() throws {
        XCTAssertEqual(try Kubeconfig.parse(Kubeconfig().renderYAML()), Kubeconfig())
        XCTAssertEqual(try Kubeconfig.parse(""), Kubeconfig())
    }

    func testParsesKubectlStyleYAMLAndJSON() throws {
        let yaml = """
            apiVersion: v1
            clusters:
            - cluster:
                certificate-authority-data: \(Data("CA".utf8).base64EncodedString())
                server: https://127.0.0.1:6443
              name: kubernetes
            contexts:
            - context:
                cluster: kubernetes
                namespace: default
                user: admin
              name: kubernetes
            current-context: kubernetes
            kind: Config
            preferences: {}
            users:
            - name: admin
              user:
                token: 'abc'   # a comment
                exec: {command: foo}
            """
        let parsed = try Kubeconfig.parse(yaml)
        let resolved = try XCTUnwrap(parsed.resolvedCurrentContext)
        XCTAssertEqual(resolved.cluster.server, "https://127.0.0.1:6443")
        XCTAssertEqual(resolved.cluster.certificateAuthorityData, Data("CA".utf8))
        XCTAssertEqual(resolved.context.namespace, "default")
        XCTAssertEqual(resolved.user.token, "abc")

        let json = """
            {
            \t"kind": "Config", "apiVersion": "v1",
            \t"clusters": [{"name": "c", "cluster": {"server": "https://x:1", "insecure-skip-tls-verify": true}}],
            \t"users": [{"name": "u", "user": {"client-key-data": "\(Data("K".utf8).base64EncodedString())"}}],
            \t"contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
            \t"current-context": "ctx"
            }
            """
        let fromJSON = try Kubeconfig.parse(json)
        XCTAssertEqual(fromJSON.cluster(named: "c")?.insecureSkipTLSVerify, true)
        XCTAssertEqual(fromJSON.user(named: "u")?.clientKeyData, Data("K".utf8))
        XCTAssertEqual(fromJSON.currentContext, "ctx")
    }

    func testBadInputIsReportedWithTheFieldPath() {
        let badBase64 = """
            users:
            - name: a
              user:
                client-key-data: "not base64!"
            """
        XCTAssertThrowsError(try Kubeconfig.parse(badBase64)) {
            XCTAssertEqual(
                $0 as? KubeconfigError,
                .invalidField(path: "users[0].user.client-key-data", reason: "illegal base64 data"))
        }
        XCTAssertThrowsError(try Kubeconfig.parse("clusters: {a: b}")) {
            XCTAssertEqual(
                $0 as? KubeconfigError, .invalidField(path: "clusters", reason: "expected a list"))
        }
        XCTAssertThrowsError(try Kubeconfig.parse("clusters: [\n")) {
            guard case .syntax = $0 as? KubeconfigError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try Kubeconfig.parse("- a\n- b\n"))
    }

    func testLoadResolvesRelativePathsAndWriteUsesMode0600() throws {
        let directory = try makeTemporaryDirectory(self)
        let path = directory + "/conf/config"
        try sample().write(toFile: path)
        XCTAssertEqual(try fileMode(path), 0o600)
        let loaded = try Kubeconfig.load(fromFile: path)
        let files = try XCTUnwrap(loaded.user(named: "files"))
        XCTAssertEqual(files.clientCertificate, directory + "/conf/admin.pem")
        XCTAssertEqual(files.clientKey, directory + "/ssl/admin-key.pem")
        XCTAssertEqual(
            loaded.cluster(named: "odd: name #1")?.certificateAuthority, "/etc/kubernetes/ssl/ca.pem")
    }

    func testBootstrapAndAdminTemplatesFollowTheGuide() throws {
        let authority = try CertificateAuthority.create()
        let token = BootstrapToken.generate()
        XCTAssertEqual(token.count, 32)
        XCTAssertTrue(token.allSatisfy(\.isHexDigit))
        let bootstrap = Kubeconfig.bootstrap(
            server: "https://192.168.103.146:6443", certificateAuthorityPEM: authority.certificatePEM,
            token: token)
        XCTAssertEqual(bootstrap.currentContext, "default")
        XCTAssertEqual(bootstrap.resolvedCurrentContext?.user.token, token)
        XCTAssertEqual(bootstrap.contexts.first?.value.user, "kubelet-bootstrap")
        XCTAssertEqual(
            bootstrap.cluster(named: "kubernetes")?.certificateAuthorityData,
            Data(authority.certificatePEM.utf8))

        let admin = try authority.issueClient(user: "admin", groups: ["system:masters"])
        let config = Kubeconfig.admin(
            server: "https://127.0.0.1:6443", certificateAuthority: authority, admin: admin)
        let user = try XCTUnwrap(config.resolvedCurrentContext?.user)
        XCTAssertEqual(user.clientCertificateData, Data(admin.certificatePEM.utf8))
        XCTAssertEqual(user.clientKeyData, Data(admin.privateKeyPEM.utf8))
    }
}
