import Foundation
import Operations
import TestSupport
import XCTest

/// API aggregation through real processes over TLS: the front kube-apiserver (127.0.0.141) proxies
/// `wardle.example.com/v1alpha1` to a second kube-apiserver (127.0.0.142) that serves it as a custom resource
/// and trusts the front's proxy client certificate through `--requestheader-client-ca-file`. A Service and its
/// Endpoints in the front cluster point at the backend; both clusters authorize with RBAC, and only the
/// backend's RBAC decides who may touch flunders there, so what the backend allows proves which identity
/// the front forwarded.
final class AggregationEndToEndTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.141" }
    override class var controllers: [String]? { nil }
    override class var extraFlags: [String] {
        [
            "--authorization-mode=RBAC", "--proxy-client-cert-file=@front-proxy/front-proxy-client.pem",
            "--proxy-client-key-file=@front-proxy/front-proxy-client-key.pem",
        ]
    }

    static let backendAddress = "127.0.0.142"
    nonisolated(unsafe) private static var backend: TestCluster?
    nonisolated(unsafe) private static var backendCA = ""

    /// The front-proxy CA and the front's client certificate (kubeadm's `front-proxy-client`), and the
    /// backend's PKI with a serving certificate for `api.wardle.svc`, the name the front dials it by.
    override class func prepare(directory: URL) throws {
        let frontProxy = directory.appendingPathComponent("front-proxy").path
        try FileManager.default.createDirectory(atPath: frontProxy, withIntermediateDirectories: true)
        try FrontProxyCertificates.write(directory: frontProxy)
        let backendPKI = directory.appendingPathComponent("backend/pki").path
        try FileManager.default.createDirectory(atPath: backendPKI, withIntermediateDirectories: true)
        let backendAuthority = try CertificateAuthority.create()
        try backendAuthority.write(directory: backendPKI)
        try backendAuthority.issueServing(dnsNames: ["api.wardle.svc"], ipAddresses: [backendAddress]).write(
            certificateFile: backendPKI + "/wardle.pem", keyFile: backendPKI + "/wardle-key.pem")
        backendCA = Data(backendAuthority.certificatePEM.utf8).base64EncodedString()
    }

    override class func clusterStarted(_ cluster: TestCluster) throws {
        let directory = cluster.directory.appendingPathComponent("backend")
        let frontProxy = cluster.directory.appendingPathComponent("front-proxy").path
        let backend = try TestCluster(
            address: backendAddress,
            extraFlags: [
                "--authorization-mode=RBAC",
                "--tls-cert-file=\(directory.path)/pki/wardle.pem",
                "--tls-private-key-file=\(directory.path)/pki/wardle-key.pem",
                "--requestheader-client-ca-file=\(frontProxy)/front-proxy-ca.pem",
                "--requestheader-allowed-names=front-proxy-client",
                "--requestheader-username-headers=X-Remote-User", "--requestheader-group-headers=X-Remote-Group",
                "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            ], directory: directory, controllers: nil)
        Self.backend = backend
        let crd = """
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: flunders.wardle.example.com}
            spec:
              group: wardle.example.com
              scope: Namespaced
              names: {plural: flunders, singular: flunder, kind: Flunder, listKind: FlunderList}
              versions:
              - name: v1alpha1
                served: true
                storage: true
                schema:
                  openAPIV3Schema:
                    type: object
                    properties:
                      spec: {type: object, properties: {reference: {type: string}}}
            ---
            apiVersion: v1
            kind: Namespace
            metadata: {name: wardle}
            """
        try check(backend.kubectl(["apply", "-f", "-"], input: crd + "\n---\n" + role(users: ["wardle-user"])))
        try check(
            cluster.kubectl(
                ["apply", "-f", "-"],
                input: "apiVersion: v1\nkind: Namespace\nmetadata: {name: wardle}\n---\n"
                    + role(users: ["wardle-user", "front-only"])))
    }

    override class func tearDown() {
        backend?.stop()
        backend = nil
        super.tearDown()
    }

    /// A ClusterRole on flunders bound to `users`.
    static func role(users: [String]) -> String {
        let subjects = users.map { "{apiGroup: rbac.authorization.k8s.io, kind: User, name: \($0)}" }
        return """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: flunder-editor}
            rules: [{apiGroups: [wardle.example.com], resources: [flunders], verbs: ["*"]}]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata: {name: flunder-editor}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: flunder-editor}
            subjects: [\(subjects.joined(separator: ", "))]
            """
    }

    private static func check(_ output: TestCluster.Output) throws {
        guard output.status == 0 else { throw TestClusterError("kubectl failed: \(output.stderr)") }
    }

    /// kubectl against the front as `user` (the admin when nil), with a fresh discovery cache each time.
    func kubectl(_ arguments: [String], as user: String? = nil, input: String? = nil) throws -> TestCluster.Output {
        let cluster = try cluster
        let kubeconfig = try user.map { try cluster.kubeconfig(forUser: $0) } ?? cluster.kubeconfig
        let cache = cluster.directory.appendingPathComponent("cache-\(UUID().uuidString)").path
        return try TestCluster.run(
            TestCluster.kubectlPath, ["--kubeconfig=\(kubeconfig)", "--cache-dir=\(cache)"] + arguments, input: input)
    }

    /// Retries `attempt` for up to 20 s: the controller acts on storage watch events.
    func eventually(_ what: String, _ attempt: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if try attempt() { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTFail("never happened: \(what)")
    }

    func condition(_ name: String) throws -> String {
        try kubectl([
            "get", "apiservice", name, "-o", "jsonpath={.status.conditions[0].status} {.status.conditions[0].reason}",
        ]).stdout
    }

    func testLocalAPIServicesAreListedAsUpstreamPrintsThem() throws {
        try eventually("the local APIServices are registered and available") {
            let lines = try kubectl(["get", "apiservices"]).stdout.split(separator: "\n").map {
                $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            }
            return lines.first == ["NAME", "SERVICE", "AVAILABLE", "AGE"]
                && lines.contains { $0.prefix(3) == ["v1.", "Local", "True"] }
                && lines.contains { $0.prefix(3) == ["v1.apps", "Local", "True"] }
        }
        // A custom resource group version gets its local APIService too (the backend serves one).
        let backend = try XCTUnwrap(Self.backend)
        try eventually("the backend registers its custom resource group") {
            let row = try backend.kubectl(["get", "apiservice", "v1alpha1.wardle.example.com", "--no-headers"]).stdout
            return row.split(separator: " ", omittingEmptySubsequences: true).prefix(3) == [
                "v1alpha1.wardle.example.com", "Local", "True",
            ]
        }
        let labels = try backend.kubectl([
            "get", "apiservice", "v1alpha1.wardle.example.com", "-o", "jsonpath={.metadata.labels}",
        ])
        XCTAssertEqual(labels.stdout, #"{"kube-aggregator.kubernetes.io/automanaged":"true"}"#)
        let spec = try kubectl(["get", "apiservice", "v1.apps", "-o", "jsonpath={.spec}"]).stdout
        XCTAssertTrue(spec.contains(#""groupPriorityMinimum":17800"#), spec)
        XCTAssertTrue(spec.contains(#""versionPriority":15"#), spec)
        let refused = try kubectl(
            ["create", "-f", "-"],
            input: """
                apiVersion: apiregistration.k8s.io/v1
                kind: APIService
                metadata: {name: v1.wrong.example.com}
                spec: {group: other.example.com, version: v1, groupPriorityMinimum: 0, versionPriority: 1}
                """)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(
            refused.stderr.contains(
                #"metadata.name: Invalid value: "v1.wrong.example.com": must be `spec.version+"."+spec.group`: "v1.other.example.com""#
            ), refused.stderr)
        XCTAssertTrue(
            refused.stderr.contains(
                #"spec.groupPriorityMinimum: Invalid value: 0: must be positive and less than 20000"#),
            refused.stderr)
    }

    func testAggregatedGroupIsProxiedDiscoveredAndRemoved() throws {
        let cluster = try cluster
        let backendPort = try XCTUnwrap(Self.backend?.port)
        let name = "v1alpha1.wardle.example.com"
        let service = """
            apiVersion: v1
            kind: Service
            metadata: {name: api, namespace: wardle}
            spec: {ports: [{name: https, port: 443, targetPort: \(backendPort)}]}
            ---
            apiVersion: v1
            kind: Endpoints
            metadata: {name: api, namespace: wardle}
            subsets: []
            ---
            apiVersion: apiregistration.k8s.io/v1
            kind: APIService
            metadata: {name: \(name)}
            spec:
              group: wardle.example.com
              version: v1alpha1
              groupPriorityMinimum: 1000
              versionPriority: 15
              service: {namespace: wardle, name: api}
              caBundle: \(Self.backendCA)
            """
        XCTAssertEqual(try kubectl(["apply", "-f", "-"], input: service).status, 0)
        try eventually("MissingEndpoints while the endpoints have no address") {
            try condition(name) == "False MissingEndpoints"
        }
        let message = try kubectl(["get", "apiservice", name, "-o", "jsonpath={.status.conditions[0].message}"])
        XCTAssertEqual(
            message.stdout, #"endpoints for service/api in "wardle" have no addresses with port name "https""#)
        // A request while unavailable gets upstream's 503.
        let unavailable = try kubectl(["get", "--raw", "/apis/wardle.example.com/v1alpha1/namespaces/wardle/flunders"])
        XCTAssertEqual(
            unavailable.stderr.trimmingCharacters(in: .whitespacesAndNewlines),
            "Error from server (ServiceUnavailable): the server is currently unable to handle the request")

        let endpoints = """
            apiVersion: v1
            kind: Endpoints
            metadata: {name: api, namespace: wardle}
            subsets: [{addresses: [{ip: \(Self.backendAddress)}], ports: [{name: https, port: \(backendPort)}]}]
            """
        XCTAssertEqual(try kubectl(["apply", "-f", "-"], input: endpoints).status, 0)
        try eventually("Available once the backend answers discovery") { try condition(name) == "True Passed" }
        let listed = try kubectl(["get", "apiservices", name]).stdout
        XCTAssertTrue(listed.contains("wardle/api"), listed)

        // Discovery: legacy and aggregated (kubectl api-resources reads the latter).
        try eventually("the group is in discovery") {
            try kubectl(["get", "--raw", "/apis"]).stdout.contains(#""name":"wardle.example.com""#)
        }
        let resources = try kubectl(
            ["api-resources", "--api-group=wardle.example.com", "--no-headers"], as: "wardle-user")
        XCTAssertTrue(resources.stdout.contains("flunders"), resources.stdout + resources.stderr)
        XCTAssertTrue(resources.stdout.contains("wardle.example.com/v1alpha1"), resources.stdout)

        // CRUD through the proxy as a user only the backend's RBAC admits there.
        let flunder =
            "apiVersion: wardle.example.com/v1alpha1\nkind: Flunder\nmetadata: {name: first, namespace: wardle}\nspec: {reference: x}\n"
        let created = try kubectl(["create", "-f", "-"], as: "wardle-user", input: flunder)
        XCTAssertEqual(created.status, 0, created.stderr)
        let got = try kubectl(["get", "flunders", "-n", "wardle"], as: "wardle-user")
        XCTAssertTrue(got.stdout.contains("first"), got.stdout + got.stderr)
        XCTAssertEqual(
            try Self.backend?.kubectl(["get", "flunder", "first", "-n", "wardle", "-o", "jsonpath={.spec.reference}"])
                .stdout, "x")
        // The front allows front-only too, but the backend sees front-only and refuses it.
        let refused = try kubectl(["get", "flunders", "-n", "wardle"], as: "front-only")
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(
            refused.stderr.contains(
                #"User "front-only" cannot list resource "flunders" in API group "wardle.example.com""#),
            refused.stderr)

        // A watch through the proxy receives an event.
        let watch = try startWatch(cluster: cluster)
        defer { watch.process.terminate() }
        let second = flunder.replacingOccurrences(of: "first", with: "second")
        XCTAssertEqual(try kubectl(["create", "-f", "-"], as: "wardle-user", input: second).status, 0)
        try eventually("the watch sees the new flunder") { watch.output().contains("second") }

        XCTAssertEqual(
            try kubectl(["delete", "flunder", "first", "second", "-n", "wardle"], as: "wardle-user").status, 0)
        XCTAssertEqual(try Self.backend?.kubectl(["get", "flunders", "-n", "wardle", "-o", "name"]).stdout, "")

        // Deleting the APIService takes the group out of discovery, and its paths are not found.
        XCTAssertEqual(try kubectl(["delete", "apiservice", name]).status, 0)
        try eventually("the group leaves discovery") {
            !(try kubectl(["get", "--raw", "/apis"]).stdout.contains("wardle.example.com"))
        }
        let gone = try kubectl(["get", "--raw", "/apis/wardle.example.com/v1alpha1/namespaces/wardle/flunders"])
        XCTAssertEqual(
            gone.stderr.trimmingCharacters(in: .whitespacesAndNewlines),
            "Error from server (NotFound): the server could not find the requested resource")
    }

    /// `kubectl get flunders -w` through the front as wardle-user, its output collected as it comes.
    private func startWatch(cluster: TestCluster) throws -> (process: Process, output: () -> String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestCluster.kubectlPath)
        let cache = cluster.directory.appendingPathComponent("cache-watch").path
        process.arguments = [
            "--kubeconfig=\(try cluster.kubeconfig(forUser: "wardle-user"))", "--cache-dir=\(cache)", "get",
            "flunders", "-n", "wardle", "-w", "--output-watch-events", "--no-headers",
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let collected = LockedText()
        pipe.fileHandleForReading.readabilityHandler = { handle in
            collected.append(String(decoding: handle.availableData, as: UTF8.self))
        }
        try process.run()
        // The watch is open once the initial list (first) has been printed.
        try eventually("the watch lists") { collected.value.contains("first") }
        return (process, { collected.value })
    }
}

/// Text appended from a pipe's handler thread and read by the test.
private final class LockedText: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""

    func append(_ more: String) {
        lock.lock()
        text += more
        lock.unlock()
    }

    var value: String {
        lock.lock()
        defer { lock.unlock() }
        return text
    }
}
