import APIMachinery
import CEL

/// The CEL environment admission gives its expressions, shared by ValidatingAdmissionPolicy and webhooks'
/// `matchConditions`: which variables each may read, how an expression is compiled (and refused at create
/// with upstream's `compilation failed: …`), and the `request` value, as upstream's admission CEL library.
///
/// There is no `authorizer` variable yet (the CEL module has no authorizer library), so an expression
/// naming it is refused when compiled.
enum CELAdmission {
    /// What a policy's validations, messageExpressions, auditAnnotations and variables may read.
    static let policyVariables: Set<String> = [
        "object", "oldObject", "request", "params", "namespaceObject", "variables",
    ]
    /// A webhook's matchConditions see the request and its objects, never params or variables.
    static let webhookVariables: Set<String> = ["object", "oldObject", "request"]

    /// Compiles `expression` against `variables`.
    static func compile(_ expression: String, variables: Set<String>) -> Result<CELProgram, CELError> {
        do throws(CELError) {
            return .success(try CELProgram(compiling: expression, variables: variables))
        } catch {
            return .failure(error)
        }
    }

    /// The field error upstream's validation reports for an expression that does not compile, if any.
    static func compileErrors(_ expression: String, variables: Set<String>, path: String) -> [FieldError] {
        guard case .failure(let error) = compile(expression, variables: variables) else { return [] }
        return [.invalid(path, .string(expression), "compilation failed: " + error.message)]
    }

    /// Upstream's runtime error text for an expression that failed to evaluate.
    static func evaluationMessage(_ expression: String, _ error: CELError) -> String {
        "expression '\(expression)' resulted in error: \(error.message)"
    }

    /// The `request` variable: upstream's AdmissionRequest as the expression's matched version sees it
    /// (`kind` and `resource` are the matched ones, `requestKind` and `requestResource` the request's own),
    /// without its objects, which are bound as `object` and `oldObject`.
    static func request(_ attributes: AdmissionAttributes, resource: GroupVersionResource, kind: GroupVersionKind)
        -> CELValue
    {
        func kindValue(_ kind: GroupVersionKind) -> CELValue {
            .object([("group", .string(kind.group)), ("version", .string(kind.version)), ("kind", .string(kind.kind))])
        }
        func resourceValue(_ resource: GroupVersionResource) -> CELValue {
            .object([
                ("group", .string(resource.group)), ("version", .string(resource.version)),
                ("resource", .string(resource.resource)),
            ])
        }
        let requested = GroupVersionResource(
            group: attributes.resource.group, version: attributes.kind.version, resource: attributes.resource.resource)
        var entries: [(String, CELValue)] = [("uid", .string("")), ("kind", kindValue(kind))]
        entries.append(("resource", resourceValue(resource)))
        if !attributes.subresource.isEmpty { entries.append(("subResource", .string(attributes.subresource))) }
        entries.append(("requestKind", kindValue(attributes.kind)))
        entries.append(("requestResource", resourceValue(requested)))
        if !attributes.subresource.isEmpty { entries.append(("requestSubResource", .string(attributes.subresource))) }
        if !attributes.name.isEmpty { entries.append(("name", .string(attributes.name))) }
        if let namespace = attributes.namespace, !namespace.isEmpty {
            entries.append(("namespace", .string(namespace)))
        }
        entries.append(("operation", .string(attributes.operation.rawValue)))
        entries.append(("userInfo", CELValue(json: AdmissionReview.userInfo(attributes.user))))
        entries.append(("dryRun", .bool(attributes.dryRun)))
        entries.append(("options", CELValue(json: AdmissionReview.options(attributes))))
        return .object(entries)
    }

    /// The variables every admission expression sees: the objects in the matched version (`null` where
    /// absent, as on a create's `oldObject` or a delete's `object`) and `request`.
    static func bindings(
        _ attributes: AdmissionAttributes, resource: GroupVersionResource, kind: GroupVersionKind, object: JSON?,
        oldObject: JSON?
    ) -> [String: CELValue] {
        [
            "object": object.map(CELValue.init(json:)) ?? .null,
            "oldObject": oldObject.map(CELValue.init(json:)) ?? .null,
            "request": request(attributes, resource: resource, kind: kind),
        ]
    }
}

/// A webhook's or policy's `matchConditions`, compiled once when the configuration is read. Upstream's
/// rules: any condition false skips the webhook or policy; otherwise any error follows the failure policy
/// (Ignore skips, Fail refuses); otherwise it applies.
struct MatchConditions: Sendable, Equatable {
    struct Condition: Sendable {
        var name: String
        var expression: String
        var program: Result<CELProgram, CELError>
    }

    var conditions: [Condition]

    init(conditions: [Condition] = []) {
        self.conditions = conditions
    }

    /// Reads `matchConditions` from a webhook or policy spec.
    init(json: JSON?, variables: Set<String>) {
        conditions = (json?.arrayValue ?? []).map { item in
            let expression = item["expression"]?.stringValue ?? ""
            return Condition(
                name: item["name"]?.stringValue ?? "", expression: expression,
                program: CELAdmission.compile(expression, variables: variables))
        }
    }

    var isEmpty: Bool { conditions.isEmpty }

    /// What the conditions decided.
    enum Outcome: Sendable, Equatable {
        case matches
        /// A condition was false (its name), or one failed under `Ignore`.
        case skipped(String)
        /// A condition failed under `Fail`; upstream's message.
        case failed(String)
    }

    /// Evaluates every condition with `bindings`; errors count only when no condition is false.
    func evaluate(_ bindings: [String: CELValue], ignoreErrors: Bool) -> Outcome {
        var errors: [String] = []
        for condition in conditions {
            switch condition.program {
            case .failure(let error):
                errors.append(CELAdmission.evaluationMessage(condition.expression, error))
            case .success(let program):
                do throws(CELError) {
                    let value = try program.evaluate(bindings)
                    if value == .bool(false) { return .skipped(condition.name) }
                    // Upstream's checker refuses non-boolean conditions at create; without one, they fail here.
                    if value != .bool(true) { throw CELError(.evaluation, "no such overload") }
                } catch {
                    errors.append(CELAdmission.evaluationMessage(condition.expression, error))
                }
            }
        }
        guard !errors.isEmpty else { return .matches }
        if ignoreErrors { return .skipped("") }
        // Upstream aggregates several errors as a bracketed list.
        return .failed(errors.count == 1 ? errors[0] : "[" + errors.joined(separator: ", ") + "]")
    }

    static func == (lhs: MatchConditions, rhs: MatchConditions) -> Bool {
        lhs.conditions.map(\.name) == rhs.conditions.map(\.name)
            && lhs.conditions.map(\.expression) == rhs.conditions.map(\.expression)
    }
}
