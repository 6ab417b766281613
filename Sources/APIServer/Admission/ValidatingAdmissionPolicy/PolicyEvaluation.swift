import APIMachinery
import CEL

/// One policy evaluated for one binding and one param, as upstream's validator: matchConditions first, then
/// every validation (each within the per-call cost limit, all within one runtime budget), then the audit
/// annotations. `variables` are computed only when an expression reads them, each at most once.
struct PolicyEvaluation {
    /// Upstream's `RuntimeCELCostBudget`: what one evaluation of a policy may spend in all.
    static let budget: Int64 = 10_000_000
    static let outOfBudget =
        "validation failed due to running out of cost budget, no further validation rules will be run"

    /// A validation that refused (or failed under `Fail`), by its index in `validations`.
    struct Denial: Sendable {
        var index: Int
        var message: String
        /// Nil for evaluation errors and configuration failures, which upstream reports as Invalid.
        var reason: StatusReason?
    }

    struct Outcome: Sendable {
        var denials: [Denial] = []
        /// Audit annotations to publish under the policy's name.
        var annotations: [(key: String, value: String)] = []
    }

    /// An expression's failure, as upstream words it.
    struct Failure: Error, Sendable {
        var message: String
    }

    let policy: AdmissionPolicyDefinition
    /// `object`, `oldObject`, `request`, `params` and `namespaceObject`.
    let bindings: [String: CELValue]
    private var remaining = PolicyEvaluation.budget
    private var variables: [String: Result<CELValue, Failure>] = [:]

    init(policy: AdmissionPolicyDefinition, bindings: [String: CELValue]) {
        self.policy = policy
        self.bindings = bindings
    }

    mutating func run() -> Outcome {
        var outcome = Outcome()
        if !policy.matchConditions.isEmpty {
            var activation = bindings
            activation["variables"] = variablesValue(
                policy.matchConditions.conditions.compactMap { try? $0.program.get() })
            switch policy.matchConditions.evaluate(activation, ignoreErrors: !policy.failOnError) {
            case .matches: break
            case .skipped: return outcome
            case .failed(let message):
                outcome.denials.append(Denial(index: 0, message: message))
                return outcome
            }
        }
        for (index, validation) in policy.validations.enumerated() {
            switch evaluate(validation.program, validation.expression) {
            case .failure(let failure):
                if policy.failOnError { outcome.denials.append(Denial(index: index, message: failure.message)) }
            case .success(.bool(true)):
                continue
            case .success:
                outcome.denials.append(
                    Denial(index: index, message: message(for: validation), reason: validation.reason ?? .invalid))
            }
        }
        for annotation in policy.auditAnnotations {
            switch evaluate(annotation.program, annotation.expression) {
            case .failure(let failure):
                if policy.failOnError { outcome.denials.append(Denial(index: 0, message: failure.message)) }
            case .success(.string(let text)):
                let value = AdmissionRegistrationValidation.trim(text)
                if !value.isEmpty { outcome.annotations.append((annotation.key, value)) }
            case .success(.null):
                continue
            case .success(let other):
                guard policy.failOnError else { continue }
                outcome.denials.append(
                    Denial(
                        index: 0,
                        message:
                            "valueExpression '\(annotation.expression)' resulted in unsupported return type: \(other.type). Return type must be either string or null."
                    ))
            }
        }
        return outcome
    }

    /// The validation's messageExpression when it yields a usable string, else its message, else upstream's
    /// `failed expression: …`.
    private mutating func message(for validation: AdmissionPolicyDefinition.Validation) -> String {
        if let program = validation.messageExpression.flatMap({ try? $0.get() }),
            case .success(.string(let text)) = evaluate(.success(program), program.source)
        {
            let trimmed = AdmissionRegistrationValidation.trim(text)
            if !trimmed.isEmpty, !trimmed.contains(where: { $0.isNewline }), trimmed.utf8.count <= 5 * 1024 {
                return trimmed
            }
        }
        let message = AdmissionRegistrationValidation.trim(validation.message)
        if !message.isEmpty { return message }
        return "failed expression: " + AdmissionRegistrationValidation.trim(validation.expression)
    }

    /// Evaluates one expression: its value, or upstream's error message.
    private mutating func evaluate(_ compiled: Result<CELProgram, CELError>, _ expression: String)
        -> Result<CELValue, Failure>
    {
        let program: CELProgram
        switch compiled {
        case .success(let value): program = value
        case .failure(let error): return .failure(Failure(message: CELAdmission.evaluationMessage(expression, error)))
        }
        guard remaining > 0 else { return .failure(Failure(message: Self.outOfBudget)) }
        var activation = bindings
        activation["variables"] = variablesValue([program])
        let limit = min(CELProgram.defaultCostLimit, remaining)
        do throws(CELError) {
            let (value, cost) = try program.evaluateReportingCost(activation, costLimit: limit)
            remaining -= cost
            return .success(value)
        } catch {
            if error.kind == .costLimitExceeded {
                remaining -= limit
                if limit < CELProgram.defaultCostLimit { return .failure(Failure(message: Self.outOfBudget)) }
            }
            // A missing member of `variables` is the failure of the variable the expression read.
            if error.message.hasPrefix("no such key: "),
                let failed = policy.variables.first(where: { "no such key: " + $0.name == error.message }),
                case .failure(let failure) = variables[failed.name]
            {
                return .failure(failure)
            }
            return .failure(Failure(message: CELAdmission.evaluationMessage(expression, error)))
        }
    }

    /// The `variables` map holding what `programs` read, each variable computed on first use.
    private mutating func variablesValue(_ programs: [CELProgram]) -> CELValue {
        guard !policy.variables.isEmpty else { return .map(CELMap()) }
        var needed: Set<String> = []
        for program in programs {
            guard program.references(variable: "variables") else { continue }
            guard let fields = program.fieldsSelected(on: "variables") else {
                needed = Set(policy.variables.map(\.name))
                break
            }
            needed.formUnion(fields)
        }
        var map = CELMap()
        for variable in policy.variables where needed.contains(variable.name) {
            if case .success(let value) = resolve(variable) { map.insert(key: .string(variable.name), value: value) }
        }
        return .map(map)
    }

    private mutating func resolve(_ variable: AdmissionPolicyDefinition.Variable) -> Result<CELValue, Failure> {
        if let known = variables[variable.name] { return known }
        // Marked first, so a variable reading itself fails instead of recursing.
        variables[variable.name] = .failure(Failure(message: "variable '\(variable.name)' refers to itself"))
        let result = evaluate(variable.program, variable.expression)
        variables[variable.name] = result
        return result
    }
}
