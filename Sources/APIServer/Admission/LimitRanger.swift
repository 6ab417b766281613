import APIMachinery
import Foundation
import Quota

/// `LimitRanger`: the namespace's LimitRanges give containers their default requests and limits (the
/// mutating step) and bound containers, pods and claims with min, max and maxLimitRequestRatio (the
/// validating step), with upstream's messages.
struct LimitRanger: AdmissionPlugin {
    var name: String { "LimitRanger" }

    let ranges = NamespacedObjectCache(folder: "limitranges")

    static let pods = GroupResource(group: "", resource: "pods")
    static let claims = GroupResource(group: "", resource: "persistentvolumeclaims")
    static let annotation = "kubernetes.io/limit-ranger"

    /// Pods on create (their containers cannot change later) and claims on create and update.
    func supports(_ attributes: AdmissionAttributes) -> Bool {
        guard attributes.subresource.isEmpty, attributes.operation != .delete else { return false }
        if attributes.resource == Self.pods { return attributes.operation == .create }
        return attributes.resource == Self.claims
    }

    /// The LimitRanges that apply, or none when the write is out of scope or the old object is going away.
    func limitRanges(_ attributes: AdmissionAttributes, context: RegistryContext) async throws -> [JSON] {
        guard supports(attributes), let namespace = attributes.namespace,
            attributes.oldObject?["metadata"]?["deletionTimestamp"] == nil
        else { return [] }
        return try await ranges.objects(in: namespace, context: context)
    }

    func admit(_ attributes: AdmissionAttributes, object: inout JSON, context: RegistryContext) async throws {
        guard attributes.resource == Self.pods else { return }
        let items = try await limitRanges(attributes, context: context)
        guard !items.isEmpty else { return }
        let before = object
        for limitRange in items { Self.applyDefaults(Self.items(limitRange), to: &object) }
        if object != before, object["status"]?["qosClass"] != nil {
            // The store set the QoS class before admission ran; defaults may have changed it.
            object.set(["status", "qosClass"], to: .string(PodStrategy().qosClass(object["spec"])))
        }
    }

    func validate(_ attributes: AdmissionAttributes, object: JSON, context: RegistryContext) async throws {
        for limitRange in try await limitRanges(attributes, context: context) {
            let items = Self.items(limitRange)
            let errors =
                attributes.resource == Self.pods
                ? Self.validatePod(items, object["spec"]) : Self.validateClaim(items, object["spec"])
            guard !errors.isEmpty else { continue }
            // Upstream aggregates: one error alone, several bracketed; duplicates once.
            var unique: [String] = []
            for error in errors where !unique.contains(error) { unique.append(error) }
            let message = unique.count == 1 ? unique[0] : "[" + unique.joined(separator: ", ") + "]"
            throw attributes.forbidden(message, object: object)
        }
    }

    // MARK: Limit range items

    /// One `spec.limits` entry with upstream's LimitRange defaulting applied: a Container item's default
    /// limit falls back to max, its default request to the default limit, then to min.
    struct Item {
        var type: String
        var min: [(String, Quantity)]
        var max: [(String, Quantity)]
        var ratio: [(String, Quantity)]
        var defaultLimits: [(String, Quantity)]
        var defaultRequests: [(String, Quantity)]
    }

    static func items(_ limitRange: JSON) -> [Item] {
        (limitRange["spec"]?["limits"]?.arrayValue ?? []).map { limit in
            func list(_ field: String) -> [(String, Quantity)] {
                (limit[field]?.objectValue ?? JSONObject()).compactMap { entry in
                    (try? Quantity(json: entry.value)).map { (entry.key, $0) }
                }
            }
            var item = Item(
                type: limit["type"]?.stringValue ?? "", min: list("min"), max: list("max"),
                ratio: list("maxLimitRequestRatio"), defaultLimits: list("default"),
                defaultRequests: list("defaultRequest"))
            if item.type == "Container" {
                for (key, value) in item.max where !item.defaultLimits.contains(where: { $0.0 == key }) {
                    item.defaultLimits.append((key, value))
                }
                for (key, value) in item.defaultLimits + item.min
                where !item.defaultRequests.contains(where: { $0.0 == key }) {
                    item.defaultRequests.append((key, value))
                }
            }
            return item
        }
    }

    // MARK: Defaults

    /// Fills unset requests and limits of every container and init container from the Container items,
    /// and records what it set in the `kubernetes.io/limit-ranger` annotation.
    static func applyDefaults(_ items: [Item], to pod: inout JSON) {
        var limits: [(String, Quantity)] = []
        var requests: [(String, Quantity)] = []
        for item in items where item.type == "Container" {
            for entry in item.defaultLimits {
                limits.removeAll { $0.0 == entry.0 }
                limits.append(entry)
            }
            for entry in item.defaultRequests {
                requests.removeAll { $0.0 == entry.0 }
                requests.append(entry)
            }
        }
        guard !limits.isEmpty || !requests.isEmpty, var spec = pod["spec"] else { return }
        var notes: [String] = []
        for (list, label) in [("containers", "container"), ("initContainers", "init container")] {
            guard var containers = spec[list]?.arrayValue else { continue }
            for index in containers.indices where containers[index].objectValue != nil {
                let name = containers[index]["name"]?.stringValue ?? ""
                var setRequests: [String] = []
                var setLimits: [String] = []
                var resources = containers[index]["resources"] ?? .object(JSONObject())
                if resources.objectValue == nil { resources = .object(JSONObject()) }
                for (field, defaults) in [("limits", limits), ("requests", requests)] {
                    var current = resources[field]?.objectValue ?? JSONObject()
                    let missing = defaults.filter { current[$0.0] == nil }
                    guard !missing.isEmpty else { continue }
                    for (key, value) in missing { current[key] = value.json }
                    // Go writes maps with sorted keys; a list the plugin touched reads the same way.
                    current.entries.sort { $0.key < $1.key }
                    resources[field] = .object(current)
                    if field == "limits" { setLimits += missing.map(\.0) } else { setRequests += missing.map(\.0) }
                }
                containers[index]["resources"] = resources
                if !setRequests.isEmpty {
                    notes.append(setRequests.sorted().joined(separator: ", ") + " request for \(label) \(name)")
                }
                if !setLimits.isEmpty {
                    notes.append(setLimits.sorted().joined(separator: ", ") + " limit for \(label) \(name)")
                }
            }
            spec[list] = .array(containers)
        }
        pod["spec"] = spec
        if !notes.isEmpty {
            var annotations = pod["metadata"]?["annotations"]?.objectValue ?? JSONObject()
            annotations[annotation] = .string("LimitRanger plugin set: " + notes.joined(separator: "; "))
            pod.setMeta("annotations", .object(annotations))
        }
    }

    // MARK: Constraints

    static func validatePod(_ items: [Item], _ spec: JSON?) -> [String] {
        var errors: [String] = []
        for item in items {
            if item.type == "Container" {
                let containers = (spec?["containers"]?.arrayValue ?? []) + (spec?["initContainers"]?.arrayValue ?? [])
                for container in containers {
                    let requests = ResourceLists.parse(container["resources"]?["requests"])
                    let limits = ResourceLists.parse(container["resources"]?["limits"])
                    errors += check(item, "Container", requests: requests, limits: limits)
                }
            } else if item.type == "Pod" {
                let requests = ResourceLists.pod(spec, "requests", overhead: false)
                let limits = ResourceLists.pod(spec, "limits", overhead: false)
                errors += check(item, "Pod", requests: requests, limits: limits)
            }
        }
        return errors
    }

    /// Claims are bounded on what they request; their limits are not user input.
    static func validateClaim(_ items: [Item], _ spec: JSON?) -> [String] {
        let requests = ResourceLists.parse(spec?["resources"]?["requests"])
        var errors: [String] = []
        for item in items where item.type == "PersistentVolumeClaim" {
            for (name, enforced) in item.min {
                if let error = minimum("PersistentVolumeClaim", name, enforced, requests: requests, limits: [:]) {
                    errors.append(error)
                }
            }
            for (name, enforced) in item.max {
                let label = "PersistentVolumeClaim"
                guard let request = requests[name] else {
                    errors.append("maximum \(name) usage per \(label) is \(enforced).  No request is specified")
                    continue
                }
                let (observed, _, bound) = comparable(request, Quantity(), enforced)
                if observed > bound {
                    errors.append("maximum \(name) usage per \(label) is \(enforced), but request is \(request)")
                }
            }
        }
        return errors
    }

    static func check(_ item: Item, _ type: String, requests: ResourceList, limits: ResourceList) -> [String] {
        var errors: [String] = []
        for (name, enforced) in item.min {
            if let error = minimum(type, name, enforced, requests: requests, limits: limits) { errors.append(error) }
        }
        for (name, enforced) in item.max {
            if let error = maximum(type, name, enforced, requests: requests, limits: limits) { errors.append(error) }
        }
        for (name, enforced) in item.ratio {
            if let error = ratio(type, name, enforced, requests: requests, limits: limits) { errors.append(error) }
        }
        return errors
    }

    /// Upstream's `resource.MaxMilliValue`: the largest value whose milli-value fits an Int64.
    static let maxMilliValue = Int64.max / 1000

    /// The three values at a common precision: thousandths when none would overflow, else units.
    static func comparable(_ request: Quantity, _ limit: Quantity, _ enforced: Quantity) -> (Int64, Int64, Int64) {
        if request.value <= maxMilliValue, limit.value <= maxMilliValue, enforced.value <= maxMilliValue {
            return (request.milliValue, limit.milliValue, enforced.milliValue)
        }
        return (request.value, limit.value, enforced.value)
    }

    static func minimum(
        _ type: String, _ name: String, _ enforced: Quantity, requests: ResourceList, limits: ResourceList
    )
        -> String?
    {
        guard let request = requests[name] else {
            return "minimum \(name) usage per \(type) is \(enforced).  No request is specified"
        }
        let limit = limits[name]
        let (observedRequest, observedLimit, bound) = comparable(request, limit ?? Quantity(), enforced)
        if observedRequest < bound {
            return "minimum \(name) usage per \(type) is \(enforced), but request is \(request)"
        }
        if let limit, observedLimit < bound {
            return "minimum \(name) usage per \(type) is \(enforced), but limit is \(limit)"
        }
        return nil
    }

    static func maximum(
        _ type: String, _ name: String, _ enforced: Quantity, requests: ResourceList, limits: ResourceList
    )
        -> String?
    {
        guard let limit = limits[name] else {
            return "maximum \(name) usage per \(type) is \(enforced).  No limit is specified"
        }
        let request = requests[name]
        let (observedRequest, observedLimit, bound) = comparable(request ?? Quantity(), limit, enforced)
        if observedLimit > bound {
            return "maximum \(name) usage per \(type) is \(enforced), but limit is \(limit)"
        }
        if let request, observedRequest > bound {
            return "maximum \(name) usage per \(type) is \(enforced), but request is \(request)"
        }
        return nil
    }

    static func ratio(
        _ type: String, _ name: String, _ enforced: Quantity, requests: ResourceList, limits: ResourceList
    )
        -> String?
    {
        let (observedRequest, observedLimit, _) = comparable(
            requests[name] ?? Quantity(), limits[name] ?? Quantity(), enforced)
        if requests[name] == nil || observedRequest == 0 {
            return
                "\(name) max limit to request ratio per \(type) is \(enforced), but no request is specified or request is 0"
        }
        if limits[name] == nil || observedLimit == 0 {
            return
                "\(name) max limit to request ratio per \(type) is \(enforced), but no limit is specified or limit is 0"
        }
        var observed = Double(observedLimit) / Double(observedRequest)
        let shown = observed
        var bound = Double(enforced.value)
        if enforced.value <= maxMilliValue {
            observed *= 1000
            bound = Double(enforced.milliValue)
        }
        guard observed > bound else { return nil }
        return
            "\(name) max limit to request ratio per \(type) is \(enforced), but provided ratio is \(String(format: "%f", shown))"
    }
}
