public import APIMachinery

/// A CustomResourceDefinition version's `openAPIV3Schema`, checked to be structural and ready to validate,
/// prune and default custom resources, as upstream's apiextensions-apiserver `pkg/apiserver/schema`.
///
/// The API server uses it in this order for a write (and only `applyDefaults` when reading from storage):
///
///     let schema = try StructuralSchema(openAPIV3Schema: version["schema"]?["openAPIV3Schema"] ?? .null)
///     var object = body
///     let unknown = schema.prune(&object)      // `unknown field "spec.x"` warnings or errors
///     schema.applyDefaults(&object)
///     let errors = schema.validate(object)     // or validateUpdate(object, old:) for updates
///
/// `init` throws `StructuralSchemaError` with upstream's field errors under `fieldPath`
/// (`spec.versions[i].schema.openAPIV3Schema`), so a CRD's own validation can report them as they are.
public struct StructuralSchema: Sendable {
    /// The parsed root of the schema.
    public let root: SchemaNode
    /// Evaluates `x-kubernetes-validations`: the `CEL` module's, rules compiled once; nil skips the rules.
    public var ruleEvaluator: (any ValidationRuleEvaluator)?

    /// Parses and checks `openAPIV3Schema`; errors name paths under `fieldPath`.
    public init(
        openAPIV3Schema: JSON, fieldPath: String = "spec.versions[0].schema.openAPIV3Schema"
    ) throws(StructuralSchemaError) {
        let errors = StructuralCheck.check(openAPIV3Schema, at: fieldPath)
        guard errors.isEmpty else { throw StructuralSchemaError(errors: errors) }
        root = SchemaNode(parsing: openAPIV3Schema)
        ruleEvaluator = CELRuleEvaluator(root)
    }

    /// The structural check alone: upstream's field errors for a schema, empty when it is structural.
    public static func check(
        openAPIV3Schema: JSON, fieldPath: String = "spec.versions[0].schema.openAPIV3Schema"
    ) -> [FieldError] {
        StructuralCheck.check(openAPIV3Schema, at: fieldPath)
    }

    /// Validates a custom resource (a create): schema, embedded resources, list types, then CEL rules.
    public func validate(_ object: JSON) -> [FieldError] {
        validate(object, old: nil)
    }

    /// Validates an update; transition rules (those using `oldSelf`) see `old`.
    public func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        validate(object, old: old)
    }

    func validate(_ object: JSON, old: JSON?) -> [FieldError] {
        var errors = ValueValidator(pathPrefix: nil).validate(object, against: root)
        errors += EmbeddedResources.validate(object, against: root)
        errors += ListTypes.validate(object, against: root, path: "")
        if let ruleEvaluator {
            errors += RuleEvaluation(evaluator: ruleEvaluator).validate(object, old: old, against: root, path: "")
        }
        return errors
    }

    /// Removes fields the schema does not know, keeping `apiVersion`, `kind` and `metadata` at the root and in
    /// embedded resources; returns the removed fields' paths (`spec.x`, `spec.items[0].y`), sorted as upstream.
    @discardableResult
    public func prune(_ object: inout JSON) -> [String] {
        Pruning.prune(&object, root)
    }

    /// Applies `default` values (deep copies) where fields are missing or null without `nullable`, then drops
    /// the remaining non-nullable nulls that have no default, as upstream does on requests and storage reads.
    public func applyDefaults(_ object: inout JSON) {
        Defaulting.apply(&object, root)
        Defaulting.pruneNonNullableNulls(&object, root)
    }

    /// Every `x-kubernetes-validations` rule with the schema path it is declared at (e.g. `spec.replicas`,
    /// `spec.items[*]`); what a CEL evaluator needs to compile them once per CRD version.
    public var validationRules: [(path: String, rule: ValidationRule)] {
        var rules: [(path: String, rule: ValidationRule)] = []
        root.collectRules(path: "", into: &rules)
        return rules
    }
}

/// A CRD schema that is not structural, or otherwise invalid, with upstream's field errors.
public struct StructuralSchemaError: Error, Sendable, CustomStringConvertible {
    public var errors: [FieldError]
    public init(errors: [FieldError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: ", ") }
}
