public import APIMachinery
public import Foundation

/// How the quota controller measures objects, as upstream's quota evaluators (and the API server's admission
/// plugin, whose numbers these must equal): which resource names a kind answers for, what one object uses,
/// and which objects a quota's scopes select. Objects are read as JSON so one code path serves every kind.
public struct QuotaUsage: Sendable {
    /// How a kind is measured.
    public enum Kind: Sendable, Hashable {
        case pods
        case services
        case claims
        /// Any other kind: one object counts one (`count/<resource>.<group>`, and a legacy alias).
        case objectCount
    }

    /// The kind's group (empty for core) and plural resource.
    public let group: String
    public let resource: String
    public let kind: Kind
    /// `count/pods`, `count/deployments.apps`.
    public let countName: String
    /// The pre-`count/` name some core kinds still answer to.
    let alias: String?

    static let legacyAliases: Set<String> = ["configmaps", "secrets", "replicationcontrollers", "resourcequotas"]
    /// The kinds measured for every quota whatever it limits, as upstream's registry of evaluators.
    public static let coreResources = [
        "pods", "services", "persistentvolumeclaims", "configmaps", "secrets", "replicationcontrollers",
        "resourcequotas",
    ]

    public init(group: String, resource: String) {
        self.group = group
        self.resource = resource
        countName = "count/" + (group.isEmpty ? resource : resource + "." + group)
        if group.isEmpty {
            switch resource {
            case "pods": kind = .pods
            case "services": kind = .services
            case "persistentvolumeclaims": kind = .claims
            default: kind = .objectCount
            }
            alias = Self.legacyAliases.contains(resource) ? resource : nil
        } else {
            kind = .objectCount
            alias = nil
        }
    }

    /// The group and resource a `count/<resource>.<group>` name counts, or nil for any other name.
    public static func counted(by name: String) -> (group: String, resource: String)? {
        guard name.hasPrefix("count/") else { return nil }
        let rest = name.dropFirst("count/".count)
        guard !rest.isEmpty else { return nil }
        guard let dot = rest.firstIndex(of: ".") else { return ("", String(rest)) }
        return (String(rest[rest.index(after: dot)...]), String(rest[..<dot]))
    }

    /// The kinds a quota limiting `hard` needs measured: the core ones and any `count/` name's kind.
    public static func evaluators(for hard: some Sequence<String>) -> [QuotaUsage] {
        var result = coreResources.map { QuotaUsage(group: "", resource: $0) }
        for name in hard.sorted() {
            guard let (group, resource) = counted(by: name),
                !result.contains(where: { $0.group == group && $0.resource == resource })
            else { continue }
            result.append(QuotaUsage(group: group, resource: resource))
        }
        return result
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

    /// The names among `names` this kind is measured under.
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

    /// What one object uses, at wall time `now`.
    public func usage(_ object: JSON, now: Date) -> [String: Quantity] {
        let one = Quantity(1)
        switch kind {
        case .pods:
            var result: [String: Quantity] = [countName: one]
            guard Self.countsCompute(object, now: now) else { return result }
            let spec = object["spec"]
            Self.add(
                &result,
                Self.computeUsage(requests: Self.podTotal(spec, "requests"), limits: Self.podTotal(spec, "limits")))
            return result
        case .services:
            let ports = Int64(object["spec"]?["ports"]?.arrayValue?.count ?? 0)
            var result: [String: Quantity] = [
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
            var result: [String: Quantity] = [countName: one, "persistentvolumeclaims": one]
            let storageClass =
                object["metadata"]?["annotations"]?["volume.beta.kubernetes.io/storage-class"]?.stringValue
                ?? object["spec"]?["storageClassName"]?.stringValue ?? ""
            if !storageClass.isEmpty { result[storageClass + Self.storageClassSuffix + "persistentvolumeclaims"] = one }
            var storage = Self.list(object["spec"]?["resources"]?["requests"])["storage"]
            if let allocated = Self.list(object["status"]?["allocatedResources"])["storage"],
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
            var result: [String: Quantity] = [countName: one]
            if let alias { result[alias] = one }
            return result
        }
    }

    /// Upstream's `QuotaV1Pod`: finished pods, and pods past their deletion grace period, use no compute.
    static func countsCompute(_ pod: JSON, now: Date) -> Bool {
        let phase = pod["status"]?["phase"]?.stringValue
        if phase == "Succeeded" || phase == "Failed" { return false }
        if let deletion = pod["metadata"]?["deletionTimestamp"]?.stringValue.flatMap(Timestamp.parse),
            let grace = pod["metadata"]?["deletionGracePeriodSeconds"]?.intValue,
            now.timeIntervalSince1970 > TimeInterval(deletion + grace)
        {
            return false
        }
        return true
    }

    /// A pod's compute usage under every name quota knows it by.
    static func computeUsage(requests: [String: Quantity], limits: [String: Quantity]) -> [String: Quantity] {
        var result: [String: Quantity] = ["pods": Quantity(1)]
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

    /// A pod's effective requests or limits: the containers' sum raised to any init container's need, with
    /// restartable (sidecar) init containers counted throughout, plus overhead, as upstream's `PodRequests`.
    static func podTotal(_ spec: JSON?, _ field: String) -> [String: Quantity] {
        var total: [String: Quantity] = [:]
        for container in spec?["containers"]?.arrayValue ?? [] { add(&total, list(container["resources"]?[field])) }
        var sidecars: [String: Quantity] = [:]
        var initPeak: [String: Quantity] = [:]
        for container in spec?["initContainers"]?.arrayValue ?? [] {
            var needs = list(container["resources"]?[field])
            if container["restartPolicy"]?.stringValue == "Always" {
                add(&total, needs)
                add(&sidecars, needs)
                needs = sidecars
            } else {
                add(&needs, sidecars)
            }
            for (key, value) in needs where initPeak[key].map({ value > $0 }) ?? true { initPeak[key] = value }
        }
        for (key, value) in initPeak where total[key].map({ value > $0 }) ?? true { total[key] = value }
        // Requests take the whole overhead; limits only where the containers set one, as upstream.
        for (key, value) in list(spec?["overhead"]) where field == "requests" || total[key] != nil {
            total[key] = (total[key] ?? Quantity()) + value
        }
        return total
    }

    /// A JSON resource list; entries that are not quantities are skipped (validation refuses them).
    static func list(_ json: JSON?) -> [String: Quantity] {
        var result: [String: Quantity] = [:]
        for (key, value) in json?.objectValue ?? JSONObject() {
            if let quantity = try? Quantity(json: value) { result[key] = quantity }
        }
        return result
    }

    /// Adds `other` into `list` entry by entry.
    public static func add(_ list: inout [String: Quantity], _ other: [String: Quantity]) {
        for (key, value) in other { list[key] = (list[key] ?? Quantity()) + value }
    }
}
