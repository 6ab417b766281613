import Foundation
import Logging
import TestSupport
import XCTest

@testable import Client

/// The configuration forms the guide's components use, and client-go's precedence between them.
final class ClientConfigurationTests: XCTestCase {
    private var directory = ""
    private let quiet = Logger(label: "configuration-tests") { _ in SwiftLogNoOpLogHandler() }

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubeswift-config-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory + "/sa", withIntermediateDirectories: true)
        try "in-cluster-token\n".write(toFile: directory + "/sa/token", atomically: true, encoding: .utf8)
        try "-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n".write(
            toFile: directory + "/sa/ca.crt", atomically: true, encoding: .utf8)
        try "team-a\n".write(toFile: directory + "/sa/namespace", atomically: true, encoding: .utf8)
        try """
        apiVersion: v1
        kind: Config
        clusters:
        - name: guide
          cluster:
            server: https://10.240.0.10:6443
            certificate-authority: ca.pem
        users:
        - name: scheduler
          user:
            tokenFile: scheduler.token
        - name: admin
          user:
            client-certificate: admin.pem
            client-key: admin-key.pem
        - name: inline
          user:
            client-certificate-data: \(Data("inline-cert".utf8).base64EncodedString())
            client-key-data: \(Data("inline-key".utf8).base64EncodedString())
        contexts:
        - name: default
          context: {cluster: guide, user: scheduler}
        - name: admin
          context: {cluster: guide, user: admin}
        - name: inline
          context: {cluster: guide, user: inline}
        current-context: default
        """.write(toFile: directory + "/scheduler.kubeconfig", atomically: true, encoding: .utf8)
        try "file-token\n".write(toFile: directory + "/scheduler.token", atomically: true, encoding: .utf8)
        try "guide-ca".write(toFile: directory + "/ca.pem", atomically: true, encoding: .utf8)
        try "admin-cert".write(toFile: directory + "/admin.pem", atomically: true, encoding: .utf8)
        try "admin-key".write(toFile: directory + "/admin-key.pem", atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private var pod: InClusterEnvironment {
        InClusterEnvironment(
            directory: directory + "/sa",
            variables: ["KUBERNETES_SERVICE_HOST": "10.32.0.1", "KUBERNETES_SERVICE_PORT": "443"])
    }

    func testInClusterReadsTheServiceAccountAndTheServiceEnvironment() throws {
        let configuration = try ClientConfiguration.inCluster(pod)
        XCTAssertEqual(configuration.host, "10.32.0.1")
        XCTAssertEqual(configuration.port, 443)
        XCTAssertEqual(configuration.bearerToken, "in-cluster-token")
        XCTAssertEqual(configuration.bearerTokenFile, directory + "/sa/token", "re-read as the kubelet rotates it")
        XCTAssertEqual(configuration.trustRootsPEM.map { String(decoding: $0, as: UTF8.self) }?.contains("ca"), true)
        XCTAssertEqual(configuration.namespace, "team-a")

        var ipv6 = pod
        ipv6.variables["KUBERNETES_SERVICE_HOST"] = "fd00::1"
        ipv6.variables["POD_NAMESPACE"] = "from-downward-api"
        let v6 = try ClientConfiguration.inCluster(ipv6)
        XCTAssertEqual(v6.host, "fd00::1")
        XCTAssertEqual(v6.authority, "[fd00::1]:443")
        XCTAssertEqual(v6.namespace, "from-downward-api")

        XCTAssertThrowsError(
            try ClientConfiguration.inCluster(InClusterEnvironment(directory: directory, variables: [:]))
        ) { error in
            XCTAssertEqual(
                error as? ClientError,
                .invalidConfiguration(
                    "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined"
                ))
        }
        var noToken = pod
        noToken.directory = directory
        XCTAssertThrowsError(try ClientConfiguration.inCluster(noToken))
    }

    func testClientCertificatesFromFilesOrData() throws {
        let kubeconfig = directory + "/scheduler.kubeconfig"
        let files = try ClientConfiguration.load(kubeconfigPath: kubeconfig, context: "admin")
        XCTAssertEqual(files.clientCertificatePEM, Array("admin-cert".utf8), "paths resolve against the kubeconfig")
        XCTAssertEqual(files.clientKeyPEM, Array("admin-key".utf8))
        XCTAssertNil(files.bearerToken)
        let inline = try ClientConfiguration.load(kubeconfigPath: kubeconfig, context: "inline")
        XCTAssertEqual(inline.clientCertificatePEM, Array("inline-cert".utf8))
        XCTAssertEqual(inline.clientKeyPEM, Array("inline-key".utf8))
    }

    func testForComponentFollowsBuildConfigFromFlags() throws {
        let kubeconfig = directory + "/scheduler.kubeconfig"

        let fromFile = try ClientConfiguration.forComponent(
            kubeconfig: kubeconfig, master: nil, inCluster: pod, logger: quiet)
        XCTAssertEqual(fromFile.host, "10.240.0.10")
        XCTAssertEqual(fromFile.port, 6443)
        XCTAssertEqual(fromFile.bearerToken, "file-token", "tokenFile is read relative to the kubeconfig")
        XCTAssertEqual(fromFile.bearerTokenFile, directory + "/scheduler.token")
        XCTAssertEqual(fromFile.trustRootsPEM, Array("guide-ca".utf8), "certificate-authority as a relative file")

        let overridden = try ClientConfiguration.forComponent(
            kubeconfig: kubeconfig, master: "https://127.0.0.1:7443/prefix", inCluster: pod, logger: quiet)
        XCTAssertEqual(overridden.host, "127.0.0.1")
        XCTAssertEqual(overridden.port, 7443)
        XCTAssertEqual(overridden.basePath, "/prefix")
        XCTAssertEqual(overridden.bearerToken, "file-token", "--master replaces only the server")
        XCTAssertEqual(overridden.trustRootsPEM, fromFile.trustRootsPEM)

        let masterOnly = try ClientConfiguration.forComponent(
            kubeconfig: "", master: "https://lb.example:443", inCluster: pod, logger: quiet)
        XCTAssertEqual(masterOnly.host, "lb.example")
        XCTAssertNil(masterOnly.bearerToken)
        XCTAssertNil(masterOnly.trustRootsPEM)

        let inCluster = try ClientConfiguration.forComponent(kubeconfig: nil, master: "", inCluster: pod, logger: quiet)
        XCTAssertEqual(inCluster.host, "10.32.0.1")
        XCTAssertEqual(inCluster.bearerToken, "in-cluster-token")

        XCTAssertThrowsError(
            try ClientConfiguration.forComponent(
                kubeconfig: nil, master: nil, inCluster: InClusterEnvironment(directory: directory, variables: [:]),
                logger: quiet))
        XCTAssertThrowsError(
            try ClientConfiguration.forComponent(
                kubeconfig: directory + "/missing.kubeconfig", master: nil, inCluster: pod, logger: quiet),
            "a named kubeconfig that cannot be read is an error, never a silent fallback")
    }
}

/// A token file is followed as it is rotated, as client-go's cached file token source does.
final class TokenFileTests: XCTestCase {
    func testARotatedTokenFileIsPickedUpWithinAMinute() async throws {
        let endpoint = try await LocalAPIServer.shared.start()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "\(endpoint.token)\n".write(toFile: path, atomically: true, encoding: .utf8)
        var configuration = try ClientConfiguration(server: endpoint.server)
        configuration.trustRootsPEM = endpoint.caPEM
        configuration.bearerTokenFile = path
        configuration.qps = -1
        let time = FakeTime()
        let client = try RESTClient(configuration: configuration, timeSource: time)
        func status() async throws -> Int {
            try await client.send(Request(method: .get, path: "/api/v1/namespaces")).status
        }
        let first = try await status()
        XCTAssertEqual(first, 200)

        try "revoked-token\n".write(toFile: path, atomically: true, encoding: .utf8)
        time.advance(by: .seconds(59))
        let cached = try await status()
        XCTAssertEqual(cached, 200, "the token read a minute ago is still used")
        time.advance(by: .seconds(1))
        let reread = try await status()
        XCTAssertEqual(reread, 401, "after a minute the file is read again")

        try FileManager.default.removeItem(atPath: path)
        time.advance(by: .seconds(60))
        let missing = try await status()
        XCTAssertEqual(missing, 401, "a missing file keeps the last token read")
        await client.shutdown()
    }
}
