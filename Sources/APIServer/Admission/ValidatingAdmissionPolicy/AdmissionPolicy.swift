import APIMachinery
import CEL

/// A policy's or binding's `matchResources`, read once: selectors, rules and exclusions.
struct PolicyMatchResources: Sendable {
    /// One NamedRuleWithOperations: a webhook rule limited to some object names.
    struct Rule: Sendable {
        var rule: WebhookRule
        var resourceNames: [String]
    }

    var namespaceSelector: LabelSelector
    var objectSelector: LabelSelector
    var resourceRules: [Rule]
    var excludeResourceRules: [Rule]
    var equivalent: Bool
    /// Why a selector did not parse; upstream reports it only for requests the rules match.
    var namespaceSelectorError: String?
    var objectSelectorError: String?

    init(json: JSON) {
        func selector(_ field: String) -> Result<LabelSelector, APIError> {
            guard let value = json[field], value != .null else { return .success(.everything) }
            do {
                return .success(try LabelSelector(object: value))
            } catch {
                return .failure(error)
            }
        }
        func rules(_ field: String) -> [Rule] {
            (json[field]?.arrayValue ?? []).map { item in
                Rule(
                    rule: WebhookRule(json: item),
                    resourceNames: item["resourceNames"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            }
        }
        // A broken selector is never evaluated; the placeholder matches nothing.
        let nothing = LabelSelector(requirements: [.in("", [])])
        let namespaces = selector("namespaceSelector")
        let objects = selector("objectSelector")
        namespaceSelector = (try? namespaces.get()) ?? nothing
        objectSelector = (try? objects.get()) ?? nothing
        if case .failure(let error) = namespaces { namespaceSelectorError = error.message }
        if case .failure(let error) = objects { objectSelectorError = error.message }
        resourceRules = rules("resourceRules")
        excludeResourceRules = rules("excludeResourceRules")
        equivalent = json["matchPolicy"]?.stringValue != "Exact"
    }
}

/// A ValidatingAdmissionPolicy, read and compiled once when the cache sees it change.
struct AdmissionPolicyDefinition: Sendable {
    struct Validation: Sendable {
        var expression: String
        var program: Result<CELProgram, CELError>
        var message: String
        var messageExpression: Result<CELProgram, CELError>?
        /// `Forbidden`, `Invalid` or `RequestEntityTooLarge`; nil means Invalid.
        var reason: StatusReason?
    }

    struct AuditAnnotation: Sendable {
        var key: String
        var expression: String
        var program: Result<CELProgram, CELError>
    }

    struct Variable: Sendable {
        var name: String
        var expression: String
        var program: Result<CELProgram, CELError>
    }

    /// The apiVersion and kind of the params, when the policy takes any.
    struct ParamKind: Sendable, Equatable {
        var apiVersion: String
        var kind: String

        var group: String { apiVersion.contains("/") ? String(apiVersion.prefix { $0 != "/" }) : "" }
        var version: String {
            apiVersion.contains("/") ? String(apiVersion.drop { $0 != "/" }.dropFirst()) : apiVersion
        }
    }

    var name: String
    var failOnError: Bool
    var paramKind: ParamKind?
    /// Nil when the policy has no `matchConstraints`: it then matches nothing.
    var matchConstraints: PolicyMatchResources?
    var matchConditions: MatchConditions
    var variables: [Variable]
    var validations: [Validation]
    var auditAnnotations: [AuditAnnotation]

    init(json: JSON) {
        let spec = json["spec"] ?? .object(JSONObject())
        let declared = ValidatingAdmissionPolicyStrategy.variables(spec)
        func compile(_ expression: String) -> Result<CELProgram, CELError> {
            CELAdmission.compile(expression, variables: declared)
        }
        name = json.name ?? ""
        failOnError = spec["failurePolicy"]?.stringValue != "Ignore"
        paramKind = spec["paramKind"].map {
            ParamKind(apiVersion: $0["apiVersion"]?.stringValue ?? "", kind: $0["kind"]?.stringValue ?? "")
        }
        matchConstraints = spec["matchConstraints"].map(PolicyMatchResources.init(json:))
        matchConditions = MatchConditions(json: spec["matchConditions"], variables: declared)
        variables = (spec["variables"]?.arrayValue ?? []).map { item in
            let expression = item["expression"]?.stringValue ?? ""
            return Variable(name: item["name"]?.stringValue ?? "", expression: expression, program: compile(expression))
        }
        validations = (spec["validations"]?.arrayValue ?? []).map { item in
            let expression = item["expression"]?.stringValue ?? ""
            let messageExpression = item["messageExpression"]?.stringValue ?? ""
            return Validation(
                expression: expression, program: compile(expression), message: item["message"]?.stringValue ?? "",
                messageExpression: messageExpression.isEmpty ? nil : compile(messageExpression),
                reason: item["reason"]?.stringValue.flatMap(StatusReason.init(rawValue:)))
        }
        auditAnnotations = (spec["auditAnnotations"]?.arrayValue ?? []).map { item in
            let expression = item["valueExpression"]?.stringValue ?? ""
            return AuditAnnotation(
                key: item["key"]?.stringValue ?? "", expression: expression, program: compile(expression))
        }
    }
}

/// A ValidatingAdmissionPolicyBinding, read once when the cache sees it change.
struct AdmissionPolicyBinding: Sendable {
    enum Action: String, Sendable {
        case deny = "Deny"
        case warn = "Warn"
        case audit = "Audit"
    }

    struct ParamRef: Sendable {
        var name: String
        var namespace: String
        /// Nil when the reference names one object.
        var selector: LabelSelector?
        var denyWhenMissing: Bool
    }

    var name: String
    var policyName: String
    var paramRef: ParamRef?
    /// Nil matches everything the policy matches.
    var matchResources: PolicyMatchResources?
    var actions: [Action]
    /// The actions as written, for the `validation_failure` audit annotation.
    var actionNames: [String]

    init(json: JSON) {
        let spec = json["spec"] ?? .object(JSONObject())
        name = json.name ?? ""
        policyName = spec["policyName"]?.stringValue ?? ""
        paramRef = spec["paramRef"].map { ref in
            ParamRef(
                name: ref["name"]?.stringValue ?? "", namespace: ref["namespace"]?.stringValue ?? "",
                selector: ref["selector"].map {
                    (try? LabelSelector(object: $0)) ?? LabelSelector(requirements: [.in("", [])])
                },
                denyWhenMissing: ref["parameterNotFoundAction"]?.stringValue == "Deny")
        }
        matchResources = spec["matchResources"].map(PolicyMatchResources.init(json:))
        actionNames = spec["validationActions"]?.arrayValue?.compactMap(\.stringValue) ?? []
        actions = actionNames.compactMap(Action.init(rawValue:))
    }
}
