import APIMachinery
import CEL

/// Evaluates `x-kubernetes-validations` with the `CEL` module: every rule and `messageExpression` of a schema is
/// compiled once, when the schema is, and each evaluation stays within Kubernetes' per-call cost limit.
struct CELRuleEvaluator: ValidationRuleEvaluator {
    static let variables: Set<String> = ["self", "oldSelf"]
    private let programs: [String: Result<CELProgram, CELError>]

    init(_ root: SchemaNode) {
        var programs: [String: Result<CELProgram, CELError>] = [:]
        var rules: [(path: String, rule: ValidationRule)] = []
        root.collectRules(path: "", into: &rules)
        for (_, rule) in rules {
            for expression in [rule.rule, rule.messageExpression] where !expression.isEmpty {
                programs[expression] = Self.compile(expression)
            }
        }
        self.programs = programs
    }

    static func compile(_ expression: String) -> Result<CELProgram, CELError> {
        do throws(CELError) {
            return .success(try CELProgram(compiling: expression, variables: variables))
        } catch {
            return .failure(error)
        }
    }

    func evaluate(_ expression: String, value: JSON, oldValue: JSON?, node: SchemaNode) throws -> JSON {
        let program: CELProgram
        switch programs[expression] ?? Self.compile(expression) {
        case .success(let compiled): program = compiled
        case .failure(let error): throw ValidationRuleEvaluationError(.compile, message: error.description)
        }
        var variables: [String: CELValue] = ["self": CELValue(json: value)]
        if let oldValue { variables["oldSelf"] = CELValue(json: oldValue) }
        do throws(CELError) {
            return try program.evaluate(variables).json
        } catch {
            switch error.kind {
            case .compile: throw ValidationRuleEvaluationError(.compile, message: error.message)
            case .evaluation: throw ValidationRuleEvaluationError(.evaluation, message: error.message)
            case .costLimitExceeded: throw ValidationRuleEvaluationError(.costLimitExceeded, message: error.message)
            }
        }
    }
}
