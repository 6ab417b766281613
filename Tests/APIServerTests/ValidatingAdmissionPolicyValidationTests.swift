import APIMachinery
import CEL
import XCTest

@testable import APIServer

/// ValidatingAdmissionPolicy, its Binding and webhooks' matchConditions as upstream validates and defaults
/// them, and one policy's evaluation (messages, variables, failure policy): no server needed.
final class ValidatingAdmissionPolicyValidationTests: XCTestCase {
    let policies = ValidatingAdmissionPolicyStrategy()
    let bindings = ValidatingAdmissionPolicyBindingStrategy()

    func policy(_ spec: JSON, name: String = "p") -> JSON {
        ["metadata": ["name": .string(name)], "spec": spec]
    }

    static let rules: JSON = [
        "resourceRules": [
            ["apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["deployments"]]
        ]
    ]

    func errors(_ spec: JSON) -> [String] {
        var object = policy(spec)
        policies.applyDefaults(&object)
        return policies.validate(object).map(\.description)
    }

    func testDefaultsFollowUpstreamsV1() {
        var object = policy(["matchConstraints": Self.rules, "validations": [["expression": "true"]]])
        policies.applyDefaults(&object)
        XCTAssertEqual(object["spec"]?["failurePolicy"], "Fail")
        XCTAssertEqual(object["spec"]?["matchConstraints"]?["matchPolicy"], "Equivalent")
        XCTAssertEqual(object["spec"]?["matchConstraints"]?["namespaceSelector"], .object(JSONObject()))
        XCTAssertEqual(object["spec"]?["matchConstraints"]?["objectSelector"], .object(JSONObject()))
        XCTAssertEqual(object["spec"]?["matchConstraints"]?["resourceRules"]?.arrayValue?.first?["scope"], "*")
        XCTAssertEqual(policies.validate(object), [])
    }

    func testASyntaxErrorIsRefusedAsCompilationFailed() throws {
        let found = errors(["matchConstraints": Self.rules, "validations": [["expression": "object.spec.replicas <="]]])
        XCTAssertEqual(found.count, 1, "\(found)")
        let error = try XCTUnwrap(found.first)
        XCTAssertTrue(
            error.hasPrefix(
                #"spec.validations[0].expression: Invalid value: "object.spec.replicas <=": compilation failed: ERROR: <input>:1:"#
            ), error)
        // params is declared only with a paramKind.
        XCTAssertEqual(
            errors(["matchConstraints": Self.rules, "validations": [["expression": "params.x == 1"]]]).count, 1)
        XCTAssertEqual(
            errors([
                "matchConstraints": Self.rules, "paramKind": ["apiVersion": "v1", "kind": "ConfigMap"],
                "validations": [["expression": "params.x == 1"]],
            ]), [])
    }

    func testPolicyFieldsCarryUpstreamsMessages() {
        XCTAssertEqual(
            errors(["validations": .array([])]),
            [
                "spec.matchConstraints: Required value",
                "spec.validations: Required value: validations or auditAnnotations must contain at least one item",
                "spec.auditAnnotations: Required value: validations or auditAnnotations must contain at least one item",
            ])
        XCTAssertEqual(
            errors([
                "matchConstraints": Self.rules, "failurePolicy": "Sometimes",
                "variables": [["name": "1st", "expression": "true"]],
                "validations": [["expression": "true", "message": "two\nlines", "reason": "Conflict"]],
                "auditAnnotations": [
                    ["key": "a b", "valueExpression": "'x'"], ["key": "a b", "valueExpression": " "],
                ],
            ]),
            [
                #"spec.failurePolicy: Unsupported value: "Sometimes": supported values: "Fail", "Ignore""#,
                #"spec.variables[0].name: Invalid value: "1st": name is not a valid CEL identifier"#,
                "spec.validations[0].message: Invalid value: \"two\nlines\": message must not contain line breaks",
                #"spec.validations[0].reason: Unsupported value: "Conflict": supported values: "Forbidden", "Invalid", "RequestEntityTooLarge""#,
                #"spec.auditAnnotations[0].key: Invalid value: "p/a b": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"#,
                #"spec.auditAnnotations[1].key: Invalid value: "p/a b": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"#,
                "spec.auditAnnotations[1].valueExpression: Required value: valueExpression is not specified",
                #"spec.auditAnnotations[1].key: Duplicate value: "a b""#,
            ])
    }

    func testBindingsNeedActionsAndAWellFormedParamRef() {
        func errors(_ spec: JSON) -> [String] {
            var object: JSON = ["metadata": ["name": "b"], "spec": spec]
            bindings.applyDefaults(&object)
            return bindings.validate(object).map(\.description)
        }
        XCTAssertEqual(
            errors(["policyName": "p"]),
            ["spec.validationActions: Required value: at least one validation action is required"])
        XCTAssertEqual(
            errors(["policyName": "p", "validationActions": ["Deny", "Warn", "Deny", "Block"]]),
            [
                #"spec.validationActions[2]: Duplicate value: "Deny""#,
                #"spec.validationActions[3]: Unsupported value: "Block": supported values: "Audit", "Deny", "Warn""#,
                #"spec.validationActions: Invalid value: ["Deny","Warn","Deny","Block"]: must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)"#,
            ])
        XCTAssertEqual(
            errors([
                "policyName": "p", "validationActions": ["Audit"],
                "paramRef": ["name": "a", "selector": .object(JSONObject())],
            ]),
            [
                "spec.paramRef.name: Forbidden: name and selector are mutually exclusive",
                "spec.paramRef.selector: Forbidden: name and selector are mutually exclusive",
                "spec.paramRef.parameterNotFoundAction: Required value",
            ])
        XCTAssertEqual(
            errors(["validationActions": ["Deny"], "paramRef": ["parameterNotFoundAction": "Allow"]]),
            [
                "spec.policyName: Required value",
                "spec.paramRef: Required value: one of name or selector must be specified",
            ])
    }

    func testWebhookMatchConditionsAreNamedUniqueFewAndCompile() {
        let strategy = WebhookConfigurationStrategy(mutating: false)
        func webhook(_ conditions: [JSON]) -> JSON {
            var configuration: JSON = [
                "metadata": ["name": "c"],
                "webhooks": [
                    [
                        "name": "hook.example.com", "clientConfig": ["url": "https://127.0.0.1/"],
                        "sideEffects": "None",
                        "admissionReviewVersions": ["v1"], "matchConditions": .array(conditions),
                    ]
                ],
            ]
            strategy.applyDefaults(&configuration)
            return configuration
        }
        let found = strategy.validate(
            webhook([
                ["name": "a", "expression": "request.userInfo.username != 'x'"],
                ["name": "a", "expression": "params.x"],
                ["name": "", "expression": " "],
            ])
        ).map(\.description)
        XCTAssertEqual(found.count, 4, "\(found)")
        XCTAssertTrue(
            found[0].hasPrefix(
                #"webhooks[0].matchConditions[1].expression: Invalid value: "params.x": compilation failed: ERROR: <input>:1:1: undeclared reference to 'params'"#
            ), found[0])
        XCTAssertEqual(
            Array(found[1...]),
            [
                #"webhooks[0].matchConditions[1].name: Duplicate value: "a""#,
                "webhooks[0].matchConditions[2].expression: Required value",
                "webhooks[0].matchConditions[2].name: Required value",
            ])
        let many = (0...64).map { JSON.object(["name": .string("c\($0)"), "expression": "true"]) }
        XCTAssertEqual(
            strategy.validate(webhook(many)).map(\.description),
            ["webhooks[0].matchConditions: Too many: 65: must have at most 64 items"])
    }

    func testEvaluationUsesMessagesVariablesAndTheFailurePolicy() {
        func run(_ spec: JSON, object: JSON = ["spec": ["replicas": 6]]) -> PolicyEvaluation.Outcome {
            var evaluation = PolicyEvaluation(
                policy: AdmissionPolicyDefinition(json: policy(spec)),
                bindings: ["object": CELValue(json: object), "oldObject": .null, "params": .null])
            return evaluation.run()
        }
        let plain = run(["validations": [["expression": "object.spec.replicas <= 5"]]])
        XCTAssertEqual(plain.denials.map(\.message), ["failed expression: object.spec.replicas <= 5"])
        XCTAssertEqual(plain.denials.first?.reason, .invalid)
        let computed = run([
            "variables": [
                ["name": "limit", "expression": "5"], ["name": "broken", "expression": "object.missing"],
            ],
            "validations": [
                [
                    "expression": "object.spec.replicas <= variables.limit",
                    "messageExpression": "'at most ' + string(variables.limit)", "reason": "Forbidden",
                ]
            ],
        ])
        // The broken variable is never read, so it never fails the policy.
        XCTAssertEqual(computed.denials.map(\.message), ["at most 5"])
        XCTAssertEqual(computed.denials.first?.reason, .forbidden)
        let failing: JSON = ["validations": [["expression": "object.spec.nothing > 1"]]]
        var fail = failing
        fail["failurePolicy"] = "Fail"
        var ignore = failing
        ignore["failurePolicy"] = "Ignore"
        XCTAssertEqual(
            run(fail).denials.map(\.message),
            ["expression 'object.spec.nothing > 1' resulted in error: no such key: nothing"])
        XCTAssertEqual(run(ignore).denials.count, 0)
        let skipped = run([
            "matchConditions": [["name": "small", "expression": "object.spec.replicas < 3"]],
            "validations": [["expression": "false"]],
        ])
        XCTAssertEqual(skipped.denials.count, 0)
        let annotated = run([
            "validations": [["expression": "true"]],
            "auditAnnotations": [["key": "size", "valueExpression": "string(object.spec.replicas)"]],
        ])
        XCTAssertEqual(annotated.annotations.map(\.key), ["size"])
        XCTAssertEqual(annotated.annotations.map(\.value), ["6"])
    }

    func testMatchingHonoursExclusionsNamesAndEquivalentVersions() async throws {
        let matcher = PolicyMatcher()
        let request = AdmissionAttributes(
            operation: .create, resource: GroupResource(group: "autoscaling", resource: "horizontalpodautoscalers"),
            kind: GroupVersionKind(group: "autoscaling", version: "v2", kind: "HorizontalPodAutoscaler"),
            namespace: "default", name: "web", user: nil, dryRun: false)
        func match(_ resources: JSON) async throws -> String {
            let outcome = try await matcher.match(
                PolicyMatchResources(json: resources), request, object: ["metadata": ["name": "web"]]
            ) { [:] }
            switch outcome {
            case .notMatched: return "none"
            case .matched(let version): return version.resource.version
            case .misconfigured(let message): return "error: " + message
            }
        }
        func rule(_ versions: JSON, names: JSON = .array([])) -> JSON {
            [
                "apiGroups": ["autoscaling"], "apiVersions": versions, "operations": ["CREATE"],
                "resources": ["horizontalpodautoscalers"], "resourceNames": names,
            ]
        }
        // A rule naming only v1 still matches a v2 request under Equivalent, which presents it as v1.
        let v1Match = try await match(["resourceRules": [rule(["v1"])]])
        XCTAssertEqual(v1Match, "v1")
        let v1Exact = try await match(["resourceRules": [rule(["v1"])], "matchPolicy": "Exact"])
        XCTAssertEqual(v1Exact, "none")
        let named = try await match(["resourceRules": [rule(["*"], names: ["other"])]])
        XCTAssertEqual(named, "none")
        let excluded = try await match(["resourceRules": [rule(["*"])], "excludeResourceRules": [rule(["v2"])]])
        XCTAssertEqual(excluded, "none")
        let unparsable = try await match([
            "resourceRules": [rule(["*"])],
            "objectSelector": ["matchExpressions": [["key": "a", "operator": "Near"]]],
        ])
        XCTAssertEqual(unparsable, #"error: "Near" is not a valid label selector operator"#)
        let everything = try await match(.object(JSONObject()))
        XCTAssertEqual(everything, "v2", "no rules (a binding's empty matchResources) match the request as it came")
    }

    func testMatchConditionsFalseWinsThenErrorsFollowTheFailurePolicy() {
        let conditions = MatchConditions(
            json: [
                ["name": "broken", "expression": "object.missing == 1"],
                ["name": "small", "expression": "object.size < 3"],
            ], variables: CELAdmission.webhookVariables)
        let bindings: (Int64) -> [String: CELValue] = { ["object": .object([("size", .int($0))])] }
        XCTAssertEqual(conditions.evaluate(bindings(5), ignoreErrors: false), .skipped("small"))
        XCTAssertEqual(
            conditions.evaluate(bindings(1), ignoreErrors: false),
            .failed("expression 'object.missing == 1' resulted in error: no such key: missing"))
        XCTAssertEqual(conditions.evaluate(bindings(1), ignoreErrors: true), .skipped(""))
        let fine = MatchConditions(
            json: [["name": "small", "expression": "object.size < 3"]], variables: CELAdmission.webhookVariables)
        XCTAssertEqual(fine.evaluate(bindings(1), ignoreErrors: false), .matches)
    }
}
