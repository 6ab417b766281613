import APIMachinery
import Foundation
import Operations
import TestSupport
import XCTest

@testable import APIServer

/// Admission webhooks through the real binary over TLS, driven by kubectl, against the HTTPS webhook of
/// `AdmissionWebhookTestServer`. Each test labels its own namespace and selects it in its configurations,
/// so tests sharing the server never see each other's webhooks.
final class AdmissionWebhookEndToEndTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.113" }
    /// Pods without a service account, on a bare server.
    override class var extraFlags: [String] { ["--disable-admission-plugins=ServiceAccount"] }
    override class var controllers: [String]? { nil }

    static let webhookAddress = "127.0.0.112"
    nonisolated(unsafe) private static var server: AdmissionWebhookTestServer?

    /// The webhook server, started by the first test that needs it.
    func webhook() async throws -> AdmissionWebhookTestServer {
        if let server = Self.server { return server }
        let server = try await AdmissionWebhookTestServer(address: Self.webhookAddress)
        Self.server = server
        return server
    }

    override class func tearDown() {
        if let server {
            let done = DispatchSemaphore(value: 0)
            Task {
                await server.close()
                done.signal()
            }
            done.wait()
        }
        server = nil
        super.tearDown()
    }

    /// A namespace labelled `webhook-test=<name>`, which the test's configurations select.
    func namespace(_ name: String, labels: [String: String] = [:]) throws {
        let all = labels.merging(["webhook-test": name]) { a, _ in a }
        let text = all.sorted { $0.key < $1.key }.map { "\($0.key): \"\($0.value)\"" }.joined(separator: ", ")
        expectSuccess(
            try cluster.kubectl(
                ["apply", "-f", "-"],
                input: "apiVersion: v1\nkind: Namespace\nmetadata: {name: \(name), labels: {\(text)}}\n"))
    }

    /// One webhook of a configuration, as YAML under `webhooks:`.
    func webhookYAML(
        _ name: String, path: String, port: Int? = nil, resources: String = "[configmaps]",
        operations: String = "[CREATE, UPDATE]", namespace: String, extra: [String] = []
    ) async throws -> String {
        let server = try await webhook()
        let url = "https://\(Self.webhookAddress):\(port ?? server.port)\(path)"
        let lines =
            [
                "- name: \(name)",
                "  clientConfig: {url: \"\(url)\", caBundle: \(server.caBundle)}",
                "  rules: [{operations: \(operations), apiGroups: [\"\"], apiVersions: [v1], resources: \(resources)}]",
                "  namespaceSelector: {matchLabels: {webhook-test: \(namespace)}}",
                "  sideEffects: None",
                "  admissionReviewVersions: [v1]",
            ] + extra.map { "  " + $0 }
        return lines.joined(separator: "\n")
    }

    func configure(_ kind: String, _ name: String, hooks: [String]) throws {
        let text =
            "apiVersion: admissionregistration.k8s.io/v1\nkind: \(kind)\nmetadata: {name: \(name)}\nwebhooks:\n"
            + hooks.joined(separator: "\n") + "\n"
        expectSuccess(try cluster.kubectl(["apply", "-f", "-"], input: text))
    }

    func configMap(_ name: String, namespace: String, labels: String = "{}") -> String {
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \(name), namespace: \(namespace), labels: \(labels)}\ndata: {a: b}\n"
    }

    /// Retries `attempt` until it returns true: a new configuration reaches the server's cache within a watch
    /// event's delivery, so a few tries at most.
    func eventually(_ what: String, _ attempt: (Int) throws -> Bool) throws {
        for index in 0..<100 {
            if try attempt(index) { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTFail("never happened: \(what)")
    }

    func testValidatingWebhookDeniesWithItsMessageAndSeesTheRequest() async throws {
        let hook = try await webhookYAML("deny.example.com", path: "/deny", namespace: "wh-deny")
        try namespace("wh-deny")
        try configure("ValidatingWebhookConfiguration", "wh-deny", hooks: [hook])
        var refused = TestCluster.Output(status: 0, stdout: "", stderr: "")
        try eventually("the deny webhook refuses") { index in
            refused = try cluster.kubectl(
                ["create", "-f", "-"],
                input: configMap("blue-\(index)", namespace: "wh-deny", labels: "{deny: \"true\"}"))
            return refused.status != 0
        }
        XCTAssertEqual(
            refused.stderr.trimmingCharacters(in: .whitespacesAndNewlines),
            #"Error from server (Forbidden): error when creating "STDIN": admission webhook "deny.example.com" denied the request: blue objects are not welcome"#
        )
        // The webhook's warnings reach kubectl as Warning headers; its calls and refusals are on /metrics.
        let green = try cluster.kubectl(["create", "-f", "-"], input: configMap("green", namespace: "wh-deny"))
        XCTAssertEqual(green.status, 0, green.stderr)
        XCTAssertTrue(green.stderr.contains("Warning: deny.example.com looked at green"), green.stderr)
        let metrics = expectSuccess(try cluster.kubectl(["get", "--raw", "/metrics"])).split(separator: "\n")
        XCTAssertTrue(
            metrics.contains {
                $0.hasPrefix("apiserver_admission_webhook_rejection_count") && $0.contains("deny.example.com")
            }, "no rejection counted")
        XCTAssertTrue(
            metrics.contains {
                $0.hasPrefix("apiserver_admission_webhook_admission_duration_seconds_count")
                    && $0.contains("deny.example.com")
            }, "no call timed")
        let server = try await webhook()
        let review = try XCTUnwrap(server.received("/deny").last { $0["name"]?.stringValue == "green" })
        XCTAssertEqual(review["operation"], "CREATE")
        XCTAssertEqual(review["namespace"], "wh-deny")
        XCTAssertEqual(review["kind"], ["group": "", "version": "v1", "kind": "ConfigMap"])
        XCTAssertEqual(review["resource"], ["group": "", "version": "v1", "resource": "configmaps"])
        XCTAssertEqual(review["requestKind"], review["kind"])
        XCTAssertEqual(review["userInfo"]?["username"], "admin")
        XCTAssertEqual(review["object"]?["data"], ["a": "b"])
        XCTAssertEqual(review["oldObject"], .null)
        XCTAssertEqual(review["dryRun"], false)
        XCTAssertEqual(review["options"]?["kind"], "CreateOptions")
        // An update shows the stored object as oldObject; a refused update leaves it stored as it was.
        let update = try cluster.kubectl(["label", "configmap", "green", "-n", "wh-deny", "deny=true"])
        XCTAssertNotEqual(update.status, 0)
        let old = try XCTUnwrap(server.received("/deny").last)
        XCTAssertEqual(old["operation"], "UPDATE")
        XCTAssertEqual(old["oldObject"]?["metadata"]?["name"], "green")
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl("get configmap green -n wh-deny -o jsonpath={.metadata.labels.deny}")), ""
        )
    }

    func testMutatingWebhookAddsALabelByJSONPatch() async throws {
        let hook = try await webhookYAML("label.example.com", path: "/label/mutated", namespace: "wh-label")
        try namespace("wh-label")
        try configure("MutatingWebhookConfiguration", "wh-label", hooks: [hook])
        try eventually("the label webhook patches") { index in
            expectSuccess(
                try cluster.kubectl(["create", "-f", "-"], input: configMap("c\(index)", namespace: "wh-label")))
            let labels = try cluster.kubectl([
                "get", "configmap", "c\(index)", "-n", "wh-label", "-o", "jsonpath={.metadata.labels.mutated}",
            ])
            return labels.stdout == "yes"
        }
    }

    func testFailurePolicyDecidesWhenTheWebhookIsDown() async throws {
        try namespace("wh-down")
        // Port 1 refuses connections. The deny webhook after the ignored one shows the configuration is live.
        let ignored = try await webhookYAML(
            "ignored.example.com", path: "/", port: 1, namespace: "wh-down", extra: ["failurePolicy: Ignore"])
        let deny = try await webhookYAML("deny.example.com", path: "/deny", namespace: "wh-down")
        try configure("ValidatingWebhookConfiguration", "wh-down-ignore", hooks: [ignored, deny])
        try eventually("the configuration is live") { index in
            try cluster.kubectl(
                ["create", "-f", "-"],
                input: configMap("blue-\(index)", namespace: "wh-down", labels: "{deny: \"true\"}")
            ).status != 0
        }
        expectSuccess(try cluster.kubectl(["create", "-f", "-"], input: configMap("through", namespace: "wh-down")))

        try namespace("wh-fail")
        let failing = try await webhookYAML("down.example.com", path: "/", port: 1, namespace: "wh-fail")
        try configure("ValidatingWebhookConfiguration", "wh-fail", hooks: [failing])
        var refused = TestCluster.Output(status: 0, stdout: "", stderr: "")
        try eventually("the failing webhook refuses") { index in
            refused = try cluster.kubectl(["create", "-f", "-"], input: configMap("c\(index)", namespace: "wh-fail"))
            return refused.status != 0
        }
        XCTAssertEqual(
            refused.stderr.trimmingCharacters(in: .whitespacesAndNewlines),
            #"Error from server (InternalError): error when creating "STDIN": Internal error occurred: failed calling webhook "down.example.com": failed to call webhook: Post "https://127.0.0.112:1/?timeout=10s": dial tcp 127.0.0.112:1: connect: connection refused"#
        )
    }

    func testAWebhookThatDoesNotAnswerInTimeFails() async throws {
        try namespace("wh-slow")
        let slow = try await webhookYAML(
            "slow.example.com", path: "/hang", namespace: "wh-slow", extra: ["timeoutSeconds: 1"])
        try configure("ValidatingWebhookConfiguration", "wh-slow", hooks: [slow])
        var refused = TestCluster.Output(status: 0, stdout: "", stderr: "")
        var took = Duration.zero
        try eventually("the slow webhook times out") { index in
            let started = ContinuousClock.now
            refused = try cluster.kubectl(["create", "-f", "-"], input: configMap("c\(index)", namespace: "wh-slow"))
            took = ContinuousClock.now - started
            return refused.status != 0
        }
        let port = try await webhook().port
        XCTAssertTrue(
            refused.stderr.contains(
                #"failed calling webhook "slow.example.com": failed to call webhook: Post "https://127.0.0.112:\#(port)/hang?timeout=1s": context deadline exceeded"#
            ), refused.stderr)
        XCTAssertLessThan(took, .milliseconds(2900), "the call is cut at its timeout, not when the webhook answers")
    }

    func testNamespaceAndObjectSelectorsChooseTheRequests() async throws {
        try namespace("wh-prod", labels: ["env": "prod"])
        try namespace("wh-dev", labels: ["env": "dev"])
        let server = try await webhook()
        let record = [
            "- name: select.example.com",
            "  clientConfig: {url: \"https://\(Self.webhookAddress):\(server.port)/record/select\", caBundle: \(server.caBundle)}",
            "  rules: [{operations: [CREATE], apiGroups: [\"\"], apiVersions: [v1], resources: [configmaps]}]",
            "  namespaceSelector: {matchExpressions: [{key: env, operator: In, values: [prod]}]}",
            "  objectSelector: {matchLabels: {app: web}}",
            "  sideEffects: None",
            "  admissionReviewVersions: [v1]",
        ].joined(separator: "\n")
        try configure("ValidatingWebhookConfiguration", "wh-select", hooks: [record])
        try eventually("the selecting webhook is live") { index in
            expectSuccess(
                try cluster.kubectl(
                    ["create", "-f", "-"],
                    input: configMap("probe-\(index)", namespace: "wh-prod", labels: "{app: web}")))
            return server.received("/record/select").contains { $0["name"]?.stringValue == "probe-\(index)" }
        }
        for (name, namespace, labels) in [
            ("prod-web", "wh-prod", "{app: web}"), ("prod-db", "wh-prod", "{app: db}"),
            ("dev-web", "wh-dev", "{app: web}"),
        ] {
            expectSuccess(
                try cluster.kubectl(
                    ["create", "-f", "-"], input: configMap(name, namespace: namespace, labels: labels)))
        }
        let names = server.received("/record/select").compactMap { $0["name"]?.stringValue }.filter {
            !$0.hasPrefix("probe")
        }
        XCTAssertEqual(names, ["prod-web"])
    }

    func testDryRunReachesWebhooksWithoutSideEffectsAndStoresNothing() async throws {
        try namespace("wh-dry")
        let dry = try await webhookYAML(
            "dry.example.com", path: "/record/dry", namespace: "wh-dry", extra: ["sideEffects: NoneOnDryRun"])
        try configure(
            "ValidatingWebhookConfiguration", "wh-dry",
            hooks: [dry.replacingOccurrences(of: "  sideEffects: None\n", with: "")])
        let server = try await webhook()
        try eventually("the dry-run webhook is live") { index in
            expectSuccess(
                try cluster.kubectl(
                    ["create", "--dry-run=server", "-f", "-"], input: configMap("dry-\(index)", namespace: "wh-dry")))
            return !server.received("/record/dry").isEmpty
        }
        let review = try XCTUnwrap(server.received("/record/dry").last)
        XCTAssertEqual(review["dryRun"], true)
        XCTAssertEqual(review["options"]?["dryRun"], ["All"])
        let stored = try cluster.kubectl("get configmaps -n wh-dry -o name")
        XCTAssertEqual(stored.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "")
    }

    func testMutatingWebhooksRunInOrderAndAreReinvokedIfNeeded() async throws {
        try namespace("wh-order")
        let first = try await webhookYAML(
            "a.example.com", path: "/append/a", namespace: "wh-order", extra: ["reinvocationPolicy: IfNeeded"])
        let second = try await webhookYAML("b.example.com", path: "/append/b", namespace: "wh-order")
        try configure("MutatingWebhookConfiguration", "wh-order", hooks: [first, second])
        var order = ""
        try eventually("the appending webhooks are live") { index in
            expectSuccess(
                try cluster.kubectl(["create", "-f", "-"], input: configMap("c\(index)", namespace: "wh-order")))
            order = try cluster.kubectl(
                ["get", "configmap", "c\(index)", "-n", "wh-order", "-o", "jsonpath={.metadata.annotations.order}"]
            ).stdout
            return !order.isEmpty
        }
        // a, then b changed the object after a, so a (IfNeeded) runs again; b (Never) does not.
        XCTAssertEqual(order, "a,b,a")
    }

    func testAWebhookOnPodStatusSeesStatusUpdatesOnly() async throws {
        try namespace("wh-status")
        let status = try await webhookYAML(
            "status.example.com", path: "/record/status", resources: "[pods/status]", operations: "[UPDATE]",
            namespace: "wh-status")
        try configure("ValidatingWebhookConfiguration", "wh-status", hooks: [status])
        let server = try await webhook()
        expectSuccess(try cluster.kubectl("run web --image=nginx -n wh-status"))
        try eventually("the status webhook is live") { index in
            expectSuccess(
                try cluster.kubectl([
                    "patch", "pod", "web", "-n", "wh-status", "--subresource=status", "--type=merge",
                    "-p", "{\"status\":{\"message\":\"try \(index)\"}}",
                ]))
            return !server.received("/record/status").isEmpty
        }
        expectSuccess(try cluster.kubectl("label pod web -n wh-status touched=yes"))
        let reviews = server.received("/record/status")
        XCTAssertTrue(reviews.allSatisfy { $0["subResource"] == "status" && $0["operation"] == "UPDATE" })
        XCTAssertEqual(reviews.last?["oldObject"]?["metadata"]?["name"], "web")
        XCTAssertEqual(reviews.last?["requestSubResource"], "status")
    }

    func testAServiceWebhookIsReachedThroughItsEndpoints() async throws {
        let server = try await webhook()
        try namespace("wh-service")
        // The webhook's certificate names webhook.test.svc: a Service `webhook` in `test` whose endpoint is
        // the test server (no selector, so the endpoints are ours to write).
        expectSuccess(try cluster.kubectl("create namespace test"))
        let service = """
            apiVersion: v1
            kind: Service
            metadata: {name: webhook, namespace: test}
            spec: {ports: [{name: https, port: 443, targetPort: \(server.port)}]}
            ---
            apiVersion: v1
            kind: Endpoints
            metadata: {name: webhook, namespace: test}
            subsets: [{addresses: [{ip: \(Self.webhookAddress)}], ports: [{name: https, port: \(server.port)}]}]
            """
        expectSuccess(try cluster.kubectl(["create", "-f", "-"], input: service))
        let hook = [
            "- name: service.example.com",
            "  clientConfig: {service: {namespace: test, name: webhook, path: /deny}, caBundle: \(server.caBundle)}",
            "  rules: [{operations: [CREATE], apiGroups: [\"\"], apiVersions: [v1], resources: [configmaps]}]",
            "  namespaceSelector: {matchLabels: {webhook-test: wh-service}}",
            "  sideEffects: None",
            "  admissionReviewVersions: [v1beta1]",
        ].joined(separator: "\n")
        try configure("ValidatingWebhookConfiguration", "wh-service", hooks: [hook])
        var refused = TestCluster.Output(status: 0, stdout: "", stderr: "")
        try eventually("the service webhook refuses") { index in
            refused = try cluster.kubectl(
                ["create", "-f", "-"],
                input: configMap("blue-\(index)", namespace: "wh-service", labels: "{deny: \"true\"}"))
            return refused.status != 0
        }
        XCTAssertTrue(
            refused.stderr.contains(
                #"admission webhook "service.example.com" denied the request: blue objects are not welcome"#),
            refused.stderr)
    }

    func testTheClientSpeaksHTTP2AndHTTP11() async throws {
        let server = try await webhook()
        let body = Array(#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1"}}"#.utf8)
        let target = WebhookTarget(
            host: Self.webhookAddress, port: server.port, path: "/plain?timeout=5s", serverName: nil,
            url: "https://\(Self.webhookAddress):\(server.port)/plain?timeout=5s")
        let ca = Array(server.caPEM.utf8)
        for protocols in [["h2", "http/1.1"], ["http/1.1"]] {
            let client = WebhookClient(applicationProtocols: protocols)
            let answer = try await client.post(target, body: body, caBundle: ca, timeout: .seconds(5))
            XCTAssertEqual(answer.status, 200, "\(protocols)")
            let response = try AdmissionReview.response(answer.body, uid: "u1", version: "v1", mutating: false)
            XCTAssertTrue(response.allowed)
        }
        // Another CA's bundle does not verify the webhook's certificate.
        let stranger = try Operations.CertificateAuthority.create(commonName: "stranger")
        do {
            _ = try await WebhookClient().post(
                target, body: body, caBundle: Array(stranger.certificatePEM.utf8), timeout: .seconds(5))
            XCTFail("a certificate from an unknown CA was accepted")
        } catch {
            XCTAssertTrue(error.message.hasPrefix("Post \"https://127.0.0.112:"), error.message)
        }
    }
}
