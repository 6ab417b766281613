import APIMachinery
import Foundation

/// How quota measures one kind of object, as upstream's `quota.Evaluator`: which quota resource names
/// it answers for, what one object uses, which quota scopes it can match, and the constraints a quota
/// puts on the object itself.
struct QuotaEvaluator: Sendable {
    enum Kind: Sendable {
        case pods
        case services
        case claims
        /// Any other kind: one object counts one (`count/<resource>.<group>`, and a legacy alias).
        case objectCount
    }

    let resource: GroupResource
    let kind: Kind
    /// `count/pods`, `count/deployments.apps`.
    let countName: String
    /// The pre-`count/` name some core kinds still answer to (`configmaps`, `secrets`…).
    let alias: String?

    static let legacyAliases: Set<String> = ["configmaps", "secrets", "replicationcontrollers", "resourcequotas"]

    init(_ resource: GroupResource) {
        self.resource = resource
        countName = "count/" + resource.description
        if resource.group.isEmpty {
            switch resource.resource {
            case "pods": kind = .pods
            case "services": kind = .services
            case "persistentvolumeclaims": kind = .claims
            default: kind = .objectCount
            }
            alias = Self.legacyAliases.contains(resource.resource) ? resource.resource : nil
        } else {
            kind = .objectCount
            alias = nil
        }
    }

    /// The kind a `count/<resource>.<group>` name counts, or nil for any other name.
    static func counted(by name: String) -> GroupResource? {
        guard name.hasPrefix("count/") else { return nil }
        let rest = name.dropFirst("count/".count)
        guard !rest.isEmpty else { return nil }
        if let dot = rest.firstIndex(of: ".") {
            return GroupResource(group: String(rest[rest.index(after: dot)...]), resource: String(rest[..<dot]))
        }
        return GroupResource(group: "", resource: String(rest))
    }

    /// Which writes can change usage: creates always; updates for services (their type can change) and
    /// claims (they can grow).
    func handles(_ operation: AdmissionAttributes.Operation) -> Bool {
        switch operation {
        case .create: true
        case .update: kind == .services || kind == .claims
        case .delete: false
        }
    }

    // MARK: Resource names

    static let podNames: Set<String> = [
        "count/pods", "pods", "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory",
        "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage",
    ]
    static let serviceNames: Set<String> = [
        "count/services", "services", "services.nodeports", "services.loadbalancers",
    ]
    static let claimNames: Set<String> = ["count/persistentvolumeclaims", "persistentvolumeclaims", "requests.storage"]
    static let storageClassSuffix = ".storageclass.storage.k8s.io/"

    /// The names among `names` this evaluator tracks.
    func matchingResources(_ names: some Sequence<String>) -> [String] {
        names.filter { name in
            switch kind {
            case .pods:
                Self.podNames.contains(name) || name.hasPrefix("hugepages-") || name.hasPrefix("requests.hugepages-")
                    || Self.isExtendedQuotaName(name)
            case .services: Self.serviceNames.contains(name)
            case .claims:
                Self.claimNames.contains(name)
                    || (name.contains(Self.storageClassSuffix)
                        && (name.hasSuffix("/requests.storage") || name.hasSuffix("/persistentvolumeclaims")))
            case .objectCount: name == countName || name == alias
            }
        }
    }

    /// `requests.<domain>/<name>` for extended resources outside `kubernetes.io`.
    static func isExtendedQuotaName(_ name: String) -> Bool {
        guard name.hasPrefix("requests.") else { return false }
        let resource = name.dropFirst("requests.".count)
        guard let slash = resource.firstIndex(of: "/") else { return false }
        let domain = resource[..<slash]
        return !(domain == "kubernetes.io" || domain.hasSuffix(".kubernetes.io")) && !resource.hasPrefix("requests.")
    }

    // MARK: Scopes

    /// One `scopes` entry or `scopeSelector.matchExpressions` term.
    struct ScopeSelector: Sendable {
        var scopeName: String
        var `operator`: String
        var values: [String]
    }

    static func scopeSelectors(_ quota: JSON) -> [ScopeSelector] {
        var selectors = (quota["spec"]?["scopes"]?.arrayValue ?? []).compactMap(\.stringValue).map {
            ScopeSelector(scopeName: $0, operator: "Exists", values: [])
        }
        for term in quota["spec"]?["scopeSelector"]?["matchExpressions"]?.arrayValue ?? [] {
            selectors.append(
                ScopeSelector(
                    scopeName: term["scopeName"]?.stringValue ?? "", operator: term["operator"]?.stringValue ?? "",
                    values: term["values"]?.arrayValue?.compactMap(\.stringValue) ?? []))
        }
        return selectors
    }

    /// Whether `object` is in every scope; only pods have scopes, so any scope excludes other kinds.
    func matches(_ selectors: [ScopeSelector], _ object: JSON) -> Bool {
        selectors.allSatisfy { selector in
            guard kind == .pods else { return false }
            let spec = object["spec"]
            switch selector.scopeName {
            case "Terminating": return Self.isTerminating(spec)
            case "NotTerminating": return !Self.isTerminating(spec)
            case "BestEffort": return Self.isBestEffort(spec)
            case "NotBestEffort": return !Self.isBestEffort(spec)
            case "PriorityClass":
                let priorityClass = spec?["priorityClassName"]?.stringValue ?? ""
                switch selector.operator {
                case "Exists": return !priorityClass.isEmpty
                case "DoesNotExist": return priorityClass.isEmpty
                case "In": return !priorityClass.isEmpty && selector.values.contains(priorityClass)
                case "NotIn": return priorityClass.isEmpty || !selector.values.contains(priorityClass)
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

    // MARK: Usage

    /// What one object uses.
    func usage(_ object: JSON, now: Date = Date()) -> ResourceList {
        let one = Quantity(1)
        switch kind {
        case .pods:
            var result: ResourceList = [countName: one]
            // Finished pods, and pods stuck past their grace period, use no compute; they still count.
            guard Self.countsCompute(object, now: now) else { return result }
            let requests = ResourceLists.pod(object["spec"], "requests", overhead: true)
            let limits = ResourceLists.pod(object["spec"], "limits", overhead: true)
            ResourceLists.add(&result, Self.computeUsage(requests: requests, limits: limits))
            return result
        case .services:
            let ports = Int64(object["spec"]?["ports"]?.arrayValue?.count ?? 0)
            var result: ResourceList = [
                countName: one, "services": one, "services.loadbalancers": Quantity(), "services.nodeports": Quantity(),
            ]
            switch object["spec"]?["type"]?.stringValue {
            case "NodePort": result["services.nodeports"] = Quantity(ports)
            case "LoadBalancer":
                result["services.loadbalancers"] = one
                if object["spec"]?["allocateLoadBalancerNodePorts"]?.boolValue ?? true {
                    result["services.nodeports"] = Quantity(ports)
                }
            default: break
            }
            return result
        case .claims:
            var result: ResourceList = [countName: one, "persistentvolumeclaims": one]
            let storageClass =
                object.annotations["volume.beta.kubernetes.io/storage-class"]
                ?? object["spec"]?["storageClassName"]?.stringValue ?? ""
            if !storageClass.isEmpty { result[storageClass + Self.storageClassSuffix + "persistentvolumeclaims"] = one }
            var storage = ResourceLists.parse(object["spec"]?["resources"]?["requests"])["storage"]
            if let allocated = ResourceLists.parse(object["status"]?["allocatedResources"])["storage"],
                storage.map({ allocated > $0 }) ?? true
            {
                storage = allocated
            }
            if let storage {
                result["requests.storage"] = storage
                if !storageClass.isEmpty {
                    result[storageClass + Self.storageClassSuffix + "requests.storage"] = storage
                }
            }
            return result
        case .objectCount:
            var result: ResourceList = [countName: one]
            if let alias { result[alias] = one }
            return result
        }
    }

    /// Upstream's `QuotaV1Pod`: terminal pods, and pods whose deletion grace period has passed, use no compute.
    static func countsCompute(_ pod: JSON, now: Date) -> Bool {
        let phase = pod["status"]?["phase"]?.stringValue
        if phase == "Succeeded" || phase == "Failed" { return false }
        if let deletion = pod.deletionTimestamp.flatMap(Timestamp.parse),
            let grace = pod["metadata"]?["deletionGracePeriodSeconds"]?.intValue,
            now.timeIntervalSince1970 > TimeInterval(deletion + grace)
        {
            return false
        }
        return true
    }

    /// A pod's (or one container's) compute usage under every name quota knows it by.
    static func computeUsage(requests: ResourceList, limits: ResourceList) -> ResourceList {
        var result: ResourceList = ["pods": Quantity(1)]
        for name in ["cpu", "memory", "ephemeral-storage"] {
            if let request = requests[name] {
                result[name] = request
                result["requests." + name] = request
            }
            if let limit = limits[name] { result["limits." + name] = limit }
        }
        for (name, request) in requests {
            if name.hasPrefix("hugepages-") {
                result[name] = request
                result["requests." + name] = request
            } else if name.contains("/"), isExtendedQuotaName("requests." + name) {
                result["requests." + name] = request
            }
        }
        return result
    }

    // MARK: Constraints

    static let computeNames: Set<String> = [
        "cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory",
    ]

    /// When a quota tracks cpu or memory, every container must state it (a rule upstream keeps for
    /// compatibility); the error names each missing resource with its containers.
    func constraintError(_ required: [String], _ object: JSON) -> String? {
        guard kind == .pods else { return nil }
        let requiredSet = Set(required).intersection(Self.computeNames)
        guard !requiredSet.isEmpty else { return nil }
        var missing: [String: Set<String>] = [:]
        let containers =
            (object["spec"]?["containers"]?.arrayValue ?? []) + (object["spec"]?["initContainers"]?.arrayValue ?? [])
        for container in containers {
            let usage = Self.computeUsage(
                requests: ResourceLists.parse(container["resources"]?["requests"]),
                limits: ResourceLists.parse(container["resources"]?["limits"]))
            for name in requiredSet where usage[name] == nil {
                missing[name, default: []].insert(container["name"]?.stringValue ?? "")
            }
        }
        guard !missing.isEmpty else { return nil }
        let parts = missing.keys.sorted().map { "\($0) for: \((missing[$0] ?? []).sorted().joined(separator: ","))" }
        return "must specify " + parts.joined(separator: "; ")
    }
}
