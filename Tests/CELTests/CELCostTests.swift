import CEL
import XCTest

final class CELCostTests: XCTestCase {
    private let bigList = CELValue.list((0..<2000).map { .int(Int64($0)) })

    func testNestedQuadraticRuleHitsTheLimit() throws {
        let program = try CELProgram(compiling: "self.all(x, self.all(y, x + y >= 0))")
        XCTAssertThrowsError(try program.evaluate(["self": bigList])) { error in
            XCTAssertEqual(
                error as? CELError, CELError(.costLimitExceeded, "operation cancelled: actual cost limit exceeded"))
        }
    }

    func testLinearRuleOverTheSameListFits() throws {
        let program = try CELProgram(compiling: "self.all(x, x >= 0)")
        let (value, cost) = try program.evaluateReportingCost(["self": bigList])
        XCTAssertEqual(value, .bool(true))
        XCTAssertGreaterThan(cost, 2000)
        XCTAssertLessThan(cost, CELProgram.defaultCostLimit)
    }

    func testCostLimitIsNotAbsorbedByLogicOrMacros() throws {
        let program = try CELProgram(compiling: "false || self.all(x, x >= 0) || true")
        XCTAssertThrowsError(try program.evaluate(["self": bigList], costLimit: 100)) { error in
            XCTAssertEqual((error as? CELError)?.kind, .costLimitExceeded)
        }
        let exists = try CELProgram(compiling: "self.exists(x, 1 / 0 == 1 && self.size() > 0)")
        XCTAssertThrowsError(try exists.evaluate(["self": bigList], costLimit: 500)) { error in
            XCTAssertEqual((error as? CELError)?.kind, .costLimitExceeded)
        }
    }

    func testStringWorkIsChargedBySize() throws {
        let program = try CELProgram(compiling: "self.contains('needle')")
        let short = try program.evaluateReportingCost(["self": .string("haystack")]).cost
        let long = try program.evaluateReportingCost(["self": .string(String(repeating: "hay", count: 10_000))]).cost
        XCTAssertGreaterThan(long, short + 2000)
    }

    func testCheapRuleCostsLittle() throws {
        let program = try CELProgram(compiling: "self.minReplicas <= self.replicas")
        let cost = try program.evaluateReportingCost(["self": json(#"{"minReplicas": 1, "replicas": 3}"#)]).cost
        XCTAssertLessThanOrEqual(cost, 10)
    }
}
