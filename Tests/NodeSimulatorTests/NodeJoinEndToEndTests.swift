import Client
import Foundation
import Logging
import Operations
import TestSupport
import X509
import XCTest

@testable import NodeSimulator

/// Simulated nodes that join as kubelets do, against a real kube-apiserver (`Node,RBAC`, NodeRestriction,
/// bootstrap tokens), kube-controller-manager (certificate approver and signer with the guide's CA, jobs,
/// replica sets, node lifecycle) and kube-scheduler: each node files a CSR with the bootstrap token, gets a
/// certificate from the cluster CA and from then on writes as `system:node:<name>`.
final class NodeJoinEndToEndTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.96" }
    override class var extraFlags: [String] {
        [
            "--enable-bootstrap-token-auth", "--authorization-mode=Node,RBAC",
            "--enable-admission-plugins=NodeRestriction",
        ]
    }

    static let token = "e2e096.0123456789abcdef"

    nonisolated(unsafe) private static var components: [ComponentProcess] = []
    nonisolated(unsafe) private static var simulation: (task: Task<Void, Never>, credentials: BootstrapNodeCredentials)?

    override class func clusterStarted(_ cluster: TestCluster) throws {
        let pki = cluster.directory.appendingPathComponent("pki").path
        components.append(
            try ComponentProcess(
                executable: "kube-controller-manager",
                arguments: [
                    "--kubeconfig=\(cluster.kubeconfig)", "--bind-address=\(clusterAddress)", "--secure-port=0",
                    "--leader-elect=false", "--v=2",
                    "--controllers=csrapproving,csrsigning,job,replicaset,deployment,nodelifecycle,"
                        + "taint-eviction-controller",
                    "--cluster-signing-cert-file=\(pki)/ca.pem", "--cluster-signing-key-file=\(pki)/ca-key.pem",
                    "--node-monitor-period=1s", "--node-monitor-grace-period=4s",
                ], directory: cluster.directory, logName: "join-controller-manager"))
        components.append(
            try ComponentProcess(
                executable: "kube-scheduler",
                arguments: [
                    "--kubeconfig=\(cluster.kubeconfig)", "--bind-address=\(clusterAddress)", "--secure-port=0",
                    "--leader-elect=false",
                ], directory: cluster.directory, logName: "join-scheduler"))
    }

    override class func tearDown() {
        simulation?.task.cancel()
        simulation = nil
        for component in components { _ = component.stop() }
        components = []
        super.tearDown()
    }

    override func setUp() async throws {
        try await super.setUp()
        guard Self.simulation == nil else { return }
        let cluster = try cluster
        let authority = try CertificateAuthority.load(directory: cluster.directory.appendingPathComponent("pki").path)
        let bootstrapPath = cluster.directory.appendingPathComponent("bootstrap.kubeconfig").path
        try Kubeconfig.bootstrap(
            server: "https://\(cluster.address):\(cluster.port)", certificateAuthorityPEM: authority.certificatePEM,
            token: Self.token
        ).write(toFile: bootstrapPath)
        var readConfiguration = try ClientConfiguration.load(kubeconfigPath: cluster.kubeconfig)
        readConfiguration.qps = 100
        readConfiguration.burst = 200
        let client = try RESTClient(configuration: readConfiguration)
        let logger = Logger(label: "e2e.node-join")
        try await NodeBootstrapSetup.ensure(client: client, token: BootstrapToken(parsing: Self.token), logger: logger)
        // Twice: what exists is left alone.
        try await NodeBootstrapSetup.ensure(client: client, token: BootstrapToken(parsing: Self.token), logger: logger)
        let credentials = try BootstrapNodeCredentials(
            configuration: .init(bootstrap: try ClientConfiguration.load(kubeconfigPath: bootstrapPath)),
            watchClient: client, logger: logger)
        var configuration = NodeSimulatorConfiguration(count: 2, prefix: "join-")
        configuration.schedule = HeartbeatSchedule(leaseInterval: .seconds(1), statusInterval: .seconds(60))
        let simulator = NodeSimulator(configuration: configuration, client: client, credentials: credentials)
        Self.simulation = (Task { await simulator.run() }, credentials)
        XCTAssertNotNil(
            poll(timeout: 40) {
                let output = try cluster.kubectl([
                    "get", "nodes", "-o",
                    #"jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status} {end}"#,
                ])
                return output.stdout == "True True " ? true : nil
            }, "nodes did not join: \(Self.components.first?.log.suffix(3000) ?? "")")
    }

    func testNodesJoinWithTheBootstrapTokenAndWriteAsThemselves() async throws {
        let cluster = try cluster
        let requests = try cluster.kubectl([
            "get", "csr", "-o",
            #"jsonpath={range .items[*]}{.metadata.name} {.spec.username} {.spec.signerName} {.status.conditions[0].type}{"\n"}{end}"#,
        ])
        // The two joins; a renewal another test asked for is the node's own request.
        let lines = requests.stdout.split(separator: "\n").filter { !$0.contains(" system:node:") }
        XCTAssertEqual(lines.count, 2, requests.stdout)
        for line in lines {
            let fields = line.split(separator: " ").map(String.init)
            XCTAssertTrue(fields[0].hasPrefix("node-csr-"), line.description)
            XCTAssertEqual(
                Array(fields.dropFirst()),
                ["system:bootstrap:e2e096", "kubernetes.io/kube-apiserver-client-kubelet", "Approved"])
        }
        let name = String(lines.first?.split(separator: " ").first ?? "")
        let encoded = try cluster.kubectl(["get", "csr", name, "-o", "jsonpath={.status.certificate}"]).stdout
        let pem = String(decoding: Data(base64Encoded: encoded) ?? Data(), as: UTF8.self)
        let issued = try XCTUnwrap(try PEM.certificates(from: pem).first)
        let authority = try CertificateAuthority.load(directory: cluster.directory.appendingPathComponent("pki").path)
        XCTAssertEqual(issued.issuer, authority.certificate.subject)
        XCTAssertTrue(authority.certificate.publicKey.isValidSignature(issued.signature, for: issued))

        // Each node's client presents its own certificate.
        let credentials = try XCTUnwrap(Self.simulation?.credentials)
        for node in ["join-0", "join-1"] {
            let review = try await credentials.client(forNode: node).postJSON(
                path: "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                ["apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"])
            XCTAssertEqual(review[path: "status", "userInfo", "username"]?.stringValue, "system:node:\(node)")
            XCTAssertEqual(
                review[path: "status", "userInfo", "groups"]?.arrayValue?.compactMap(\.stringValue),
                ["system:nodes", "system:authenticated"])
        }
        // NodeRestriction holds each node to its own Node, which it could not if it wrote as the admin.
        do {
            _ = try await ResourceClient<Node>(client: try await credentials.client(forNode: "join-1")).patch(
                "join-0", ["metadata": ["labels": ["stolen": "yes"]]])
            XCTFail("join-1 modified join-0")
        } catch let error as StatusError {
            XCTAssertEqual(error.code, 403)
            XCTAssertTrue(
                error.message.contains(#"node "join-1" is not allowed to modify node "join-0""#), error.message)
        }
        let managers = try cluster.kubectl([
            "get", "node", "join-0", "-o", "jsonpath={.metadata.managedFields[*].manager}",
        ])
        XCTAssertTrue(managers.stdout.contains("kubelet"), managers.stdout)
    }

    func testARenewalIsFiledWithTheNodesOwnCertificateAndAutoApproved() async throws {
        let cluster = try cluster
        let credentials = try XCTUnwrap(Self.simulation?.credentials)
        let before = try await credentials.client(forNode: "join-1")
        try await credentials.renew("join-1")
        let after = try await credentials.client(forNode: "join-1")
        XCTAssertFalse(before === after, "the node swapped to its new certificate")
        let requests = try cluster.kubectl([
            "get", "csr", "-o",
            #"jsonpath={range .items[?(@.spec.username=="system:node:join-1")]}{.status.conditions[0].reason}{end}"#,
        ])
        XCTAssertEqual(requests.stdout, "AutoApproved", "the renewal is the node's own, approved as selfnodeclient")
        let review = try await after.postJSON(
            path: "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            ["apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"])
        XCTAssertEqual(review[path: "status", "userInfo", "username"]?.stringValue, "system:node:join-1")
    }

    func testPodsOfAJoinedNodeGoRunning() throws {
        let cluster = try cluster
        expectSuccess(try cluster.kubectl(["run", "web", "--image=nginx"]))
        let running = poll {
            try self.field(cluster, "pod", "web", "{.status.phase} {.spec.nodeName}").hasPrefix("Running join-")
                ? true : nil
        }
        XCTAssertNotNil(running)
        XCTAssertTrue(try field(cluster, "pod", "web", "{.status.podIP}").hasPrefix("10."))
    }

    func testTheNodeAuthorizerRefusesANodeAnotherNodesPodSecret() async throws {
        let cluster = try cluster
        expectSuccess(try cluster.kubectl(["create", "secret", "generic", "for-join-0", "--from-literal=k=v"]))
        let pod = #"""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"with-secret","namespace":"default"},
             "spec":{"nodeName":"join-0","containers":[{"name":"c","image":"nginx"}],
                     "volumes":[{"name":"s","secret":{"secretName":"for-join-0"}}]}}
            """#
        expectSuccess(try cluster.kubectl(["create", "-f", "-"], input: pod))
        let credentials = try XCTUnwrap(Self.simulation?.credentials)
        let ownerSecrets = ResourceClient<Secret>(
            client: try await credentials.client(forNode: "join-0"), namespace: "default")
        // The authorizer's graph follows the pod's creation through its watch.
        var read: Secret?
        for _ in 0..<50 where read == nil {
            read = try? await ownerSecrets.get("for-join-0")
            if read == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        XCTAssertEqual(read?.metadata.name, "for-join-0", "the pod's own node reads the secret")
        do {
            _ = try await ResourceClient<Secret>(
                client: try await credentials.client(forNode: "join-1"), namespace: "default"
            ).get("for-join-0")
            XCTFail("join-1 read a secret of a pod on join-0")
        } catch let error as StatusError {
            XCTAssertEqual(error.code, 403)
            XCTAssertEqual(
                error.message,
                #"secrets "for-join-0" is forbidden: User "system:node:join-1" cannot get resource "secrets" in API group "" "#
                    + #"in the namespace "default": no relationship found between node 'join-1' and this object"#)
        }
    }

    func testAFailingJobStopsAtItsBackoffLimit() throws {
        let cluster = try cluster
        let job = #"""
            {"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"failing","namespace":"default"},
             "spec":{"backoffLimit":1,"template":{"spec":{"restartPolicy":"Never",
                     "containers":[{"name":"c","image":"busybox","command":["false"]}]}}}}
            """#
        expectSuccess(try cluster.kubectl(["create", "-f", "-"], input: job))
        let reason = poll(timeout: 40) {
            let text = try self.field(
                cluster, "job", "failing", #"{.status.conditions[?(@.type=="Failed")].reason}"#)
            return text.isEmpty ? nil : text
        }
        XCTAssertEqual(reason, "BackoffLimitExceeded", Self.components.first?.log.suffix(3000).description ?? "")
        let pods = try cluster.kubectl([
            "get", "pods", "-l", "job-name=failing", "-o", "jsonpath={range .items[*]}{.status.phase} {end}",
        ])
        XCTAssertEqual(pods.stdout, "Failed Failed ", "one try and one retry, no more")
    }

    func testAStoppedNodesPodsAreEvictedAndRescheduledOnTheOther() throws {
        let cluster = try cluster
        let deployment = #"""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"moving","namespace":"default"},
             "spec":{"replicas":1,"selector":{"matchLabels":{"app":"moving"}},
                     "template":{"metadata":{"labels":{"app":"moving"}},
                                 "spec":{"containers":[{"name":"c","image":"nginx"}],
                                         "tolerations":[{"key":"node.kubernetes.io/unreachable","operator":"Exists",
                                                         "effect":"NoExecute","tolerationSeconds":2}]}}}}
            """#
        expectSuccess(try cluster.kubectl(["create", "-f", "-"], input: deployment))
        let first = poll {
            let line = try self.pods(cluster, "app=moving")
            return line.hasPrefix("Running join-") && line.split(separator: "\n").count == 1 ? line : nil
        }
        let original = try XCTUnwrap(first?.split(whereSeparator: \.isWhitespace).map(String.init))
        let stopped = original[1]
        let other = stopped == "join-0" ? "join-1" : "join-0"
        expectSuccess(
            try cluster.kubectl([
                "annotate", "node", stopped, "\(SimulatorAnnotations.state)=\(SimulatorAnnotations.stopped)",
            ]))
        defer { _ = try? cluster.kubectl(["annotate", "node", stopped, "\(SimulatorAnnotations.state)-"]) }
        let notReady = poll(timeout: 30) {
            try self.field(cluster, "node", stopped, #"{.status.conditions[?(@.type=="Ready")].status}"#) == "Unknown"
                ? true : nil
        }
        XCTAssertNotNil(notReady, Self.components.first?.log.suffix(3000).description ?? "")
        let evicted = poll(timeout: 30) {
            try self.field(cluster, "pod", original[2], "{.metadata.deletionTimestamp}").isEmpty ? nil : true
        }
        XCTAssertNotNil(evicted, "the stopped node's pod is evicted")
        let replacement = poll(timeout: 30) {
            let lines = try self.pods(cluster, "app=moving").split(separator: "\n")
            return lines.first { $0.hasPrefix("Running \(other) ") }.map(String.init)
        }
        let left = try pods(cluster, "app=moving")
        XCTAssertNotNil(replacement, left)
    }

    // MARK: Helpers

    /// `phase node name` of each pod matching `selector`, one a line.
    private func pods(_ cluster: TestCluster, _ selector: String) throws -> String {
        try cluster.kubectl([
            "get", "pods", "-l", selector, "-o",
            #"jsonpath={range .items[*]}{.status.phase} {.spec.nodeName} {.metadata.name}{"\n"}{end}"#,
        ]).stdout
    }

    private func field(_ cluster: TestCluster, _ kind: String, _ name: String, _ path: String) throws -> String {
        let output = try cluster.kubectl(["get", kind, name, "-o", "jsonpath=\(path)"])
        guard output.status == 0 else { throw TestClusterError(output.stderr) }
        return output.stdout
    }

    private func poll<T>(timeout: TimeInterval = 20, _ probe: () throws -> T?) -> T? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let value = try? probe() { return value }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return nil
    }
}
