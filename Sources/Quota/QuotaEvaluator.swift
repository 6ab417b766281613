public import APIMachinery
public import Foundation

/// How quota measures one kind of object, as upstream's `quota.Evaluator`: which quota resource names
/// it answers for, what one object uses, and the constraints a quota puts on the object itself. The
/// API server's ResourceQuota admission and the controller-manager's resourcequota controller both
/// measure with it, so a charge and a recount always agree. Objects are read as JSON so one code path
/// serves every kind.
public struct QuotaEvaluator: Sendable {
    /// How a kind is measured.
    public enum Kind: Sendable, Hashable {
        case pods
        case services
        case claims
        /// Any other kind: one object counts one (`count/<resource>.<group>`, and a legacy alias).
        case objectCount
    }

    public let resource: GroupResource
    public let kind: Kind
    /// `count/pods`, `count/deployments.apps`.
    public let countName: String
    /// The pre-`count/` name some core kinds still answer to (`configmaps`, `secrets`…).
    public let alias: String?

    static let legacyAliases: Set<String> = ["configmaps", "secrets", "replicationcontrollers", "resourcequotas"]
    /// The kinds measured for every quota whatever it limits, as upstream's registry of evaluators.
    public static let coreResources = [
        "pods", "services", "persistentvolumeclaims", "configmaps", "secrets", "replicationcontrollers",
        "resourcequotas",
    ].map { GroupResource(group: "", resource: $0) }

    public init(_ resource: GroupResource) {
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
    public static func counted(by name: String) -> GroupResource? {
        guard name.hasPrefix("count/") else { return nil }
        let rest = name.dropFirst("count/".count)
        guard !rest.isEmpty else { return nil }
        if let dot = rest.firstIndex(of: ".") {
            return GroupResource(group: String(rest[rest.index(after: dot)...]), resource: String(rest[..<dot]))
        }
        return GroupResource(group: "", resource: String(rest))
    }

    /// The evaluators a quota limiting `hard` needs: the core kinds' and any `count/` name's kind.
    public static func evaluators(for hard: some Sequence<String>) -> [QuotaEvaluator] {
        var kinds = coreResources
        for name in hard.sorted() {
            if let counted = counted(by: name), !kinds.contains(counted) { kinds.append(counted) }
        }
        return kinds.map(QuotaEvaluator.init)
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
    public func matchingResources(_ names: some Sequence<String>) -> [String] {
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

    // MARK: Usage

    /// What one object uses, at wall time `now` (a pod past its deletion grace period uses no compute).
    public func usage(_ object: JSON, now: Date = Date()) -> ResourceList {
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
    public func constraintError(_ required: [String], _ object: JSON) -> String? {
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
