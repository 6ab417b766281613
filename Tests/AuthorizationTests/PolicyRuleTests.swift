import APIMachinery
import Authorization
import TestSupport
import XCTest

final class PolicyRuleTests: XCTestCase {
    let user = UserInfo(name: "jane", groups: ["system:authenticated"])

    func resource(
        _ verb: String, _ group: String, _ resource: String, sub: String = "", name: String = ""
    ) -> Attributes {
        Attributes(user: user, verb: verb, apiGroup: group, resource: resource, subresource: sub, name: name)
    }

    func testResourceRuleMatchingTable() {
        let cases: [(PolicyRule, Attributes, Bool, String)] = [
            (
                PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["pods"]), resource("get", "", "pods"), true,
                "exact"
            ),
            (
                PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["pods"]), resource("list", "", "pods"), false,
                "verb"
            ),
            (
                PolicyRule(verbs: ["*"], apiGroups: [""], resources: ["pods"]), resource("delete", "", "pods"), true,
                "* verb"
            ),
            (
                PolicyRule(verbs: ["get"], apiGroups: ["apps"], resources: ["pods"]), resource("get", "", "pods"),
                false, "group"
            ),
            (
                PolicyRule(verbs: ["get"], apiGroups: ["*"], resources: ["pods"]), resource("get", "x.io", "pods"),
                true, "* group"
            ),
            (
                PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["*"]), resource("get", "", "pods", sub: "log"),
                true, "* resource covers subresources"
            ),
            (
                PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["pods"]),
                resource("get", "", "pods", sub: "log"), false, "resource does not cover its subresources"
            ),
            (
                PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["pods/log"]),
                resource("get", "", "pods", sub: "log"), true, "resource/subresource"
            ),
            (
                PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["pods/log"]), resource("get", "", "pods"),
                false, "subresource rule, main resource"
            ),
            (
                PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["*/scale"]),
                resource("get", "apps", "deployments", sub: "scale"), false, "group still applies"
            ),
            (
                PolicyRule(verbs: ["get"], apiGroups: ["*"], resources: ["*/scale"]),
                resource("get", "apps", "deployments", sub: "scale"), true, "*/subresource"
            ),
            (
                PolicyRule(verbs: ["get"], apiGroups: ["*"], resources: ["*/scale"]),
                resource("get", "apps", "deployments"), false, "*/sub, no subresource"
            ),
            (
                PolicyRule(verbs: ["get"], apiGroups: ["*"], resources: ["*/status"]),
                resource("get", "", "pods", sub: "statusx"), false, "*/sub length"
            ),
            (
                PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["pods"], resourceNames: ["a"]),
                resource("get", "", "pods", name: "a"), true, "name"
            ),
            (
                PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["pods"], resourceNames: ["a"]),
                resource("get", "", "pods", name: "b"), false, "other name"
            ),
            (
                PolicyRule(verbs: ["list"], apiGroups: [""], resources: ["pods"], resourceNames: ["a"]),
                resource("list", "", "pods"), false, "names need a name"
            ),
            (
                PolicyRule(verbs: ["get"], nonResourceURLs: ["/healthz"]), resource("get", "", "healthz"), false,
                "URL rule, resource request"
            ),
        ]
        for (rule, attributes, expected, label) in cases {
            XCTAssertEqual(rule.allows(attributes), expected, label)
        }
    }

    func testNonResourceURLMatchingTable() {
        let cases: [([String], String, Bool)] = [
            (["/healthz"], "/healthz", true), (["/healthz"], "/healthz/etcd", false),
            (["/healthz/*"], "/healthz/etcd", true),
            (["/healthz/*"], "/healthz", false), (["/api*"], "/apis/apps", true), (["*"], "/anything", true),
            (["/api/**"], "/api/", true), (["/version/"], "/version", false),
        ]
        for (urls, path, expected) in cases {
            let rule = PolicyRule(verbs: ["get"], nonResourceURLs: urls)
            XCTAssertEqual(rule.allows(Attributes(user: user, verb: "get", path: path)), expected, "\(urls) \(path)")
            XCTAssertFalse(rule.allows(Attributes(user: user, verb: "post", path: path)))
        }
    }

    func testCompactStringMatchesUpstream() {
        XCTAssertEqual(
            PolicyRule(verbs: ["get", "list"], apiGroups: ["", "apps"], resources: ["pods"], resourceNames: ["a\"b"])
                .compactString,
            #"{APIGroups:["" "apps"], Resources:["pods"], ResourceNames:["a\"b"], Verbs:["get" "list"]}"#)
        XCTAssertEqual(
            PolicyRule(verbs: ["*"], nonResourceURLs: ["*"]).compactString, #"{NonResourceURLs:["*"], Verbs:["*"]}"#)
    }

    func testCoversAndCompact() {
        let owner = [
            PolicyRule(verbs: ["get", "list"], apiGroups: [""], resources: ["pods", "*/status"]),
            PolicyRule(verbs: ["get"], nonResourceURLs: ["/api/*"]),
        ]
        XCTAssertTrue(
            PolicyRules.uncovered(
                by: owner,
                [
                    PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["pods", "services/status"]),
                    PolicyRule(verbs: ["get"], nonResourceURLs: ["/api/v1"]),
                ]
            ).isEmpty)
        let missing = PolicyRules.uncovered(
            by: owner, [PolicyRule(verbs: ["get", "delete", "watch"], apiGroups: [""], resources: ["pods"])])
        XCTAssertEqual(
            missing,
            [
                PolicyRule(verbs: ["delete"], apiGroups: [""], resources: ["pods"]),
                PolicyRule(verbs: ["watch"], apiGroups: [""], resources: ["pods"]),
            ])
        XCTAssertEqual(
            PolicyRules.compact(missing),
            [PolicyRule(verbs: ["delete", "watch"], apiGroups: [""], resources: ["pods"])])
        // Owner rules limited to names never cover a grant of every name.
        XCTAssertFalse(
            PolicyRules.uncovered(
                by: [PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["pods"], resourceNames: ["a"])],
                [PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["pods"])]
            ).isEmpty)
    }

    /// Property: a rule allows a concrete request exactly when the rule covers the request written as a rule,
    /// and exactly when one piece of its breakdown allows it. Three formulations, random rules, one answer.
    func testMatchingAgreesWithCoverageOnRandomRules() {
        var random = SeededRandom(seed: 0x5EED_0BAC)
        let verbs = ["get", "list", "watch", "create", "delete", "*"]
        let groups = ["", "apps", "batch", "*"]
        let resources = ["pods", "deployments", "pods/log", "deployments/scale", "*/scale", "*/log", "*", "jobs"]
        let names = ["a", "b", "c"]
        let paths = ["/api", "/api/v1", "/apis/*", "/api*", "/healthz", "*", "/healthz/ping"]
        func pick(_ values: [String], max: Int) -> [String] {
            var chosen: [String] = []
            for _ in 0..<(1 + random.next(below: max)) {
                let value = values[random.next(below: values.count)]
                if !chosen.contains(value) { chosen.append(value) }
            }
            return chosen
        }
        for iteration in 0..<4000 {
            let rule: PolicyRule
            if random.next(below: 4) == 0 {
                rule = PolicyRule(verbs: pick(verbs, max: 2), nonResourceURLs: pick(paths, max: 3))
            } else {
                rule = PolicyRule(
                    verbs: pick(verbs, max: 3), apiGroups: pick(groups, max: 2), resources: pick(resources, max: 3),
                    resourceNames: random.next(below: 3) == 0 ? pick(names, max: 2) : [])
            }
            let verb = verbs[random.next(below: verbs.count - 1)]
            let request: Attributes
            let asRule: PolicyRule
            if random.next(below: 4) == 0 {
                let path = ["/api", "/api/v1", "/apis/apps", "/healthz", "/healthz/ping", "/version"][
                    random.next(below: 6)]
                request = Attributes(user: user, verb: verb, path: path)
                asRule = PolicyRule(verbs: [verb], nonResourceURLs: [path])
            } else {
                let group = ["", "apps", "batch"][random.next(below: 3)]
                let base = ["pods", "deployments", "jobs"][random.next(below: 3)]
                let sub = ["", "", "log", "scale"][random.next(below: 4)]
                let name = ["", "a", "b", "z"][random.next(below: 4)]
                request = resource(verb, group, base, sub: sub, name: name)
                asRule = PolicyRule(
                    verbs: [verb], apiGroups: [group], resources: [sub.isEmpty ? base : base + "/" + sub],
                    resourceNames: name.isEmpty ? [] : [name])
            }
            let allowed = rule.allows(request)
            XCTAssertEqual(
                allowed, PolicyRules.uncovered(by: [rule], [asRule]).isEmpty,
                "iteration \(iteration): \(rule) \(request)")
            XCTAssertEqual(allowed, rule.breakdown.contains { $0.allows(request) }, "iteration \(iteration)")
        }
    }
}
