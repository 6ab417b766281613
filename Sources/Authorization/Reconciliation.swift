public import APIMachinery

/// Upstream's bootstrap-policy reconciler (`reconciliation.ReconcileRoleRequest` and its binding twin, with
/// extra permissions and subjects kept): objects an administrator marked `autoupdate: "false"` are left
/// alone; otherwise missing labels, annotations, rules, aggregation selectors and subjects are added.
public enum Reconciliation {
    /// What to do with an existing binding.
    public enum BindingAction: Sendable, Equatable {
        case none
        case update(JSON)
        /// The role reference differs and cannot be changed in place: delete, then create this.
        case recreate(JSON)
    }

    static func isProtected(_ existing: JSON) -> Bool {
        existing.annotations[BootstrapPolicy.autoupdateAnnotation] == "false"
    }

    /// The Role or ClusterRole to write back, or nil when `existing` already grants what `expected` does.
    public static func reconcileRole(existing: JSON, expected: JSON) -> JSON? {
        guard !isProtected(existing) else { return nil }
        var result = existing
        mergeMetadata(&result, from: expected)
        let existingRules = (existing["rules"]?.arrayValue ?? []).map(PolicyRule.init(json:))
        let expectedRules = (expected["rules"]?.arrayValue ?? []).map(PolicyRule.init(json:))
        let missing = PolicyRules.uncovered(by: existingRules, expectedRules)
        if !missing.isEmpty {
            result["rules"] = .array((existing["rules"]?.arrayValue ?? []) + missing.map(\.json))
        }
        if let wanted = expected["aggregationRule"]?["clusterRoleSelectors"]?.arrayValue {
            let have = existing["aggregationRule"]?["clusterRoleSelectors"]?.arrayValue ?? []
            let missingSelectors = wanted.filter { !have.contains($0) }
            if !missingSelectors.isEmpty {
                result.set(["aggregationRule", "clusterRoleSelectors"], to: .array(have + missingSelectors))
            }
        }
        // Not a ternary: JSON is nil-literal expressible, so `nil` there would be JSON.null.
        if result == existing { return nil }
        return result
    }

    /// The action for an existing RoleBinding or ClusterRoleBinding.
    public static func reconcileBinding(existing: JSON, expected: JSON) -> BindingAction {
        guard !isProtected(existing) else { return .none }
        if existing["roleRef"] != expected["roleRef"] { return .recreate(expected) }
        var result = existing
        mergeMetadata(&result, from: expected)
        let have = existing["subjects"]?.arrayValue ?? []
        let haveSubjects = have.map(Subject.init(json:))
        let missing = (expected["subjects"]?.arrayValue ?? []).filter {
            !haveSubjects.contains(Subject(json: $0))
        }
        if !missing.isEmpty { result["subjects"] = .array(have + missing) }
        return result == existing ? .none : .update(result)
    }

    /// Adds the expected labels and annotations the object lacks; values already set win.
    static func mergeMetadata(_ object: inout JSON, from expected: JSON) {
        for field in ["labels", "annotations"] {
            var merged = object["metadata"]?[field]?.objectValue ?? JSONObject()
            for (key, value) in expected["metadata"]?[field]?.objectValue ?? JSONObject() where merged[key] == nil {
                merged[key] = value
            }
            if !merged.isEmpty { object.setMeta(field, .object(merged)) }
        }
    }
}
