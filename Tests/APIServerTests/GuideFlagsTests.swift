import TestSupport
import Foundation
import XCTest

/// The guide's /etc/kubernetes/config and /etc/kubernetes/apiserver flags, verbatim (addresses moved to
/// loopback, paths to a temp directory): the server starts, says which flags do nothing yet, and serves.
final class GuideFlagsTests: XCTestCase {
    func testGuideFlagSetStartsAndServes() throws {
        let probe = try TestCluster(address: "127.0.0.26")
        let pki = probe.directory.appendingPathComponent("pki").path
        let tokens = probe.directory.appendingPathComponent("token.csv").path
        try "41f7e4ba8b7be874fcff18bf5cf41a7c,kubelet-bootstrap,10001,\"system:kubelet-bootstrap\"\n"
            .write(toFile: tokens, atomically: true, encoding: .utf8)
        probe.stop()
        let logDirectory = probe.directory.appendingPathComponent("k8s").path
        // KUBE_LOGTOSTDERR, KUBE_LOG_LEVEL, KUBE_ALLOW_PRIV, then the apiserver file's variables, as systemd expands them.
        let guide = [
            "--logtostderr=false", "--log-dir=\(logDirectory)", "--v=0", "--allow-privileged=true",
            "--advertise-address=127.0.0.26",
            "--service-cluster-ip-range=10.254.0.0/16",
            "--admission-control=ServiceAccount,NamespaceLifecycle,NamespaceExists,LimitRanger,ResourceQuota",
            "--authorization-mode=RBAC", "--runtime-config=rbac.authorization.k8s.io/v1beta1", "--kubelet-https=true",
            "--experimental-bootstrap-token-auth", "--token-auth-file=\(tokens)",
            "--tls-cert-file=\(pki)/kubernetes.pem", "--tls-private-key-file=\(pki)/kubernetes-key.pem",
            "--client-ca-file=\(pki)/ca.pem", "--service-account-key-file=\(pki)/ca-key.pem",
            "--enable-swagger-ui=true", "--apiserver-count=3", "--audit-log-maxage=30", "--audit-log-maxbackup=3",
            "--audit-log-maxsize=100", "--audit-log-path=\(logDirectory)/apiserver.log", "--event-ttl=1h",
        ]
        let cluster = try TestCluster(
            address: "127.0.0.26", extraFlags: guide + ["--logtostderr=true"], directory: probe.directory)
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl("get service kubernetes -o jsonpath={.spec.clusterIP}")), "10.254.0.1")
        XCTAssertTrue(cluster.log.contains("flag --kubelet-https is accepted and has no effect"), cluster.log)
        XCTAssertTrue(cluster.log.contains("flag --runtime-config is accepted and has no effect"), cluster.log)
        // The token from token.csv authenticates; RBAC then refuses the user, who has no bindings yet.
        let whoami = try TestCluster.run(
            TestCluster.kubectlPath,
            [
                "--server=https://127.0.0.26:\(cluster.port)", "--certificate-authority=\(pki)/ca.pem",
                "--token=41f7e4ba8b7be874fcff18bf5cf41a7c", "get", "namespaces", "-o", "name",
            ])
        XCTAssertEqual(
            whoami.stderr.trimmingCharacters(in: .whitespacesAndNewlines),
            #"Error from server (Forbidden): namespaces is forbidden: User "kubelet-bootstrap" cannot list resource "namespaces" in API group "" at the cluster scope"#
        )
    }

    func testUnknownFlagFailsNamingIt() throws {
        let binary = TestCluster.productsDirectory.appendingPathComponent("kube-apiserver").path
        let result = try TestCluster.run(binary, ["--secure-port=0", "--no-such-flag=1"])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr, "Error: unknown flag: --no-such-flag\n")
    }

    func testRequestsWithoutValidCredentialsAre401WhenAnonymousAuthIsOff() throws {
        let cluster = try TestCluster(address: "127.0.0.27", extraFlags: ["--anonymous-auth=false"])
        let pki = cluster.directory.appendingPathComponent("pki").path
        let result = try TestCluster.run(
            TestCluster.kubectlPath,
            [
                "--server=https://127.0.0.27:\(cluster.port)", "--certificate-authority=\(pki)/ca.pem",
                "--token=not-a-known-token", "get", "--raw", "/api/v1/namespaces",
            ])
        XCTAssertEqual(
            result.stderr.trimmingCharacters(in: .whitespacesAndNewlines),
            "error: You must be logged in to the server (Unauthorized)")
        let anonymous = try TestCluster.run(
            "/usr/bin/curl",
            [
                "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", "\(pki)/ca.pem",
                "https://127.0.0.27:\(cluster.port)/version",
            ])
        XCTAssertEqual(anonymous.stdout, "401")
    }

    func testUnknownTokenIs401EvenWithAnonymousAuth() throws {
        let cluster = try TestCluster(address: "127.0.0.29")
        let pki = cluster.directory.appendingPathComponent("pki").path
        let result = try TestCluster.run(
            TestCluster.kubectlPath,
            [
                "--server=https://127.0.0.29:\(cluster.port)", "--certificate-authority=\(pki)/ca.pem",
                "--token=not-a-known-token", "get", "--raw", "/version",
            ])
        XCTAssertEqual(
            result.stderr.trimmingCharacters(in: .whitespacesAndNewlines),
            "error: You must be logged in to the server (Unauthorized)")
        // With no credentials at all the request runs as system:anonymous (this server keeps the default AlwaysAllow).
        let anonymous = try TestCluster.run(
            "/usr/bin/curl", ["-s", "--cacert", "\(pki)/ca.pem", "https://127.0.0.29:\(cluster.port)/version"])
        XCTAssertTrue(anonymous.stdout.contains("v1.32.0-kubeswift"), anonymous.stdout + anonymous.stderr)
    }

    func testNamespaceDeletionEmptiesAndRemovesIt() throws {
        let cluster = try TestCluster(address: "127.0.0.28")
        expectSuccess(
            try cluster.kubectl(
                ["create", "-f", "-"],
                input:
                    "apiVersion: v1\nkind: Namespace\nmetadata: {name: doomed}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: doomed}\n"
            ))
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl("delete namespace doomed --timeout=20s")),
            "namespace \"doomed\" deleted\n")
        expectFailure(
            try cluster.kubectl("get namespace doomed"), "Error from server (NotFound): namespaces \"doomed\" not found"
        )
        expectFailure(
            try cluster.kubectl(["create", "configmap", "late", "-n", "doomed"]),
            "error: failed to create configmap: namespaces \"doomed\" not found")
    }

    /// Without --tls-cert-file the server makes apiserver.crt/.key in --cert-dir, as upstream, and reuses them;
    /// under systemd (`Type=notify`) it reports READY=1 on $NOTIFY_SOCKET once it serves.
    func testSelfSignedCertificateInCertDirAndSystemdNotify() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kubeswift-selfsigned-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let socketPath = directory.appendingPathComponent("notify.sock").path
        // A datagram listener that prints the first message systemd would receive.
        let listener = Process()
        listener.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        listener.arguments = [
            "python3", "-c",
            "import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); s.settimeout(30); print(s.recv(256).decode(), flush=True)",
            socketPath,
        ]
        let listenerOutput = Pipe()
        listener.standardOutput = listenerOutput
        try listener.run()
        while !FileManager.default.fileExists(atPath: socketPath) { Thread.sleep(forTimeInterval: 0.02) }

        let server = Process()
        server.executableURL = TestCluster.productsDirectory.appendingPathComponent("kube-apiserver")
        server.arguments = [
            "--bind-address=127.0.0.31", "--secure-port=0", "--cert-dir=\(directory.path)/certs",
            "--data-dir=\(directory.path)/data",
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = socketPath
        server.environment = environment
        let log = directory.appendingPathComponent("log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        server.standardError = try FileHandle(forWritingTo: log)
        try server.run()
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        let port = try TestCluster.waitForPort(logFile: log, process: server)
        listener.waitUntilExit()
        XCTAssertEqual(
            String(decoding: listenerOutput.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self), "READY=1\n")
        let certificate = "\(directory.path)/certs/apiserver.crt"
        XCTAssertTrue(FileManager.default.fileExists(atPath: certificate))
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(directory.path)/certs/apiserver.key"))
        let version = try TestCluster.run(
            "/usr/bin/curl",
            [
                "-s", "--cacert", certificate, "--resolve", "localhost:\(port):127.0.0.31",
                "https://localhost:\(port)/version",
            ])
        XCTAssertTrue(version.stdout.contains("v1.32.0-kubeswift"), version.stdout + version.stderr)
    }
}
