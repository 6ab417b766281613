import APIMachinery
import Foundation
import Operations
import TestSupport
import XCTest

@testable import APIServer

/// ValidatingAdmissionPolicy and webhooks' matchConditions through the real binary over TLS, driven by kubectl,
/// with upstream's documented examples. Each test binds its policies to its own labelled namespace, so tests
/// sharing the server never see each other's policies.
final class ValidatingAdmissionPolicyEndToEndTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.145" }
    /// Audit at Metadata level for every request, to read the policies' audit annotations.
    override class var extraFlags: [String] {
        ["--disable-admission-plugins=ServiceAccount", "--audit-log-path=@audit.log"]
    }
    override class var controllers: [String]? { nil }

    nonisolated(unsafe) private static var server: AdmissionWebhookTestServer?

    /// The test webhook, on the cluster's own address (another port), started by the test that needs it.
    func webhook() async throws -> AdmissionWebhookTestServer {
        if let server = Self.server { return server }
        let server = try await AdmissionWebhookTestServer(address: Self.clusterAddress)
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

    func apply(_ yaml: String) throws {
        expectSuccess(try cluster.kubectl(["apply", "-f", "-"], input: yaml))
    }

    /// A namespace labelled `vap-test=<name>` (plus `labels`), which the test's bindings select.
    func namespace(_ name: String, labels: String = "") throws {
        try apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: \(name), labels: {vap-test: \(name)\(labels)}}\n")
    }

    func deployment(_ name: String, namespace: String, replicas: Int) -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: \(name), namespace: \(namespace)}
        spec:
          replicas: \(replicas)
          selector: {matchLabels: {app: \(name)}}
          template:
            metadata: {labels: {app: \(name)}}
            spec: {containers: [{name: nginx, image: nginx}]}

        """
    }

    /// A policy on Deployments with `spec` lines appended under its spec.
    func policy(_ name: String, _ spec: [String]) -> String {
        """
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingAdmissionPolicy
        metadata: {name: \(name)}
        spec:
          matchConstraints:
            resourceRules:
            - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}

        """ + spec.map { "  " + $0 + "\n" }.joined()
    }

    func binding(_ name: String, policy: String, namespace: String, actions: String = "[Deny]", extra: [String] = [])
        -> String
    {
        """
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingAdmissionPolicyBinding
        metadata: {name: \(name)}
        spec:
          policyName: \(policy)
          validationActions: \(actions)
          matchResources: {namespaceSelector: {matchLabels: {vap-test: \(namespace)}}}

        """ + extra.map { "  " + $0 + "\n" }.joined()
    }

    /// Retries `attempt` until it returns true: new policies reach the plugin's caches within a watch event's
    /// delivery, so a few tries at most.
    func eventually(_ what: String, _ attempt: (Int) throws -> Bool) throws {
        for index in 0..<100 {
            if try attempt(index) { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTFail("never happened: \(what)")
    }

    /// Creates deployments of `replicas` named `<prefix>-<n>` until one is refused, and returns kubectl's output.
    func firstRefusal(_ prefix: String, namespace: String, replicas: Int) throws -> TestCluster.Output {
        var refused = TestCluster.Output(status: 0, stdout: "", stderr: "")
        try eventually("the policy refuses") { index in
            refused = try cluster.kubectl(
                ["create", "-f", "-"], input: deployment("\(prefix)-\(index)", namespace: namespace, replicas: replicas)
            )
            return refused.status != 0
        }
        return refused
    }

    func testReplicaLimitDeniesWithUpstreamsMessageWhereTheNamespaceSelectorBinds() throws {
        try namespace("vap-demo", labels: ", environment: test")
        try namespace("vap-demo-prod", labels: ", environment: prod")
        try apply(
            policy(
                "demo-policy.example.com",
                ["failurePolicy: Fail", "validations:", "- expression: \"object.spec.replicas <= 5\""]))
        try apply(
            """
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicyBinding
            metadata: {name: demo-binding-test.example.com}
            spec:
              policyName: demo-policy.example.com
              validationActions: [Deny]
              matchResources: {namespaceSelector: {matchLabels: {environment: test}}}

            """)
        let refused = try firstRefusal("nginx", namespace: "vap-demo", replicas: 6)
        let name = try XCTUnwrap(refused.stderr.firstMatch(of: /"(nginx-\d+)"/)?.1)
        XCTAssertEqual(
            refused.stderr.trimmingCharacters(in: .whitespacesAndNewlines),
            "The deployments \"\(name)\" is invalid: : ValidatingAdmissionPolicy 'demo-policy.example.com' with binding 'demo-binding-test.example.com' denied request: failed expression: object.spec.replicas <= 5"
        )
        // kubectl's own generator shows the Forbidden-shaped message upstream's tutorial prints.
        let generated = try cluster.kubectl("create deploy nginx -n vap-demo --image=nginx --replicas=6")
        XCTAssertEqual(
            generated.stderr.trimmingCharacters(in: .whitespacesAndNewlines),
            "error: failed to create deployment: deployments.apps \"nginx\" is forbidden: ValidatingAdmissionPolicy 'demo-policy.example.com' with binding 'demo-binding-test.example.com' denied request: failed expression: object.spec.replicas <= 5"
        )
        // Within the limit, or in a namespace the binding does not select, the same deployment is admitted.
        expectSuccess(
            try cluster.kubectl(["create", "-f", "-"], input: deployment("small", namespace: "vap-demo", replicas: 5)))
        expectSuccess(
            try cluster.kubectl(
                ["create", "-f", "-"], input: deployment("big", namespace: "vap-demo-prod", replicas: 6)))
        // The status shows the generation the plugin works from.
        XCTAssertEqual(
            expectSuccess(
                try cluster.kubectl(
                    "get validatingadmissionpolicy demo-policy.example.com -o jsonpath={.status.observedGeneration}")),
            "1")
    }

    func testWarnActionAdmitsAndWarnsAndAuditRecordsTheFailure() throws {
        try namespace("vap-warn")
        try apply(
            policy(
                "warn-policy",
                [
                    "validations:", "- {expression: \"object.spec.replicas <= 2\", message: too many replicas}",
                    "auditAnnotations:", "- {key: replicas, valueExpression: \"string(object.spec.replicas)\"}",
                ]))
        try apply(binding("warn-binding", policy: "warn-policy", namespace: "vap-warn", actions: "[Warn, Audit]"))
        var output = TestCluster.Output(status: 0, stdout: "", stderr: "")
        var created = ""
        try eventually("the policy warns") { index in
            created = "w-\(index)"
            output = try cluster.kubectl(
                ["create", "-f", "-"], input: deployment(created, namespace: "vap-warn", replicas: 3))
            XCTAssertEqual(output.status, 0, output.stderr)
            return output.stderr.contains("Warning:")
        }
        XCTAssertTrue(
            output.stderr.contains(
                "Warning: Validation failed for ValidatingAdmissionPolicy 'warn-policy' with binding 'warn-binding': too many replicas"
            ), output.stderr)
        // The create's audit event carries the failure and the policy's own annotation.
        let log = try cluster.directory.appendingPathComponent("audit.log")
        var annotations: JSON?
        try eventually("the audit event is written") { _ in
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            annotations =
                text.split(separator: "\n").compactMap { try? JSON.parse(Array($0.utf8)) }.first {
                    $0["objectRef"]?["name"]?.stringValue == created && $0["verb"] == "create"
                        && $0["stage"] == "ResponseComplete"
                }?["annotations"]
            return annotations != nil
        }
        XCTAssertEqual(annotations?["warn-policy/replicas"], "3")
        let failure = try JSON.parse(
            Array((annotations?["validation.policy.admission.k8s.io/validation_failure"]?.stringValue ?? "").utf8))
        XCTAssertEqual(
            failure,
            [
                [
                    "message": "too many replicas", "policy": "warn-policy", "binding": "warn-binding",
                    "expressionIndex": 0, "validationActions": ["Warn", "Audit"],
                ]
            ])
    }

    func testAConfigMapParamSuppliesTheLimit() throws {
        try namespace("vap-params")
        try apply(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: limits, namespace: vap-params}\ndata: {maxReplicas: \"3\"}\n"
        )
        try apply(
            policy(
                "param-policy",
                [
                    "paramKind: {apiVersion: v1, kind: ConfigMap}",
                    "variables:",
                    "- {name: limit, expression: \"int(params.data.maxReplicas)\"}",
                    "validations:",
                    "- expression: \"object.spec.replicas <= variables.limit\"",
                    "  messageExpression: \"'replicas must be at most ' + string(variables.limit)\"",
                    "  reason: Forbidden",
                ]))
        try apply(
            binding(
                "param-binding", policy: "param-policy", namespace: "vap-params",
                extra: ["paramRef: {name: limits, namespace: vap-params, parameterNotFoundAction: Deny}"]))
        let refused = try firstRefusal("p", namespace: "vap-params", replicas: 4)
        XCTAssertTrue(
            refused.stderr.hasSuffix(
                "is forbidden: ValidatingAdmissionPolicy 'param-policy' with binding 'param-binding' denied request: replicas must be at most 3\n"
            ), refused.stderr)
        XCTAssertTrue(refused.stderr.hasPrefix("Error from server (Forbidden)"), refused.stderr)
        expectSuccess(
            try cluster.kubectl(["create", "-f", "-"], input: deployment("ok", namespace: "vap-params", replicas: 3)))
    }

    func testMatchConditionsExcludeAUser() throws {
        try namespace("vap-users")
        try apply(
            policy(
                "users-policy",
                [
                    "matchConditions:",
                    "- {name: not-breakglass, expression: \"request.userInfo.username != 'breakglass'\"}",
                    "validations:", "- {expression: \"false\", message: no deployments here}",
                ]))
        try apply(binding("users-binding", policy: "users-policy", namespace: "vap-users"))
        let refused = try firstRefusal("u", namespace: "vap-users", replicas: 1)
        XCTAssertTrue(refused.stderr.contains("denied request: no deployments here"), refused.stderr)
        expectSuccess(
            try cluster.kubectl(
                ["create", "-f", "-", "--as=breakglass", "--as-group=system:masters"],
                input: deployment("glass", namespace: "vap-users", replicas: 1)))
    }

    func testAMissingParamFollowsTheFailurePolicy() throws {
        try namespace("vap-missing")
        let spec = [
            "paramKind: {apiVersion: v1, kind: ConfigMap}", "validations:", "- expression: \"params != null\"",
        ]
        try apply(policy("missing-fail", ["failurePolicy: Fail"] + spec))
        try apply(policy("missing-ignore", ["failurePolicy: Ignore"] + spec))
        let reference = "paramRef: {name: absent, parameterNotFoundAction: Deny}"
        try apply(binding("missing-ignore", policy: "missing-ignore", namespace: "vap-missing", extra: [reference]))
        try apply(binding("missing-fail", policy: "missing-fail", namespace: "vap-missing", extra: [reference]))
        let refused = try firstRefusal("f", namespace: "vap-missing", replicas: 1)
        XCTAssertTrue(
            refused.stderr.contains(
                "ValidatingAdmissionPolicy 'missing-fail' with binding 'missing-fail' denied request: failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction"
            ), refused.stderr)
        // The Ignore binding, seen before the Fail one, stays; once the Fail binding is gone the write goes through.
        expectSuccess(try cluster.kubectl("delete validatingadmissionpolicybinding missing-fail"))
        try eventually("the Ignore policy admits") { index in
            try cluster.kubectl(
                ["create", "-f", "-"], input: deployment("i-\(index)", namespace: "vap-missing", replicas: 1)
            ).status == 0
        }
    }

    func testAWebhookWhoseMatchConditionIsFalseIsNotCalled() async throws {
        let server = try await webhook()
        try namespace("vap-webhook")
        try apply(
            """
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingWebhookConfiguration
            metadata: {name: vap-webhook}
            webhooks:
            - name: count.example.com
              clientConfig: {url: "https://\(Self.clusterAddress):\(server.port)/count", caBundle: \(server.caBundle)}
              rules: [{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [configmaps]}]
              namespaceSelector: {matchLabels: {vap-test: vap-webhook}}
              sideEffects: None
              admissionReviewVersions: [v1]
              matchConditions:
              - {name: labelled, expression: "has(object.metadata.labels) && 'call' in object.metadata.labels"}

            """)
        func configMap(_ name: String, labels: String) -> String {
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \(name), namespace: vap-webhook, labels: \(labels)}\n"
        }
        try eventually("the webhook is called") { index in
            expectSuccess(
                try cluster.kubectl(
                    ["create", "-f", "-"], input: configMap("called-\(index)", labels: "{call: \"yes\"}")))
            return !server.received("/count").isEmpty
        }
        expectSuccess(try cluster.kubectl(["create", "-f", "-"], input: configMap("quiet", labels: "{other: x}")))
        expectSuccess(try cluster.kubectl(["create", "-f", "-"], input: configMap("loud", labels: "{call: \"yes\"}")))
        let names = server.received("/count").compactMap { $0["name"]?.stringValue }
        XCTAssertTrue(names.contains("loud"), "\(names)")
        XCTAssertFalse(names.contains("quiet"), "\(names)")
    }
}
