import APIMachinery
import TestSupport
import XCTest

@testable import APIServer

/// audit.k8s.io/v1 Policy parsing, validation and rule evaluation, against upstream's checker semantics.
final class AuditPolicyTests: XCTestCase {
    static let alice = UserInfo(name: "alice", groups: ["developers", "system:authenticated"])
    static let kubelet = UserInfo(name: "system:node:n1", groups: ["system:nodes", "system:authenticated"])

    static func resource(
        _ verb: String, _ resource: String, group: String = "", namespace: String = "", name: String = "",
        subresource: String = "", user: UserInfo? = alice
    ) -> AuditAttributes {
        AuditAttributes(
            user: user, verb: verb, isResourceRequest: true, apiGroup: group, resource: resource,
            subresource: subresource, namespace: namespace, name: name, path: "/api/v1/\(resource)")
    }

    static func nonResource(_ path: String, verb: String = "get", user: UserInfo? = alice) -> AuditAttributes {
        AuditAttributes(user: user, verb: verb, isResourceRequest: false, path: path)
    }

    /// The policy from upstream's audit documentation, abridged, in YAML as operators write it.
    static let documentedPolicy = """
        apiVersion: audit.k8s.io/v1
        kind: Policy
        omitStages:
          - "RequestReceived"
        rules:
          - level: RequestResponse
            resources:
            - group: ""
              resources: ["pods"]
          - level: Metadata
            resources:
            - group: ""
              resources: ["pods/log", "pods/status"]
          - level: None
            resources:
            - group: ""
              resources: ["configmaps"]
              resourceNames: ["controller-leader"]
          - level: None
            users: ["system:kube-proxy"]
            verbs: ["watch"]
            resources:
            - group: ""
              resources: ["endpoints", "services"]
          - level: None
            userGroups: ["system:authenticated"]
            nonResourceURLs:
            - "/api*"
            - "/version"
          - level: Request
            resources:
            - group: ""
              resources: ["configmaps"]
            namespaces: ["kube-system"]
          - level: Metadata
            resources:
            - group: ""
              resources: ["secrets", "configmaps"]
          - level: Request
            resources:
            - group: ""
            - group: "extensions"
          - level: Metadata
            omitStages:
              - "RequestReceived"
        """

    func testDocumentedPolicyEvaluatesAsUpstream() throws {
        let policy = try AuditPolicy.parse(Array(Self.documentedPolicy.utf8))
        let proxy = UserInfo(name: "system:kube-proxy", groups: ["system:authenticated"])
        let cases: [(String, AuditAttributes, AuditLevel)] = [
            (
                "pods at RequestResponse", Self.resource("get", "pods", namespace: "default", name: "p"),
                .requestResponse
            ),
            ("pods/log is not pods", Self.resource("get", "pods", namespace: "a", subresource: "log"), .metadata),
            ("pods/exec matches no pods rule", Self.resource("create", "pods", subresource: "exec"), .request),
            ("leader configmap by name", Self.resource("update", "configmaps", name: "controller-leader"), .none),
            ("other configmap in kube-system", Self.resource("get", "configmaps", namespace: "kube-system"), .request),
            ("configmap elsewhere", Self.resource("get", "configmaps", namespace: "default"), .metadata),
            ("kube-proxy watching endpoints", Self.resource("watch", "endpoints", user: proxy), .none),
            ("kube-proxy listing endpoints", Self.resource("list", "endpoints", user: proxy), .request),
            ("secrets", Self.resource("get", "secrets", namespace: "default"), .metadata),
            ("extensions group", Self.resource("list", "ingresses", group: "extensions"), .request),
            ("apps group falls through", Self.resource("list", "deployments", group: "apps"), .metadata),
            ("/api prefix", Self.nonResource("/apis/apps/v1"), .none),
            ("/version exact", Self.nonResource("/version"), .none),
            ("/versionz is not /version", Self.nonResource("/versionz"), .metadata),
            ("unauthenticated /api", Self.nonResource("/api", user: .anonymous), .metadata),
        ]
        for (label, attributes, level) in cases {
            XCTAssertEqual(policy.evaluate(attributes).level, level, label)
        }
        XCTAssertEqual(policy.evaluate(Self.resource("get", "pods")).omitStages, [.requestReceived])
    }

    func testRuleMatchingTable() throws {
        typealias Rule = AuditPolicy.Rule
        func rule(_ configure: (inout Rule) -> Void) -> Rule {
            var rule = Rule(level: .metadata)
            configure(&rule)
            return rule
        }
        let cases: [(String, Rule, AuditAttributes, Bool)] = [
            ("empty rule matches everything", rule { _ in }, Self.nonResource("/healthz"), true),
            ("user", rule { $0.users = ["alice"] }, Self.resource("get", "pods"), true),
            ("other user", rule { $0.users = ["bob"] }, Self.resource("get", "pods"), false),
            (
                "no user never matches users", rule { $0.users = ["alice"] }, Self.resource("get", "pods", user: nil),
                false
            ),
            ("any group", rule { $0.userGroups = ["x", "developers"] }, Self.resource("get", "pods"), true),
            ("no group", rule { $0.userGroups = ["system:nodes"] }, Self.resource("get", "pods"), false),
            ("verb", rule { $0.verbs = ["get", "list"] }, Self.resource("list", "pods"), true),
            ("other verb", rule { $0.verbs = ["get"] }, Self.resource("delete", "pods"), false),
            (
                "namespaced rule and cluster-scoped request", rule { $0.namespaces = ["default"] },
                Self.resource("get", "nodes"), false
            ),
            ("\"\" namespace is cluster scope", rule { $0.namespaces = [""] }, Self.resource("get", "nodes"), true),
            (
                "namespaces never match non-resource", rule { $0.namespaces = [""] }, Self.nonResource("/healthz"),
                false
            ),
            (
                "group with no resources matches the whole group",
                rule { $0.resources = [.init(group: "apps")] }, Self.resource("get", "deployments", group: "apps"),
                true
            ),
            (
                "wrong group", rule { $0.resources = [.init(group: "apps", resources: ["*"])] },
                Self.resource("get", "pods"), false
            ),
            (
                "* matches subresources too", rule { $0.resources = [.init(resources: ["*"])] },
                Self.resource("get", "pods", subresource: "log"), true
            ),
            (
                "*/status in another group", rule { $0.resources = [.init(resources: ["*/status"])] },
                Self.resource("update", "deployments", group: "apps", subresource: "status"), false
            ),
            (
                "*/status in core", rule { $0.resources = [.init(resources: ["*/status"])] },
                Self.resource("update", "nodes", subresource: "status"), true
            ),
            (
                "*/status is not the object", rule { $0.resources = [.init(resources: ["*/status"])] },
                Self.resource("update", "nodes"), false
            ),
            (
                "pods/* matches subresources", rule { $0.resources = [.init(resources: ["pods/*"])] },
                Self.resource("create", "pods", subresource: "exec"), true
            ),
            (
                "pods/* matches the object as well", rule { $0.resources = [.init(resources: ["pods/*"])] },
                Self.resource("get", "pods"), true
            ),
            (
                "resourceNames", rule { $0.resources = [.init(resources: ["secrets"], resourceNames: ["a", "b"])] },
                Self.resource("get", "secrets", name: "b"), true
            ),
            (
                "other resourceName",
                rule { $0.resources = [.init(resources: ["secrets"], resourceNames: ["a"])] },
                Self.resource("get", "secrets", name: "c"), false
            ),
            (
                "resource rule and non-resource request", rule { $0.resources = [.init(resources: ["*"])] },
                Self.nonResource("/api"), false
            ),
            ("nonResourceURLs *", rule { $0.nonResourceURLs = ["*"] }, Self.nonResource("/metrics"), true),
            (
                "nonResourceURLs prefix", rule { $0.nonResourceURLs = ["/healthz*"] },
                Self.nonResource("/healthz/etcd"), true
            ),
            ("nonResourceURLs exact", rule { $0.nonResourceURLs = ["/livez"] }, Self.nonResource("/livez/x"), false),
            (
                "nonResourceURLs never match resources", rule { $0.nonResourceURLs = ["*"] },
                Self.resource("get", "pods"), false
            ),
        ]
        for (label, rule, attributes, expected) in cases {
            let policy = AuditPolicy(rules: [rule])
            XCTAssertEqual(policy.evaluate(attributes).level, expected ? .metadata : .none, label)
        }
    }

    func testFirstMatchingRuleWinsAndStagesAndManagedFieldsCombine() {
        var first = AuditPolicy.Rule(level: .request)
        first.verbs = ["create"]
        first.omitStages = [.responseStarted]
        first.omitManagedFields = false
        var second = AuditPolicy.Rule(level: .requestResponse)
        second.omitStages = []
        let policy = AuditPolicy(rules: [first, second], omitStages: [.requestReceived], omitManagedFields: true)
        let create = policy.evaluate(Self.resource("create", "pods"))
        XCTAssertEqual(create.level, .request)
        XCTAssertEqual(create.omitStages, [.requestReceived, .responseStarted])
        XCTAssertFalse(create.omitManagedFields)
        let get = policy.evaluate(Self.resource("get", "pods"))
        XCTAssertEqual(get.level, .requestResponse)
        XCTAssertEqual(get.omitStages, [.requestReceived])
        XCTAssertTrue(get.omitManagedFields, "a rule without omitManagedFields inherits the policy's")
        let none = AuditPolicy(rules: [first], omitStages: [.panic]).evaluate(Self.nonResource("/x"))
        XCTAssertEqual(none, AuditRequestConfig(level: .none, omitStages: [.panic], omitManagedFields: false))
    }

    func testJSONPolicyParses() throws {
        let json = """
            {"apiVersion":"audit.k8s.io/v1","kind":"Policy","omitManagedFields":true,
             "rules":[{"level":"Request","verbs":["create"],"resources":[{"group":"apps","resources":["deployments"]}]},
                      {"level":"None"}]}
            """
        let policy = try AuditPolicy.parse(Array(json.utf8))
        XCTAssertTrue(policy.omitManagedFields)
        XCTAssertEqual(policy.rules.count, 2)
        XCTAssertEqual(policy.rules[0].resources, [.init(group: "apps", resources: ["deployments"])])
        XCTAssertEqual(policy.rules[1].level, .none)
    }

    func testInvalidPoliciesFailWithUpstreamsMessages() {
        func failure(_ text: String) -> String {
            do {
                _ = try AuditPolicy.parse(Array(text.utf8))
                return "parsed"
            } catch {
                return error.message
            }
        }
        let header = "apiVersion: audit.k8s.io/v1\nkind: Policy\n"
        XCTAssertEqual(failure(header + "rules: []\n"), "loaded illegal policy with 0 rules")
        XCTAssertEqual(failure(header + "rules:\n- verbs: [get]\n"), "rules[0].level: Required value")
        XCTAssertEqual(
            failure(header + "rules:\n- level: Everything\n"),
            "rules[0].level: Unsupported value: \"Everything\": supported values: \"None\", \"Metadata\", \"Request\", \"RequestResponse\""
        )
        XCTAssertEqual(
            failure(header + "rules:\n- level: None\n  nonResourceURLs: [\"/a*b\", \"healthz\"]\n"),
            "[rules[0].nonResourceURLs[0]: Invalid value: \"/a*b\": non-resource URL wildcards '*' must be the final character of the rule, rules[0].nonResourceURLs[1]: Invalid value: \"healthz\": non-resource URL rules must begin with a '/' character]"
        )
        XCTAssertEqual(
            failure(header + "rules:\n- level: None\n  omitStages: [Done]\n"),
            "rules[0].omitStages[0]: Invalid value: \"Done\": allowed stages are RequestReceived,ResponseStarted,ResponseComplete,Panic"
        )
        XCTAssertEqual(
            failure(header + "rules:\n- level: None\n  namespaces: [a]\n  nonResourceURLs: [/x]\n"),
            "rules[0].nonResourceURLs: Invalid value: [\"/x\"]: rules cannot apply to both regular resources and non-resource URLs"
        )
        XCTAssertEqual(
            failure(header + "rules:\n- level: None\n  resources: [{group: apps, resourceNames: [a]}]\n"),
            "rules[0].resources.resourceNames: Invalid value: [\"a\"]: using resourceNames requires at least one resource"
        )
        XCTAssertEqual(
            failure("apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules: [{level: None}]\n"),
            "failed decoding: no kind \"Policy\" is registered for version \"audit.k8s.io/v1beta1\"")
        XCTAssertTrue(failure("rules: [{level: None}]\n").hasPrefix("failed decoding: Object 'Kind' is missing"))
    }

    func testPolicyFileErrorsNameTheFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString).yaml")
        try "apiVersion: audit.k8s.io/v1\nkind: Policy\n".write(to: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: path) }
        XCTAssertThrowsError(try AuditPolicy.load(file: path.path)) { error in
            XCTAssertEqual(
                (error as? AuditPolicyError)?.message,
                "loading audit policy file: loaded illegal policy with 0 rules: from file \(path.path)")
        }
        XCTAssertThrowsError(try AuditPolicy.load(file: "/nonexistent/policy.yaml")) { error in
            XCTAssertEqual(
                (error as? AuditPolicyError)?.message,
                "loading audit policy file: failed to read file path \"/nonexistent/policy.yaml\": open /nonexistent/policy.yaml: no such file or directory"
            )
        }
    }

    /// Random policies and requests: evaluation never crashes and always agrees with a direct reading of
    /// the first-match rule, and parsing arbitrary bytes never crashes.
    func testRandomPoliciesEvaluateAsFirstMatch() {
        var random = SeededRandom(seed: 0xA0D1)
        let verbs = ["get", "list", "watch", "create", "delete"]
        let resources = ["pods", "secrets", "nodes"]
        let subresources = ["", "status", "log"]
        for _ in 0..<300 {
            var rules: [AuditPolicy.Rule] = []
            for _ in 0..<random.next(below: 4) + 1 {
                var rule = AuditPolicy.Rule(level: AuditLevel.allCases[random.next(below: 4)])
                if random.next(below: 3) == 0 { rule.verbs = [verbs[random.next(below: verbs.count)]] }
                if random.next(below: 3) == 0 {
                    let resource = random.next(below: 2) == 0 ? resources[random.next(below: 3)] : "*"
                    rule.resources = [.init(resources: [resource])]
                }
                rules.append(rule)
            }
            let policy = AuditPolicy(rules: rules)
            let attributes = Self.resource(
                verbs[random.next(below: verbs.count)], resources[random.next(below: 3)],
                subresource: subresources[random.next(below: 3)])
            // The oracle: the first rule whose verb matches and whose one resource is `*` or exactly the object.
            let expected = rules.first { rule in
                if !rule.verbs.isEmpty, !rule.verbs.contains(attributes.verb) { return false }
                guard let resource = rule.resources.first?.resources.first else { return true }
                return resource == "*" || (resource == attributes.resource && attributes.subresource.isEmpty)
            }
            XCTAssertEqual(policy.evaluate(attributes).level, expected?.level ?? .none)
        }
        for _ in 0..<300 {
            let bytes = (0..<random.next(below: 64)).map { _ in UInt8(random.next(below: 256)) }
            _ = try? AuditPolicy.parse(bytes)
        }
    }
}
