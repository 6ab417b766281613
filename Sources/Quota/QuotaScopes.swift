public import APIMachinery

/// A quota's scopes (`spec.scopes` and `spec.scopeSelector`), as upstream's scope matching: only pods have
/// scopes, so a scoped quota counts no other kind.
public struct QuotaScopes: Sendable {
    /// One `scopes` entry or `scopeSelector.matchExpressions` term.
    struct Term: Sendable {
        var scopeName: String
        var `operator`: String
        var values: [String]
    }

    let terms: [Term]

    /// The scopes of a quota's `spec`.
    public init(spec: JSON?) {
        var terms = (spec?["scopes"]?.arrayValue ?? []).compactMap(\.stringValue).map {
            Term(scopeName: $0, operator: "Exists", values: [])
        }
        for term in spec?["scopeSelector"]?["matchExpressions"]?.arrayValue ?? [] {
            terms.append(
                Term(
                    scopeName: term["scopeName"]?.stringValue ?? "", operator: term["operator"]?.stringValue ?? "",
                    values: term["values"]?.arrayValue?.compactMap(\.stringValue) ?? []))
        }
        self.terms = terms
    }

    /// Whether an object of `kind` is in every scope.
    public func matches(_ kind: QuotaEvaluator.Kind, _ object: JSON) -> Bool {
        terms.allSatisfy { term in
            guard kind == .pods else { return false }
            let spec = object["spec"]
            switch term.scopeName {
            case "Terminating": return Self.isTerminating(spec)
            case "NotTerminating": return !Self.isTerminating(spec)
            case "BestEffort": return Self.isBestEffort(spec)
            case "NotBestEffort": return !Self.isBestEffort(spec)
            case "PriorityClass":
                let priorityClass = spec?["priorityClassName"]?.stringValue ?? ""
                switch term.operator {
                case "Exists": return !priorityClass.isEmpty
                case "DoesNotExist": return priorityClass.isEmpty
                case "In": return !priorityClass.isEmpty && term.values.contains(priorityClass)
                case "NotIn": return priorityClass.isEmpty || !term.values.contains(priorityClass)
                default: return false
                }
            case "CrossNamespacePodAffinity": return Self.usesCrossNamespaceAffinity(spec)
            default: return false
            }
        }
    }

    static func isTerminating(_ spec: JSON?) -> Bool { (spec?["activeDeadlineSeconds"]?.intValue ?? -1) >= 0 }

    /// No container asks for or is limited in cpu or memory.
    static func isBestEffort(_ spec: JSON?) -> Bool {
        let containers = (spec?["containers"]?.arrayValue ?? []) + (spec?["initContainers"]?.arrayValue ?? [])
        return !containers.contains { container in
            ["requests", "limits"].contains { field in
                let list = ResourceLists.parse(container["resources"]?[field])
                return ["cpu", "memory"].contains { list[$0].map { !$0.isZero } ?? false }
            }
        }
    }

    /// Some pod (anti-)affinity term reaches other namespaces.
    static func usesCrossNamespaceAffinity(_ spec: JSON?) -> Bool {
        for kind in ["podAffinity", "podAntiAffinity"] {
            let affinity = spec?["affinity"]?[kind]
            var terms = affinity?["requiredDuringSchedulingIgnoredDuringExecution"]?.arrayValue ?? []
            terms += (affinity?["preferredDuringSchedulingIgnoredDuringExecution"]?.arrayValue ?? []).compactMap {
                $0["podAffinityTerm"]
            }
            if terms.contains(where: { $0["namespaceSelector"] != nil || !($0["namespaces"]?.arrayValue ?? []).isEmpty }
            ) {
                return true
            }
        }
        return false
    }
}
