import APIMachinery
import Foundation
import TestSupport
import XCTest

@testable import APIServer

/// flowcontrol.apiserver.k8s.io/v1: upstream's validation and defaults, the bootstrap configuration and its
/// update rules, and through kubectl over TLS the bootstrap objects, their columns, and `exempt` restored
/// after a delete.
final class FlowControlTests: XCTestCase {
    static let fixture = Task { () throws -> KubectlTestServer in
        let server = try await KubectlTestServer(address: "127.0.0.147", configuration: APIServer.Configuration())
        let apiServer = server.apiServer
        Task { await apiServer.runFlowControlConfiguration() }
        return server
    }

    func messages(_ errors: [FieldError]) -> [String] { errors.map(\.description) }

    func testEveryBootstrapObjectIsValidAndAlreadyDefaulted() {
        for object in FlowControlBootstrap.mandatoryFlowSchemas + FlowControlBootstrap.suggestedFlowSchemas {
            var defaulted = object
            FlowSchemaStrategy().applyDefaults(&defaulted)
            XCTAssertEqual(defaulted, object, object.name ?? "")
            XCTAssertEqual(messages(FlowSchemaStrategy().validate(object)), [], object.name ?? "")
        }
        for object in FlowControlBootstrap.mandatoryPriorityLevels + FlowControlBootstrap.suggestedPriorityLevels {
            var defaulted = object
            PriorityLevelConfigurationStrategy().applyDefaults(&defaulted)
            XCTAssertEqual(defaulted, object, object.name ?? "")
            XCTAssertEqual(messages(PriorityLevelConfigurationStrategy().validate(object)), [], object.name ?? "")
        }
        XCTAssertEqual(FlowControlBootstrap.suggestedFlowSchemas.count, 11)
        XCTAssertEqual(FlowControlBootstrap.suggestedPriorityLevels.count, 6)
    }

    func testDefaults() {
        var schema: JSON = ["metadata": ["name": "mine"], "spec": ["priorityLevelConfiguration": ["name": "x"]]]
        FlowSchemaStrategy().applyDefaults(&schema)
        XCTAssertEqual(schema["spec"]?["matchingPrecedence"], 1000)
        var level: JSON = [
            "metadata": ["name": "mine"],
            "spec": ["type": "Limited", "limited": ["limitResponse": ["type": "Queue", "queuing": [:]]]],
        ]
        PriorityLevelConfigurationStrategy().applyDefaults(&level)
        XCTAssertEqual(
            level["spec"]?["limited"],
            [
                "nominalConcurrencyShares": 30, "lendablePercent": 0,
                "limitResponse": ["type": "Queue", "queuing": ["queues": 64, "handSize": 8, "queueLengthLimit": 50]],
            ])
        var exempt: JSON = ["metadata": ["name": "exempt"], "spec": ["type": "Exempt", "exempt": [:]]]
        PriorityLevelConfigurationStrategy().applyDefaults(&exempt)
        XCTAssertEqual(exempt["spec"]?["exempt"], ["nominalConcurrencyShares": 0, "lendablePercent": 0])
    }

    func testFlowSchemaValidationMessages() {
        let schema: JSON = [
            "metadata": ["name": "mine"],
            "spec": [
                "matchingPrecedence": 1, "priorityLevelConfiguration": ["name": ""],
                "distinguisherMethod": ["type": "ByColour"],
                "rules": [
                    [
                        "subjects": [["kind": "User", "group": ["name": "g"]]],
                        "resourceRules": [
                            ["verbs": ["get", "fly"], "apiGroups": ["*", "apps"], "resources": ["pods"]]
                        ],
                        "nonResourceRules": [["verbs": ["*"], "nonResourceURLs": ["/a*"]]],
                    ]
                ],
            ],
        ]
        XCTAssertEqual(
            messages(FlowSchemaStrategy().validate(schema)),
            [
                "spec.matchingPrecedence: Invalid value: 1: only the schema named 'exempt' may have matchingPrecedence 1",
                "spec.distinguisherMethod.type: Unsupported value: \"ByColour\": supported values: \"ByNamespace\", \"ByUser\"",
                "spec.priorityLevelConfiguration.name: Required value: must reference a priority level",
                "spec.rules[0].subjects[0].user: Required value: user is required when subject kind is 'User'",
                "spec.rules[0].subjects[0].group: Forbidden: group is forbidden when subject kind is not 'Group'",
                "spec.rules[0].resourceRules[0].verbs: Unsupported value: [\"get\",\"fly\"]: supported values: \"create\", \"delete\", \"deletecollection\", \"get\", \"list\", \"patch\", \"proxy\", \"update\", \"watch\"",
                "spec.rules[0].resourceRules[0].apiGroups: Invalid value: [\"*\",\"apps\"]: if '*' is present, must not specify other api groups",
                "spec.rules[0].resourceRules[0].namespaces: Required value: resource rules that are not cluster scoped must supply at least one namespace",
                "spec.rules[0].nonResourceRules[0].nonResourceURLs[0]: Invalid value: \"/a*\": wildcard can only do suffix matching",
            ])
        var exempt = FlowControlBootstrap.mandatoryFlowSchemas[0]
        exempt.set(["spec", "matchingPrecedence"], to: 2)
        XCTAssertEqual(
            FlowSchemaStrategy().validate(exempt).map(\.detail), ["spec of 'exempt' must equal the fixed value"])
    }

    func testPriorityLevelValidationMessages() {
        let level: JSON = [
            "metadata": ["name": "exempt-not"],
            "spec": [
                "type": "Exempt",
                "limited": [
                    "nominalConcurrencyShares": -1, "lendablePercent": 101,
                    "limitResponse": [
                        "type": "Queue", "queuing": ["queues": 4, "handSize": 5, "queueLengthLimit": 0],
                    ],
                ],
            ],
        ]
        XCTAssertEqual(
            messages(PriorityLevelConfigurationStrategy().validate(level)),
            [
                "spec.type: Invalid value: \"Exempt\": type must be 'Exempt' if and only if name is 'exempt'",
                "spec.limited: Forbidden: must be nil if the type is not Limited",
            ])
        var limited = level
        limited.set(["spec", "type"], to: "Limited")
        XCTAssertEqual(
            messages(PriorityLevelConfigurationStrategy().validate(limited)),
            [
                "spec.limited.nominalConcurrencyShares: Invalid value: -1: must be a non-negative integer",
                "spec.limited.limitResponse.queuing.queueLengthLimit: Invalid value: 0: must be positive",
                "spec.limited.limitResponse.queuing.handSize: Invalid value: 5: should not be greater than queues (4)",
                "spec.limited.lendablePercent: Invalid value: 101: must be between 0 and 100, inclusive",
            ])
        var entropy = limited
        entropy.set(
            ["spec", "limited"],
            to: [
                "limitResponse": [
                    "type": "Queue", "queuing": ["queues": 1_000_000, "handSize": 5, "queueLengthLimit": 5],
                ]
            ])
        XCTAssertEqual(
            PriorityLevelConfigurationStrategy().validate(entropy).map(\.detail),
            ["required entropy bits of deckSize 1000000 and handSize 5 should not be greater than 60"])
    }

    func testUpdateRulesFollowTheAnnotationAndGeneration() {
        let bootstrap = FlowControlBootstrap.suggestedPriorityLevels[0]
        var edited = bootstrap
        edited.set(["spec", "limited", "nominalConcurrencyShares"], to: 99)
        edited.setMeta("generation", 2)
        // Annotated true: the spec is put back.
        XCTAssertEqual(
            APIServer.flowControlUpdate(current: edited, bootstrap: bootstrap, alwaysUpdateSpec: false)?["spec"],
            bootstrap["spec"])
        // Annotated false: left alone.
        var kept = edited
        kept.setMeta("annotations", [FlowControlBootstrap.autoUpdateAnnotation: "false"])
        XCTAssertNil(APIServer.flowControlUpdate(current: kept, bootstrap: bootstrap, alwaysUpdateSpec: false))
        // No annotation: an edited object (generation 2) is marked false and kept; an unedited one is updated.
        var bare = edited
        bare.setMeta("annotations", nil)
        let marked = APIServer.flowControlUpdate(current: bare, bootstrap: bootstrap, alwaysUpdateSpec: false)
        XCTAssertEqual(marked?.annotations[FlowControlBootstrap.autoUpdateAnnotation], "false")
        XCTAssertEqual(marked?["spec"], edited["spec"])
        bare.setMeta("generation", 1)
        let updated = APIServer.flowControlUpdate(current: bare, bootstrap: bootstrap, alwaysUpdateSpec: false)
        XCTAssertEqual(updated?.annotations[FlowControlBootstrap.autoUpdateAnnotation], "true")
        XCTAssertEqual(updated?["spec"], bootstrap["spec"])
        // Mandatory objects always get their spec back.
        XCTAssertEqual(
            APIServer.flowControlUpdate(current: kept, bootstrap: bootstrap, alwaysUpdateSpec: true)?["spec"],
            bootstrap["spec"])
    }

    /// `kubectl get` output split into rows of columns, keyed by name.
    func table(_ server: KubectlTestServer, _ resource: String) throws -> (header: [String], rows: [String: [String]]) {
        let output = try server.kubectl(["get", resource])
        XCTAssertEqual(output.status, 0, output.stderr)
        let lines = output.stdout.split(separator: "\n").map { line in
            line.components(separatedBy: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        var rows: [String: [String]] = [:]
        for line in lines.dropFirst() { rows[line[0]] = line }
        return (lines.first ?? [], rows)
    }

    func testKubectlShowsTheBootstrapConfigurationWithUpstreamsColumns() async throws {
        let server = try await Self.fixture.value
        let schemas = try table(server, "flowschemas")
        XCTAssertEqual(
            schemas.header,
            ["NAME", "PRIORITYLEVEL", "MATCHINGPRECEDENCE", "DISTINGUISHERMETHOD", "AGE", "MISSINGPL"])
        let bootstrapSchemas = FlowControlBootstrap.mandatoryFlowSchemas + FlowControlBootstrap.suggestedFlowSchemas
        XCTAssertTrue(Set(bootstrapSchemas.compactMap(\.name)).isSubset(of: schemas.rows.keys), "\(schemas.rows.keys)")
        XCTAssertEqual(
            schemas.rows["exempt"].map { Array($0.prefix(4)) + [$0[5]] }, ["exempt", "exempt", "1", "*", "False"])
        XCTAssertEqual(
            schemas.rows["kube-scheduler"]?.prefix(4), ["kube-scheduler", "workload-high", "800", "ByNamespace"])

        let levels = try table(server, "prioritylevelconfigurations")
        XCTAssertEqual(
            levels.header,
            ["NAME", "TYPE", "NOMINALCONCURRENCYSHARES", "QUEUES", "HANDSIZE", "QUEUELENGTHLIMIT", "AGE"])
        XCTAssertEqual(
            Set(levels.rows.keys),
            [
                "exempt", "catch-all", "system", "node-high", "leader-election", "workload-high", "workload-low",
                "global-default",
            ])
        XCTAssertEqual(
            levels.rows["catch-all"]?.prefix(6), ["catch-all", "Limited", "5", "<none>", "<none>", "<none>"])
        XCTAssertEqual(levels.rows["workload-low"]?.prefix(6), ["workload-low", "Limited", "100", "128", "6", "50"])
        XCTAssertEqual(levels.rows["exempt"]?.prefix(3), ["exempt", "Exempt", "<none>"])
        let annotation = try server.kubectl([
            "get", "flowschema", "global-default", "-o",
            "jsonpath={.metadata.annotations.apf\\.kubernetes\\.io/autoupdate-spec}",
        ])
        XCTAssertEqual(annotation.stdout, "true", annotation.stderr)
    }

    func testMandatorySpecsAreFixedAndADeletedExemptComesBack() async throws {
        let server = try await Self.fixture.value
        let patched = try server.kubectl([
            "patch", "flowschema", "exempt", "--type=merge", "-p", #"{"spec":{"matchingPrecedence":2}}"#,
        ])
        XCTAssertTrue(patched.stderr.contains("spec of 'exempt' must equal the fixed value"), patched.stderr)

        let before = try server.kubectl(["get", "flowschema", "exempt", "-o", "jsonpath={.metadata.uid}"]).stdout
        let deleted = try server.kubectl(["delete", "flowschema", "exempt"])
        XCTAssertEqual(deleted.stdout, "flowschema.flowcontrol.apiserver.k8s.io \"exempt\" deleted\n", deleted.stderr)
        var after = ""
        for _ in 0..<100 where after.isEmpty || after == before {
            after = try server.kubectl(["get", "flowschema", "exempt", "-o", "jsonpath={.metadata.uid}"]).stdout
            if after.isEmpty || after == before { try await Task.sleep(for: .milliseconds(50)) }
        }
        XCTAssertFalse(after.isEmpty, "exempt was not restored")
        XCTAssertNotEqual(after, before)
    }

    func testAFlowSchemaNamingNoLevelIsMarkedDangling() async throws {
        let server = try await Self.fixture.value
        let created = try server.kubectl(
            ["create", "-f", "-"],
            input: """
                apiVersion: flowcontrol.apiserver.k8s.io/v1
                kind: FlowSchema
                metadata: {name: orphan}
                spec:
                  priorityLevelConfiguration: {name: nowhere}
                  rules:
                  - subjects: [{kind: Group, group: {name: team}}]
                    nonResourceRules: [{verbs: [get], nonResourceURLs: [/metrics]}]
                """)
        XCTAssertEqual(created.status, 0, created.stderr)
        try await server.apiServer.ensureFlowControlConfiguration()
        let row = try table(server, "flowschemas").rows["orphan"]
        XCTAssertEqual(row.map { [$0[2], $0[3], $0[5]] }, ["1000", "*", "True"])
        let message = try server.kubectl([
            "get", "flowschema", "orphan", "-o", "jsonpath={.status.conditions[0].message}",
        ])
        XCTAssertEqual(
            message.stdout,
            "This FlowSchema references the PriorityLevelConfiguration object named \"nowhere\" but there is no such object"
        )
    }
}
