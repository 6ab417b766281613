import APIMachinery

/// `RuntimeClass`: a new pod naming a `runtimeClassName` gets its class's `overhead.podFixed` as
/// `spec.overhead` and its `scheduling` (node selector merged, tolerations added), as upstream's plugin sets
/// them; a missing class, a different overhead or a conflicting node selector is refused with upstream's
/// messages. Its validating step refuses an overhead the class does not define. Classes come from a watch-fed
/// cache; one the cache has not seen yet is read from storage, as upstream's plugin falls back to a live get.
struct RuntimeClassAdmission: AdmissionPlugin {
    var name: String { "RuntimeClass" }

    private let classes = ClusterObjectCache<JSON>(folder: "runtimeclasses") { $0 }

    func admit(_ attributes: AdmissionAttributes, object: inout JSON, context: RegistryContext) async throws {
        guard Self.applies(attributes) else { return }
        guard let runtimeClass = try await runtimeClass(for: object, attributes: attributes, context: context) else {
            return
        }
        if let overhead = runtimeClass["overhead"]?["podFixed"] {
            if let given = object["spec"]?["overhead"], given.objectValue?.isEmpty == false,
                !Self.sameResources(given, overhead)
            {
                throw attributes.forbidden(
                    "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead", object: object)
            }
            object.set(["spec", "overhead"], to: overhead)
        }
        if let scheduling = runtimeClass["scheduling"] {
            let required = scheduling["nodeSelector"]?.objectValue ?? JSONObject()
            if var selector = object["spec"]?["nodeSelector"]?.objectValue {
                for (key, value) in required {
                    if let podValue = selector[key], podValue != value {
                        throw attributes.forbidden(
                            "conflict: runtimeClass.scheduling.nodeSelector[\(key)] = \(value.stringValue ?? ""); "
                                + "pod.spec.nodeSelector[\(key)] = \(podValue.stringValue ?? "")",
                            object: object)
                    }
                    selector[key] = value
                }
                object.set(["spec", "nodeSelector"], to: .object(selector))
            } else if !required.isEmpty {
                object.set(["spec", "nodeSelector"], to: .object(required))
            }
            let merged = Self.mergeTolerations(
                object["spec"]?["tolerations"]?.arrayValue ?? [], scheduling["tolerations"]?.arrayValue ?? [])
            if !merged.isEmpty { object.set(["spec", "tolerations"], to: .array(merged)) }
        }
    }

    func validate(_ attributes: AdmissionAttributes, object: JSON, context: RegistryContext) async throws {
        guard Self.applies(attributes) else { return }
        let runtimeClass = try await runtimeClass(for: object, attributes: attributes, context: context)
        let overhead = object["spec"]?["overhead"]
        if let defined = runtimeClass?["overhead"]?["podFixed"] {
            if !Self.sameResources(overhead ?? .null, defined) {
                throw attributes.forbidden(
                    "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead", object: object)
            }
        } else if let overhead, overhead != .null {
            throw attributes.forbidden(
                "pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead", object: object)
        }
    }

    /// Pod creates only, as upstream's handler registers for Create and ignores subresources.
    static func applies(_ attributes: AdmissionAttributes) -> Bool {
        attributes.resource == PriorityAdmission.pods && attributes.subresource.isEmpty
            && attributes.operation == .create
    }

    /// The pod's RuntimeClass, nil when it names none; a named class that does not exist is refused.
    private func runtimeClass(for pod: JSON, attributes: AdmissionAttributes, context: RegistryContext) async throws
        -> JSON?
    {
        guard let name = pod["spec"]?["runtimeClassName"]?.stringValue, !name.isEmpty else { return nil }
        if let found = try await classes.value(named: name, context: context) { return found }
        if let stored = try await context.storage.get(key: context.storagePrefix + "/runtimeclasses/" + name),
            let found = try? JSON.parse(stored.value)
        {
            return found
        }
        throw attributes.forbidden("pod rejected: RuntimeClass \(GoFormat.quote(name)) not found", object: pod)
    }

    /// Two resource lists holding the same quantities, compared by value as upstream's semantic equality does.
    static func sameResources(_ lhs: JSON, _ rhs: JSON) -> Bool {
        let left = lhs.objectValue ?? JSONObject()
        let right = rhs.objectValue ?? JSONObject()
        guard left.count == right.count else { return false }
        for (name, value) in left {
            guard let other = right[name] else { return false }
            guard let a = try? Quantity(json: value), let b = try? Quantity(json: other) else {
                if value != other { return false }
                continue
            }
            if a != b { return false }
        }
        return true
    }

    /// Upstream's `MergeTolerations`: both lists in order, dropping any toleration another one covers (of two
    /// equal ones, the first stays).
    static func mergeTolerations(_ first: [JSON], _ second: [JSON]) -> [JSON] {
        let all = first + second
        var merged: [JSON] = []
        for (index, toleration) in all.enumerated() {
            if merged.contains(where: { isSuperset($0, of: toleration) }) { continue }
            let later = all[(index + 1)...]
            if later.contains(where: { $0 != toleration && isSuperset($0, of: toleration) }) { continue }
            merged.append(toleration)
        }
        return merged
    }

    /// Whether `superset` tolerates everything `toleration` does (upstream's `isSuperset`).
    static func isSuperset(_ superset: JSON, of toleration: JSON) -> Bool {
        if superset == toleration { return true }
        func field(_ object: JSON, _ name: String) -> String { object[name]?.stringValue ?? "" }
        let supersetKey = field(superset, "key")
        let supersetOperator = field(superset, "operator")
        if field(toleration, "key") != supersetKey, !supersetKey.isEmpty || supersetOperator != "Exists" {
            return false
        }
        let supersetEffect = field(superset, "effect")
        if field(toleration, "effect") != supersetEffect, !supersetEffect.isEmpty { return false }
        if supersetEffect == "NoExecute", let limit = superset["tolerationSeconds"]?.intValue {
            guard let seconds = toleration["tolerationSeconds"]?.intValue, seconds <= limit else { return false }
        }
        switch supersetOperator {
        case "Equal", "":
            return field(toleration, "operator") == "Equal" && field(toleration, "value") == field(superset, "value")
        case "Exists": return true
        default: return false
        }
    }
}
