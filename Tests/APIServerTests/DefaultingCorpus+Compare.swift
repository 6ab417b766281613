import APIMachinery

/// How the defaulting corpus compares two servers' answers: what is instance-specific is replaced or dropped on
/// both sides, then every differing leaf is reported by its path.
enum DefaultingCorpus {
    /// A difference at one path; nil stands for an absent field.
    struct Difference: Equatable, CustomStringConvertible {
        var path: [String]
        var upstream: JSON?
        var ours: JSON?

        var description: String {
            let absent = "<absent>"
            return "\(DefaultingCorpus.render(path)): upstream \(upstream?.jsonString ?? absent), "
                + "ours \(ours?.jsonString ?? absent)"
        }
    }

    /// The token volume the ServiceAccount admission plugin mounts: a Secret in v1.20, a projected volume since.
    static let tokenVolumePrefixes = ["default-token-", "kube-api-access-"]

    /// Drops or masks what differs between any two creates of the same manifest: identity, timestamps,
    /// allocations, and the token volume the ServiceAccount admission plugin adds under a generated name.
    static func normalized(_ object: JSON) -> JSON {
        var object = object
        let uid = object[path: "metadata", "uid"]?.stringValue
        for field in ["uid", "creationTimestamp", "resourceVersion", "managedFields", "selfLink"] {
            object.set(["metadata", field], to: nil)
        }
        // A Job's selector and labels carry its uid.
        if let uid { object = replacingString(uid, with: "<uid>", in: object) }
        object = withoutNullTimestamps(object)
        // Go prints a status struct whose fields are all zero (`status: {}`, counts of 0); JSON keeps none.
        if let status = object["status"], isZero(status) { object["status"] = nil }
        if object[path: "status", "lastPhaseTransitionTime"] != nil {
            object.set(["status", "lastPhaseTransitionTime"], to: "<time>")
        }
        // Allocations, which v1.20 skipped for cluster IPs on dry runs; a headless Service's "None" stays.
        if object["kind"]?.stringValue == "Service", var spec = object["spec"] {
            if spec["clusterIP"]?.stringValue != "None" {
                spec["clusterIP"] = nil
                spec["clusterIPs"] = nil
            }
            if let ports = spec["ports"]?.arrayValue {
                spec["ports"] = .array(
                    ports.map { port in
                        var port = port
                        port["nodePort"] = nil
                        return port
                    })
            }
            object["spec"] = spec
        }
        if object["kind"]?.stringValue == "Pod", var spec = object["spec"] {
            removeTokenVolume(from: &spec)
            object["spec"] = spec
        }
        return object
    }

    /// Every leaf where the two documents differ, in document order.
    static func differences(upstream: JSON?, ours: JSON?, at path: [String] = []) -> [Difference] {
        switch (upstream, ours) {
        case (.object(let left)?, .object(let right)?):
            let keys = left.keys + right.keys.filter { left[$0] == nil }
            return keys.flatMap { differences(upstream: left[$0], ours: right[$0], at: path + [$0]) }
        case (.array(let left)?, .array(let right)?):
            return (0..<max(left.count, right.count)).flatMap { index in
                differences(
                    upstream: index < left.count ? left[index] : nil, ours: index < right.count ? right[index] : nil,
                    at: path + [String(index)])
            }
        default:
            return upstream == ours ? [] : [Difference(path: path, upstream: upstream, ours: ours)]
        }
    }

    /// `spec.containers[0].ports`, with map keys that are not identifiers quoted: `labels["app.kubernetes.io/name"]`.
    static func render(_ path: [String]) -> String {
        var text = ""
        for component in path {
            if Int(component) != nil {
                text += "[\(component)]"
            } else if component.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
                text += text.isEmpty ? component : ".\(component)"
            } else {
                text += "[\"\(component)\"]"
            }
        }
        return text
    }

    /// Sets (or, for nil, removes) the value at `path`, whose numeric components index arrays; missing objects
    /// on the way are created.
    static func set(_ value: JSON?, at path: [String], in document: inout JSON) {
        guard let first = path.first else {
            document = value ?? .null
            return
        }
        let rest = Array(path.dropFirst())
        switch document {
        case .array(var items):
            guard let index = Int(first), items.indices.contains(index) else { return }
            if rest.isEmpty, value == nil {
                items.remove(at: index)
            } else {
                set(value, at: rest, in: &items[index])
            }
            document = .array(items)
        case .object(var object):
            if rest.isEmpty {
                object[first] = value
            } else {
                guard value != nil || object[first] != nil else { return }
                var child = object[first] ?? .object(JSONObject())
                set(value, at: rest, in: &child)
                object[first] = child
            }
            document = .object(object)
        default:
            guard value != nil else { return }
            document = .object(JSONObject())
            set(value, at: path, in: &document)
        }
    }

    private static func replacingString(_ target: String, with replacement: String, in value: JSON) -> JSON {
        switch value {
        case .string(let string): return string == target ? .string(replacement) : value
        case .array(let items): return .array(items.map { replacingString(target, with: replacement, in: $0) })
        case .object(let object):
            return .object(
                JSONObject(object.entries.map { ($0.key, replacingString(target, with: replacement, in: $0.value)) }))
        default: return value
        }
    }

    /// Go writes an unset time inside a template as `creationTimestamp: null`.
    private static func withoutNullTimestamps(_ value: JSON) -> JSON {
        switch value {
        case .array(let items): return .array(items.map(withoutNullTimestamps))
        case .object(let object):
            return .object(
                JSONObject(
                    object.entries.filter { !($0.key == "creationTimestamp" && $0.value.isNull) }
                        .map { ($0.key, withoutNullTimestamps($0.value)) }))
        default: return value
        }
    }

    private static func isZero(_ value: JSON) -> Bool {
        switch value {
        case .null: return true
        case .bool(let flag): return !flag
        case .int(let number): return number == 0
        case .double(let number): return number == 0
        case .string(let text): return text.isEmpty
        case .array(let items): return items.isEmpty
        case .object(let object): return object.entries.allSatisfy { isZero($0.value) }
        }
    }

    private static func isTokenVolume(_ name: String?) -> Bool {
        guard let name else { return false }
        return tokenVolumePrefixes.contains { name.hasPrefix($0) }
    }

    private static func removeTokenVolume(from spec: inout JSON) {
        if let volumes = spec["volumes"]?.arrayValue {
            let kept = volumes.filter { !isTokenVolume($0["name"]?.stringValue) }
            spec["volumes"] = kept.isEmpty ? nil : .array(kept)
        }
        for field in ["initContainers", "containers"] {
            guard let containers = spec[field]?.arrayValue else { continue }
            spec[field] = .array(
                containers.map { container in
                    var container = container
                    if let mounts = container["volumeMounts"]?.arrayValue {
                        let kept = mounts.filter { !isTokenVolume($0["name"]?.stringValue) }
                        container["volumeMounts"] = kept.isEmpty ? nil : .array(kept)
                    }
                    return container
                })
        }
    }
}
