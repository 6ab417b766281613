/// ClusterRole aggregation, as upstream's clusterrole-aggregation controller computes it: an aggregated role's
/// rules are the rules of every ClusterRole its selectors match, in role-name order, without repeats.
extension RBACSnapshot {
    /// The rules `role` should hold, or nil when it has no aggregation rule.
    public func aggregatedRules(for role: Role) -> [PolicyRule]? {
        guard role.isAggregated, let selectors = role.aggregationSelectors else { return nil }
        var sources: [Role] = []
        for selector in selectors {
            sources += clusterRoles.values.filter { selector.matches($0.labels) }
        }
        sources.sort { $0.name < $1.name }
        var rules: [PolicyRule] = []
        for source in sources where source.name != role.name {
            for rule in source.rules where !rules.contains(rule) { rules.append(rule) }
        }
        return rules
    }

    /// The aggregated ClusterRoles whose stored rules differ from what aggregation gives, with the rules they
    /// should have; the server writes these into the stored objects.
    public func staleAggregations() -> [(name: String, rules: [PolicyRule])] {
        clusterRoles.values.sorted { $0.name < $1.name }.compactMap { role in
            guard let rules = aggregatedRules(for: role), rules != role.rules else { return nil }
            return (role.name, rules)
        }
    }
}
