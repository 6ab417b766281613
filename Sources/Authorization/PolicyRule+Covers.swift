/// Rule coverage, as upstream's `validation.Covers`: whether one set of rules grants at least what another
/// does. Escalation checks and the bootstrap-policy reconciler both rest on it.
extension PolicyRule {
    /// Splits a rule into rules of one group, one resource, one verb and at most one name (or one URL and
    /// one verb), so each piece is either wholly covered by a single owner rule or not at all.
    public var breakdown: [PolicyRule] {
        var pieces: [PolicyRule] = []
        for group in apiGroups {
            for resource in resources {
                for verb in verbs {
                    if resourceNames.isEmpty {
                        pieces.append(PolicyRule(verbs: [verb], apiGroups: [group], resources: [resource]))
                    } else {
                        for name in resourceNames {
                            pieces.append(
                                PolicyRule(
                                    verbs: [verb], apiGroups: [group], resources: [resource], resourceNames: [name]))
                        }
                    }
                }
            }
        }
        for url in nonResourceURLs {
            for verb in verbs { pieces.append(PolicyRule(verbs: [verb], nonResourceURLs: [url])) }
        }
        return pieces
    }

    /// Whether this (owner) rule covers `piece`, a rule from `breakdown`.
    func covers(_ piece: PolicyRule) -> Bool {
        let verbsCovered = verbs.contains("*") || Set(verbs).isSuperset(of: piece.verbs)
        let groupsCovered = apiGroups.contains("*") || Set(apiGroups).isSuperset(of: piece.apiGroups)
        let namesCovered =
            piece.resourceNames.isEmpty
            ? resourceNames.isEmpty
            : resourceNames.isEmpty || Set(resourceNames).isSuperset(of: piece.resourceNames)
        return verbsCovered && groupsCovered && resourcesCover(piece.resources) && urlsCover(piece.nonResourceURLs)
            && namesCovered
    }

    private func resourcesCover(_ wanted: [String]) -> Bool {
        if resources.contains("*") || Set(resources).isSuperset(of: wanted) { return true }
        for path in wanted where !resources.contains(path) {
            guard let slash = path.firstIndex(of: "/") else { return false }
            if !resources.contains("*/" + path[path.index(after: slash)...]) { return false }
        }
        return true
    }

    private func urlsCover(_ wanted: [String]) -> Bool {
        wanted.allSatisfy { path in
            nonResourceURLs.contains { owner in
                owner == path || (owner.hasSuffix("*") && path.hasPrefix(owner.trimmingSuffix("*")))
            }
        }
    }
}

/// Operations on rule lists.
public enum PolicyRules {
    /// The pieces of `servant` that no rule of `owner` covers; empty when `owner` covers it all.
    public static func uncovered(by owner: [PolicyRule], _ servant: [PolicyRule]) -> [PolicyRule] {
        servant.flatMap(\.breakdown).filter { piece in !owner.contains { $0.covers(piece) } }
    }

    /// Merges rules that name one group and one resource and nothing else, differing only in verbs, as
    /// upstream's `CompactRules` does before printing what is missing.
    public static func compact(_ rules: [PolicyRule]) -> [PolicyRule] {
        var compacted: [PolicyRule] = []
        var simple: [GroupResourceKey: Int] = [:]
        var merged: [PolicyRule] = []
        for rule in rules {
            guard rule.resourceNames.isEmpty, rule.nonResourceURLs.isEmpty, rule.apiGroups.count == 1,
                rule.resources.count == 1
            else {
                compacted.append(rule)
                continue
            }
            let key = GroupResourceKey(group: rule.apiGroups[0], resource: rule.resources[0])
            if let index = simple[key] {
                merged[index].verbs += rule.verbs
            } else {
                simple[key] = merged.count
                merged.append(rule)
            }
        }
        return compacted + merged
    }

    private struct GroupResourceKey: Hashable {
        var group: String
        var resource: String
    }
}
