import CEL
import XCTest

/// Rules as CRD authors write them in `x-kubernetes-validations`, compiled with `self` and `oldSelf`.
final class CELKubernetesRuleTests: XCTestCase {
    private func rule(_ text: String) throws -> CELProgram {
        try CELProgram(compiling: text, variables: ["self", "oldSelf"])
    }

    func testReplicaBounds() throws {
        let program = try rule("self.minReplicas <= self.replicas && self.replicas <= self.maxReplicas")
        XCTAssertEqual(
            try program.evaluate(["self": json(#"{"minReplicas": 1, "replicas": 3, "maxReplicas": 5}"#)]), .bool(true))
        XCTAssertEqual(
            try program.evaluate(["self": json(#"{"minReplicas": 4, "replicas": 3, "maxReplicas": 5}"#)]), .bool(false))
    }

    func testTransitionRuleComparesWithOldSelf() throws {
        let program = try rule("self.x == oldSelf.x")
        let old = json(#"{"x": "a", "y": 1}"#)
        XCTAssertEqual(try program.evaluate(["self": json(#"{"x": "a", "y": 2}"#), "oldSelf": old]), .bool(true))
        XCTAssertEqual(try program.evaluate(["self": json(#"{"x": "b"}"#), "oldSelf": old]), .bool(false))
        let immutable = try rule("self == oldSelf")
        XCTAssertEqual(
            try immutable.evaluate([
                "self": json(#"{"a": [1, {"b": 2}]}"#), "oldSelf": json(#"{"a": [1, {"b": 2.0}]}"#),
            ]), .bool(true))
    }

    func testMapValuesBoundedBySize() throws {
        let program = try rule("self.all(k, self[k].size() < 10)")
        XCTAssertEqual(try program.evaluate(["self": json(#"{"a": "short", "b": "tiny"}"#)]), .bool(true))
        XCTAssertEqual(try program.evaluate(["self": json(#"{"a": "short", "b": "much too long"}"#)]), .bool(false))
    }

    func testOptionalFieldGuardedByHas() throws {
        let program = try rule("has(self.spec) ? self.spec.y > 0 : true")
        XCTAssertEqual(try program.evaluate(["self": json(#"{}"#)]), .bool(true))
        XCTAssertEqual(try program.evaluate(["self": json(#"{"spec": {"y": 2}}"#)]), .bool(true))
        XCTAssertEqual(try program.evaluate(["self": json(#"{"spec": {"y": 0}}"#)]), .bool(false))
        XCTAssertThrowsError(try program.evaluate(["self": json(#"{"spec": {}}"#)])) { error in
            XCTAssertEqual((error as? CELError)?.message, "no such key: y")
        }
    }

    func testCommonRuleShapes() throws {
        let object = json(
            #"""
            {"name": "web-1", "ports": [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}],
             "labels": {"app": "web"}, "memory": "512Mi", "created": "2024-01-02T03:04:05Z", "timeout": "30s"}
            """#)
        let rules: [(String, Bool)] = [
            ("self.name.matches('^[a-z0-9-]+$')", true),
            ("self.ports.all(p, p.port > 0 && p.port < 65536)", true),
            ("self.ports.map(p, p.name).exists_one(n, n == 'http')", true),
            ("self.ports.filter(p, p.port == 443).size() == 1", true),
            ("'app' in self.labels && self.labels.app.startsWith('w')", true),
            ("quantity(self.memory).isLessThan(quantity('1Gi'))", true),
            ("timestamp(self.created) < timestamp('2025-01-01T00:00:00Z')", true),
            ("duration(self.timeout) <= duration('1m')", true),
            ("self.ports.map(p, p.port).isSorted() && self.ports.map(p, p.port).max() == 443", true),
            ("!has(self.replicas) || self.replicas >= 0", true),
            ("self.name.size() > 63", false),
        ]
        for (text, want) in rules {
            XCTAssertEqual(try rule(text).evaluate(["self": object]), .bool(want), text)
        }
    }
}
