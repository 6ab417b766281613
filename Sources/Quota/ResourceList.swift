public import APIMachinery

/// A `ResourceList` (resource name → quantity), as LimitRanger, quota admission and the quota controller
/// compute with them.
public typealias ResourceList = [String: Quantity]

/// Arithmetic on resource lists, as upstream's `quota` helpers.
public enum ResourceLists {
    /// Reads a JSON resource list; entries that are not quantities are skipped (validation refuses them).
    public static func parse(_ json: JSON?) -> ResourceList {
        var list: ResourceList = [:]
        for (key, value) in json?.objectValue ?? JSONObject() {
            if let quantity = try? Quantity(json: value) { list[key] = quantity }
        }
        return list
    }

    /// The JSON form, keys sorted as Go writes maps.
    public static func json(_ list: ResourceList) -> JSON {
        .object(JSONObject(list.keys.sorted().map { ($0, list[$0]?.json ?? .string("0")) }))
    }

    /// Adds `other` into `list` entry by entry.
    public static func add(_ list: inout ResourceList, _ other: ResourceList) {
        for (key, value) in other { list[key] = (list[key] ?? Quantity()) + value }
    }

    /// `a + b` entry by entry.
    public static func sum(_ a: ResourceList, _ b: ResourceList) -> ResourceList {
        var result = a
        add(&result, b)
        return result
    }

    /// Raises each entry of `list` to `other`'s where that is larger (upstream's `maxResourceList`).
    public static func raise(_ list: inout ResourceList, to other: ResourceList) {
        for (key, value) in other where list[key].map({ value > $0 }) ?? true { list[key] = value }
    }

    /// Only the entries named in `names` (upstream's `quota.Mask`).
    public static func mask(_ list: ResourceList, _ names: some Sequence<String>) -> ResourceList {
        var result: ResourceList = [:]
        for name in names { if let value = list[name] { result[name] = value } }
        return result
    }

    /// `key=value` pairs in key order, comma-separated (upstream's quota `prettyPrint`).
    public static func pretty(_ list: ResourceList) -> String {
        list.keys.sorted().map { "\($0)=\(list[$0] ?? Quantity())" }.joined(separator: ",")
    }

    /// A pod's effective requests (`field` "requests") or limits ("limits"): the containers' sum, raised to
    /// what any init container needs while it runs, with restartable (sidecar) init containers counted for
    /// the pod's whole life, as upstream's `PodRequests`/`PodLimits`.
    public static func pod(_ spec: JSON?, _ field: String, overhead: Bool) -> ResourceList {
        var total: ResourceList = [:]
        for container in spec?["containers"]?.arrayValue ?? [] {
            add(&total, parse(container["resources"]?[field]))
        }
        var sidecars: ResourceList = [:]
        var initPeak: ResourceList = [:]
        for container in spec?["initContainers"]?.arrayValue ?? [] {
            var needs = parse(container["resources"]?[field])
            if container["restartPolicy"]?.stringValue == "Always" {
                add(&total, needs)
                add(&sidecars, needs)
                needs = sidecars
            } else {
                add(&needs, sidecars)
            }
            raise(&initPeak, to: needs)
        }
        raise(&total, to: initPeak)
        if overhead, spec?["overhead"] != nil {
            // Requests take the whole overhead; limits only where the containers set a limit, as upstream.
            for (key, value) in parse(spec?["overhead"]) where field == "requests" || total[key] != nil {
                total[key] = (total[key] ?? Quantity()) + value
            }
        }
        return total
    }
}
