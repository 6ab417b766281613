import APIMachinery
import Storage
import XCTest

@testable import APIServer

/// Which webhooks a request reaches (upstream's rules, matchPolicy, scope and selectors), how configurations
/// are read, and how AdmissionReview answers are checked: no server needed.
final class AdmissionWebhookMatchingTests: XCTestCase {
    let matcher = WebhookMatcher()

    func webhook(
        _ rules: [WebhookRule], matchPolicy: Webhook.MatchPolicy = .equivalent,
        namespaceSelector: LabelSelector = .everything, objectSelector: LabelSelector = .everything
    ) -> Webhook {
        Webhook(
            name: "hook.example.com", configurationName: "config", index: 0, endpoint: .url("https://127.0.0.1/"),
            caBundle: nil, rules: rules, failurePolicy: .fail, matchPolicy: matchPolicy,
            namespaceSelector: namespaceSelector, objectSelector: objectSelector, sideEffects: "None",
            timeoutSeconds: 10, reviewVersion: "v1", reinvokeIfNeeded: false, matchConditions: MatchConditions())
    }

    func attributes(
        _ operation: AdmissionAttributes.Operation = .create, group: String = "", version: String = "v1",
        resource: String = "pods", kind: String = "Pod", subresource: String = "", namespace: String? = "default",
        name: String = "web", old: JSON? = nil
    ) -> AdmissionAttributes {
        AdmissionAttributes(
            operation: operation, resource: GroupResource(group: group, resource: resource),
            kind: GroupVersionKind(group: group, version: version, kind: kind), subresource: subresource,
            namespace: namespace, name: name, user: nil, dryRun: false, oldObject: old)
    }

    func rule(
        _ operations: [String] = ["*"], groups: [String] = [""], versions: [String] = ["v1"],
        resources: [String] = ["pods"], scope: String = "*"
    ) -> WebhookRule {
        WebhookRule(
            operations: operations, apiGroups: groups, apiVersions: versions, resources: resources, scope: scope)
    }

    func matches(_ webhook: Webhook, _ attributes: AdmissionAttributes, object: JSON? = nil) async throws -> Bool {
        try await matcher.invocation(of: webhook, for: attributes, object: object) { [:] } != nil
    }

    func testOperationsGroupsAndVersionsMustAllMatch() async throws {
        let pods = attributes()
        let hits = try await matches(webhook([rule(["CREATE"])]), pods)
        XCTAssertTrue(hits)
        let wrongOperation = try await matches(webhook([rule(["UPDATE", "DELETE"])]), pods)
        XCTAssertFalse(wrongOperation)
        let wrongGroup = try await matches(webhook([rule(groups: ["apps"])]), pods)
        XCTAssertFalse(wrongGroup)
        let wildcards = try await matches(
            webhook([rule(groups: ["*"], versions: ["*"], resources: ["*"])]), pods)
        XCTAssertTrue(wildcards)
    }

    func testSubresourcePatterns() {
        func match(_ patterns: [String], _ resource: String, _ subresource: String) -> Bool {
            WebhookMatcher.resourceMatches(patterns, resource: resource, subresource: subresource)
        }
        XCTAssertTrue(match(["pods"], "pods", ""))
        XCTAssertFalse(match(["pods"], "pods", "status"), "a resource rule leaves its subresources out")
        XCTAssertTrue(match(["pods/status"], "pods", "status"))
        XCTAssertFalse(match(["pods/status"], "pods", ""))
        XCTAssertTrue(match(["*/status"], "deployments", "status"))
        XCTAssertFalse(match(["*/status"], "deployments", "scale"))
        XCTAssertTrue(match(["pods/*"], "pods", "binding"))
        XCTAssertTrue(match(["pods/*"], "pods", ""))
        XCTAssertFalse(match(["*"], "pods", "status"))
        XCTAssertTrue(match(["*/*"], "pods", "status"))
    }

    func testScopeTreatsNamespacesAsClusterScoped() {
        let namespaced = attributes()
        let node = attributes(resource: "nodes", kind: "Node", namespace: nil)
        let namespace = attributes(resource: "namespaces", kind: "Namespace", namespace: nil, name: "team")
        XCTAssertTrue(WebhookMatcher.scopeMatches("Namespaced", namespaced))
        XCTAssertFalse(WebhookMatcher.scopeMatches("Cluster", namespaced))
        XCTAssertTrue(WebhookMatcher.scopeMatches("Cluster", node))
        XCTAssertTrue(WebhookMatcher.scopeMatches("Cluster", namespace))
        XCTAssertFalse(WebhookMatcher.scopeMatches("Namespaced", namespace))
        XCTAssertTrue(WebhookMatcher.scopeMatches("*", node))
    }

    func testEquivalentMatchesAnotherServedVersionOfTheSameStoredResource() throws {
        // An autoscaling/v1 write, a rule for autoscaling/v2 only.
        let v1 = attributes(
            group: "autoscaling", version: "v1", resource: "horizontalpodautoscalers", kind: "HorizontalPodAutoscaler")
        let v2Rule = rule(groups: ["autoscaling"], versions: ["v2"], resources: ["horizontalpodautoscalers"])
        let invocation = try XCTUnwrap(matcher.ruleInvocation(of: webhook([v2Rule]), for: v1))
        XCTAssertEqual(
            invocation.kind, GroupVersionKind(group: "autoscaling", version: "v2", kind: "HorizontalPodAutoscaler"))
        XCTAssertEqual(invocation.resource.version, "v2")
        XCTAssertNil(matcher.ruleInvocation(of: webhook([v2Rule], matchPolicy: .exact), for: v1))
        // core/v1 Events and events.k8s.io/v1 Events are one stored resource in two groups.
        let coreEvent = attributes(resource: "events", kind: "Event")
        let groupRule = rule(groups: ["events.k8s.io"], resources: ["events"])
        let event = try XCTUnwrap(matcher.ruleInvocation(of: webhook([groupRule]), for: coreEvent))
        XCTAssertEqual(event.kind.group, "events.k8s.io")
        XCTAssertNotNil(event.conversion, "the webhook sees the event in the events.k8s.io shape")
        // The request's own version wins when both match.
        let both = webhook([rule(groups: ["", "events.k8s.io"], resources: ["events"])])
        XCTAssertEqual(matcher.ruleInvocation(of: both, for: coreEvent)?.kind.group, "")
    }

    func testTheReviewShowsTheObjectInTheMatchedVersion() throws {
        let coreEvent = attributes(.update, resource: "events", kind: "Event", name: "e1", old: ["apiVersion": "v1"])
        let invocation = try XCTUnwrap(
            matcher.ruleInvocation(
                of: webhook([rule(groups: ["events.k8s.io"], resources: ["events"])]), for: coreEvent))
        let stored: JSON = [
            "apiVersion": "v1", "kind": "Event", "metadata": ["name": "e1", "namespace": "default"], "message": "hi",
        ]
        let review = AdmissionReview.request(uid: "u1", invocation: invocation, attributes: coreEvent, object: stored)
        let request = try XCTUnwrap(review["request"])
        XCTAssertEqual(review["apiVersion"], "admission.k8s.io/v1")
        XCTAssertEqual(request["kind"], ["group": "events.k8s.io", "version": "v1", "kind": "Event"])
        XCTAssertEqual(request["requestKind"], ["group": "", "version": "v1", "kind": "Event"])
        XCTAssertEqual(request["resource"]?["group"], "events.k8s.io")
        XCTAssertEqual(request["requestResource"]?["group"], "")
        XCTAssertEqual(request["object"]?["apiVersion"], "events.k8s.io/v1")
        XCTAssertEqual(request["object"]?["note"], "hi", "core's message is events.k8s.io's note")
        XCTAssertEqual(request["operation"], "UPDATE")
        XCTAssertEqual(request["options"]?["kind"], "UpdateOptions")
    }

    func testObjectSelectorMatchesTheNewOrTheOldObject() async throws {
        let selector = try LabelSelector(parsing: "team=blue")
        let hook = webhook([rule(["*"])], objectSelector: selector)
        let blue: JSON = ["metadata": ["name": "web", "labels": ["team": "blue"]]]
        let red: JSON = ["metadata": ["name": "web", "labels": ["team": "red"]]]
        let createBlue = try await matches(hook, attributes(), object: blue)
        XCTAssertTrue(createBlue)
        let createRed = try await matches(hook, attributes(), object: red)
        XCTAssertFalse(createRed)
        let relabel = try await matches(hook, attributes(.update, old: blue), object: red)
        XCTAssertTrue(relabel, "an update leaving the selector still reaches the webhook")
        let deleteBlue = try await matches(hook, attributes(.delete, old: blue), object: nil)
        XCTAssertTrue(deleteBlue)
    }

    func testNamespaceSelectorAsksForLabelsOnlyWhereItApplies() async throws {
        let hook = webhook(
            [rule(groups: ["*"], versions: ["*"], resources: ["*"])],
            namespaceSelector: try LabelSelector(parsing: "env=prod"))
        var asked = 0
        let prod = try await matcher.invocation(of: hook, for: attributes(), object: nil) {
            asked += 1
            return ["env": "prod"]
        }
        XCTAssertNotNil(prod)
        let dev = try await matcher.invocation(of: hook, for: attributes(), object: nil) {
            asked += 1
            return ["env": "dev"]
        }
        XCTAssertNil(dev)
        let node = try await matcher.invocation(
            of: hook, for: attributes(resource: "nodes", kind: "Node", namespace: nil), object: nil
        ) {
            asked += 1
            return [:]
        }
        XCTAssertNotNil(node, "cluster-scoped objects other than namespaces are never exempted")
        XCTAssertEqual(asked, 2)
    }

    func testAdmissionConfigurationKindsAreExempt() async throws {
        let hook = webhook([rule(groups: ["*"], versions: ["*"], resources: ["*"])])
        let config = attributes(
            group: "admissionregistration.k8s.io", resource: "validatingwebhookconfigurations",
            kind: "ValidatingWebhookConfiguration", namespace: nil)
        let exempt = try await matches(hook, config)
        XCTAssertFalse(exempt)
    }

    func testConfigurationsAreReadWithTheirDefaultsAndReviewVersion() throws {
        let configuration = try JSON.parse(
            #"""
            {"metadata":{"name":"policy"},"webhooks":[
              {"name":"a.example.com","clientConfig":{"service":{"namespace":"ns","name":"svc","port":8443}},
               "admissionReviewVersions":["v2","v1beta1","v1"],"sideEffects":"NoneOnDryRun","timeoutSeconds":5,
               "rules":[{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["pods"]}],
               "reinvocationPolicy":"IfNeeded","objectSelector":{"matchLabels":{"x":"y"}}},
              {"name":"b.example.com","clientConfig":{"url":"https://127.0.0.1:1/"},
               "admissionReviewVersions":["v1"],"sideEffects":"Some","failurePolicy":"Ignore","matchPolicy":"Exact"}]}
            """#)
        let webhooks = Webhook.parse(configuration: configuration)
        XCTAssertEqual(webhooks.map(\.name), ["a.example.com", "b.example.com"])
        XCTAssertEqual(webhooks[0].endpoint, .service(namespace: "ns", name: "svc", port: 8443, path: ""))
        XCTAssertEqual(webhooks[0].reviewVersion, "v1beta1", "the first version this server speaks")
        XCTAssertEqual(webhooks[0].timeoutSeconds, 5)
        XCTAssertTrue(webhooks[0].reinvokeIfNeeded)
        XCTAssertTrue(webhooks[0].allowsDryRun)
        XCTAssertEqual(webhooks[0].objectSelector, try LabelSelector(parsing: "x=y"))
        XCTAssertEqual(webhooks[1].failurePolicy, .ignore)
        XCTAssertEqual(webhooks[1].matchPolicy, .exact)
        XCTAssertFalse(webhooks[1].allowsDryRun)
        XCTAssertEqual(webhooks[1].index, 1)
    }

    func testResponsesAreCheckedAsUpstreamChecksThem() throws {
        func review(_ response: String, apiVersion: String = "admission.k8s.io/v1") -> [UInt8] {
            Array(#"{"apiVersion":"\#(apiVersion)","kind":"AdmissionReview","response":\#(response)}"#.utf8)
        }
        XCTAssertThrowsError(
            try AdmissionReview.response(
                review(#"{"uid":"other","allowed":true}"#), uid: "u1", version: "v1", mutating: false)
        ) { error in
            XCTAssertEqual(
                (error as? WebhookCallFailure)?.message,
                #"received invalid webhook response: expected response.uid="u1", got "other""#)
        }
        XCTAssertThrowsError(
            try AdmissionReview.response(
                review(#"{"uid":"u1","allowed":true,"patch":"W10="}"#), uid: "u1", version: "v1", mutating: true)
        ) { error in
            XCTAssertEqual(
                (error as? WebhookCallFailure)?.message,
                "received invalid webhook response: webhook returned response.patch but not response.patchType")
        }
        let lenient = try AdmissionReview.response(
            review(#"{"allowed":true}"#, apiVersion: "admission.k8s.io/v1beta1"), uid: "u1", version: "v1beta1",
            mutating: false)
        XCTAssertTrue(lenient.allowed, "v1beta1 answers need not echo the uid")
        let patched = try AdmissionReview.response(
            review(
                #"{"uid":"u1","allowed":true,"patchType":"JSONPatch","patch":"W3sib3AiOiJhZGQiLCJwYXRoIjoiL2EiLCJ2YWx1ZSI6MX1d","warnings":["careful"]}"#
            ), uid: "u1", version: "v1", mutating: true)
        XCTAssertEqual(patched.patch, [["op": "add", "path": "/a", "value": 1]])
        XCTAssertEqual(patched.warnings, ["careful"])
    }

    func testDenialsCarryTheWebhooksStatus() {
        let denial = AdmissionReview.denial(
            webhook: "deny.example.com", status: ["code": 403, "reason": "Forbidden", "message": "no blue pods"])
        XCTAssertEqual(denial.code, 403)
        XCTAssertEqual(denial.reason, .forbidden)
        XCTAssertEqual(denial.message, #"admission webhook "deny.example.com" denied the request: no blue pods"#)
        let bare = AdmissionReview.denial(webhook: "deny.example.com", status: nil)
        XCTAssertEqual(bare.code, 400)
        XCTAssertEqual(bare.message, #"admission webhook "deny.example.com" denied the request without explanation"#)
    }

    func testDryRunsRefuseWebhooksThatMayHaveSideEffects() async throws {
        let storage = MemoryStore()
        let range = try XCTUnwrap(IPv4Range(cidr: "10.0.0.0/24"))
        let context = RegistryContext(
            storage: storage, storagePrefix: "/registry",
            serviceIPs: ServiceIPAllocator(range: range, storage: storage, storagePrefix: "/registry"),
            nodePorts: NodePortAllocator(range: 30000...32767, storage: storage, storagePrefix: "/registry"))
        var hook = webhook([rule()])
        hook.sideEffects = "Some"
        var dryRun = attributes()
        dryRun.dryRun = true
        let invocation = try XCTUnwrap(matcher.ruleInvocation(of: hook, for: dryRun))
        do {
            _ = try await WebhookDispatcher(mutating: false).call(
                invocation, attributes: dryRun, object: nil, context: context, annotationKey: "test")
            XCTFail("a dry run reached a webhook with side effects")
        } catch let error as APIError {
            XCTAssertEqual(error.code, 400)
            XCTAssertEqual(error.message, #"admission webhook "hook.example.com" does not support dry run"#)
        }
    }
}
