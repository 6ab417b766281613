import APIMachinery

/// storage.k8s.io StorageClasses: provisioner, parameters and reclaim policy are fixed at creation; the
/// reclaim policy defaults to Delete and the binding mode to Immediate, as upstream's v1 defaults.
struct StorageClassStrategy: Strategy {
    static let reclaimPolicies = ["Delete", "Retain"]
    static let bindingModes = ["Immediate", "WaitForFirstConsumer"]
    /// Upstream's limits on a class's parameters: 512 entries, 256 KiB of keys and values.
    static let maxParameters = 512
    static let maxParameterBytes = 256 * 1024

    func applyDefaults(_ object: inout JSON) {
        if object["reclaimPolicy"] == nil { object["reclaimPolicy"] = "Delete" }
        if object["volumeBindingMode"] == nil { object["volumeBindingMode"] = "Immediate" }
    }

    func validate(_ object: JSON) -> [FieldError] {
        var errors = StorageRules.validateQualifiedName(object["provisioner"], path: "provisioner")
        let parameters = object["parameters"]?.objectValue ?? JSONObject()
        if parameters.count > Self.maxParameters {
            errors.append(
                FieldError(
                    .tooLong(Self.maxParameters), "parameters", value: "Provisioner Parameters exceeded max allowed"))
        } else {
            var size = 0
            for entry in parameters.entries {
                if entry.key.isEmpty { errors.append(.invalid("parameters", "", "field can not be empty.")) }
                size += entry.key.utf8.count + (entry.value.stringValue?.utf8.count ?? 0)
            }
            if size > Self.maxParameterBytes {
                errors.append(FieldError(.tooLong(Self.maxParameterBytes), "parameters", value: ""))
            }
        }
        if let policy = object["reclaimPolicy"]?.stringValue, !policy.isEmpty, !Self.reclaimPolicies.contains(policy) {
            errors.append(.notSupported("reclaimPolicy", .string(policy), Self.reclaimPolicies))
        }
        if let mode = object["volumeBindingMode"] {
            if !Self.bindingModes.contains(mode.stringValue ?? "") {
                errors.append(.notSupported("volumeBindingMode", mode, Self.bindingModes))
            }
        } else {
            errors.append(.required("volumeBindingMode", ""))
        }
        return errors
    }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        var errors = validate(object)
        if (object["parameters"]?.objectValue ?? JSONObject()) != (old["parameters"]?.objectValue ?? JSONObject()) {
            errors.append(.forbidden("parameters", "updates to parameters are forbidden."))
        }
        if object["provisioner"] != old["provisioner"] {
            errors.append(.forbidden("provisioner", "updates to provisioner are forbidden."))
        }
        if object["reclaimPolicy"] != old["reclaimPolicy"] {
            errors.append(.forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden."))
        }
        if object["volumeBindingMode"] != old["volumeBindingMode"] {
            errors.append(.invalid("volumeBindingMode", object["volumeBindingMode"] ?? .null, "field is immutable"))
        }
        return errors
    }

    var columns: [Table.Column] {
        [
            .name, Table.Column("Provisioner"), Table.Column("ReclaimPolicy"), Table.Column("VolumeBindingMode"),
            Table.Column("AllowVolumeExpansion"), .age,
        ]
    }

    func cells(_ object: JSON) -> [JSON] {
        let annotations = object["metadata"]?["annotations"]
        let isDefault = [
            "storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class",
        ]
        .contains { annotations?[$0]?.stringValue == "true" }
        return [
            .string((object.name ?? "") + (isDefault ? " (default)" : "")),
            Cells.string(object["provisioner"], default: ""), Cells.string(object["reclaimPolicy"], default: "Delete"),
            Cells.string(object["volumeBindingMode"], default: "Immediate"),
            .bool(object["allowVolumeExpansion"]?.boolValue ?? false), Cells.age(object),
        ]
    }
}

/// storage.k8s.io CSIDrivers: a driver's capabilities, defaulted as upstream's v1 defaults.
struct CSIDriverStrategy: Strategy {
    static let lifecycleModes = ["Persistent", "Ephemeral"]
    static let fsGroupPolicies = ["ReadWriteOnceWithFSType", "File", "None"]

    func validateName(_ name: String) -> [String] {
        (name.count > 63 ? ["must be no more than 63 characters"] : [])
            + NameValidation.dns1123Subdomain(name.lowercased())
    }

    func applyDefaults(_ object: inout JSON) {
        var spec = object["spec"] ?? .object(JSONObject())
        let defaults: [(String, JSON)] = [
            ("attachRequired", true), ("podInfoOnMount", false), ("storageCapacity", false),
            ("fsGroupPolicy", "ReadWriteOnceWithFSType"), ("volumeLifecycleModes", ["Persistent"]),
            ("requiresRepublish", false), ("seLinuxMount", false),
        ]
        for (field, value) in defaults where spec[field] == nil { spec[field] = value }
        object["spec"] = spec
    }

    func validate(_ object: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        for (index, mode) in (object["spec"]?["volumeLifecycleModes"]?.arrayValue ?? []).enumerated()
        where !Self.lifecycleModes.contains(mode.stringValue ?? "") {
            errors.append(.notSupported("spec.volumeLifecycleModes[\(index)]", mode, Self.lifecycleModes))
        }
        if let policy = object["spec"]?["fsGroupPolicy"], !Self.fsGroupPolicies.contains(policy.stringValue ?? "") {
            errors.append(.notSupported("spec.fsGroupPolicy", policy, Self.fsGroupPolicies))
        }
        var audiences = Set<String>()
        for (index, request) in (object["spec"]?["tokenRequests"]?.arrayValue ?? []).enumerated() {
            let audience = request["audience"]?.stringValue ?? ""
            if !audiences.insert(audience).inserted {
                errors.append(.duplicate("spec.tokenRequests[\(index)].audience", .string(audience)))
            }
        }
        return errors
    }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        var errors = validate(object)
        if object["spec"]?["attachRequired"] != old["spec"]?["attachRequired"] {
            errors.append(
                .invalid("spec.attachRequired", object["spec"]?["attachRequired"] ?? .null, "field is immutable"))
        }
        return errors
    }

    var columns: [Table.Column] {
        [
            .name, Table.Column("AttachRequired", type: "boolean"), Table.Column("PodInfoOnMount", type: "boolean"),
            Table.Column("StorageCapacity", type: "boolean"), Table.Column("TokenRequests"),
            Table.Column("RequiresRepublish", type: "boolean"), Table.Column("Modes"), .age,
        ]
    }

    func cells(_ object: JSON) -> [JSON] {
        let spec = object["spec"]
        let modes = (spec?["volumeLifecycleModes"]?.arrayValue ?? []).compactMap(\.stringValue)
        let tokens = spec?["tokenRequests"]?.arrayValue.map {
            $0.compactMap { $0["audience"]?.stringValue }.joined(separator: ",")
        }
        return [
            Cells.name(object), .bool(spec?["attachRequired"]?.boolValue ?? true),
            .bool(spec?["podInfoOnMount"]?.boolValue ?? false), .bool(spec?["storageCapacity"]?.boolValue ?? false),
            .string(tokens ?? "<unset>"), .bool(spec?["requiresRepublish"]?.boolValue ?? false),
            .string(modes.isEmpty ? "<none>" : modes.joined(separator: ",")), Cells.age(object),
        ]
    }
}

/// storage.k8s.io CSINodes: the CSI drivers a kubelet registered on its node, named after the node.
struct CSINodeStrategy: Strategy {
    func validate(_ object: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        var names = Set<String>()
        for (index, driver) in (object["spec"]?["drivers"]?.arrayValue ?? []).enumerated() {
            let path = "spec.drivers[\(index)]"
            errors += StorageRules.validateDriverName(driver["name"], path: "\(path).name")
            let name = driver["name"]?.stringValue ?? ""
            if !name.isEmpty, !names.insert(name).inserted { errors.append(.duplicate("\(path).name", .string(name))) }
            let nodeID = driver["nodeID"]?.stringValue ?? ""
            if nodeID.isEmpty {
                errors.append(.required("\(path).nodeID", "nodeID must be provided"))
            } else if nodeID.count > 192 {
                errors.append(FieldError(.tooLong(192), "\(path).nodeID", value: .string(nodeID)))
            }
            if let count = driver["allocatable"]?["count"]?.intValue, count < 0 {
                errors.append(.invalid("\(path).allocatable.count", .int(count), "must be greater than or equal to 0"))
            }
        }
        return errors
    }

    var columns: [Table.Column] { [.name, Table.Column("Drivers", type: "integer"), .age] }
    func cells(_ object: JSON) -> [JSON] {
        [Cells.name(object), .int(Int64(object["spec"]?["drivers"]?.arrayValue?.count ?? 0)), Cells.age(object)]
    }
}

/// storage.k8s.io CSIStorageCapacities: how much a storage class offers in a topology segment.
struct CSIStorageCapacityStrategy: Strategy {
    func validate(_ object: JSON) -> [FieldError] {
        guard let className = object["storageClassName"]?.stringValue, !className.isEmpty else {
            return [.required("storageClassName", "")]
        }
        return NameValidation.dns1123Subdomain(className).map { .invalid("storageClassName", .string(className), $0) }
    }

    var columns: [Table.Column] { [.name, Table.Column("StorageClassName"), Table.Column("Capacity")] }
    func cells(_ object: JSON) -> [JSON] {
        [
            Cells.name(object), Cells.string(object["storageClassName"], default: ""),
            Cells.string(object["capacity"], default: "<unset>"),
        ]
    }
}

/// storage.k8s.io VolumeAttachments: an attach request (spec, immutable) and the attacher's report (status).
struct VolumeAttachmentStrategy: Strategy {
    func prepareForCreate(_ object: inout JSON) { object["status"] = nil }
    func prepareForUpdate(_ object: inout JSON, old: JSON) { object["status"] = old["status"] }

    func validate(_ object: JSON) -> [FieldError] {
        let spec = object["spec"]
        var errors = StorageRules.validateDriverName(spec?["attacher"], path: "spec.attacher")
        if (spec?["nodeName"]?.stringValue ?? "").isEmpty { errors.append(.required("spec.nodeName", "")) }
        let source = spec?["source"]
        let persistent = !(source?["persistentVolumeName"]?.stringValue ?? "").isEmpty
        let inline = source?["inlineVolumeSpec"] != nil
        if persistent == inline {
            errors.append(
                .invalid(
                    "spec.source", source ?? .object(JSONObject()),
                    "must specify exactly one of persistentVolumeName and inlineVolumeSpec"))
        }
        return errors
    }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        var errors = validate(object)
        if object["spec"] != old["spec"] {
            errors.append(.invalid("spec", object["spec"] ?? .null, "field is immutable"))
        }
        return errors
    }

    var columns: [Table.Column] {
        [
            .name, Table.Column("Attacher"), Table.Column("PV"), Table.Column("Node"),
            Table.Column("Attached", type: "boolean"), .age,
        ]
    }

    func cells(_ object: JSON) -> [JSON] {
        let spec = object["spec"]
        return [
            Cells.name(object), Cells.string(spec?["attacher"], default: ""),
            Cells.string(spec?["source"]?["persistentVolumeName"], default: ""),
            Cells.string(spec?["nodeName"], default: ""), .bool(object["status"]?["attached"]?.boolValue ?? false),
            Cells.age(object),
        ]
    }
}

/// Name rules the storage kinds share.
enum StorageRules {
    /// A CSI driver's name: at most 63 characters, a DNS subdomain once lower-cased.
    static func validateDriverName(_ value: JSON?, path: String) -> [FieldError] {
        let name = value?.stringValue ?? ""
        if name.isEmpty { return [.required(path, "")] }
        var errors: [FieldError] = []
        if name.count > 63 { errors.append(FieldError(.tooLong(63), path, value: .string(name))) }
        errors += NameValidation.dns1123Subdomain(name.lowercased()).map { .invalid(path, .string(name), $0) }
        return errors
    }

    /// A provisioner's name: required, and a qualified name once lower-cased.
    static func validateQualifiedName(_ value: JSON?, path: String) -> [FieldError] {
        let name = value?.stringValue ?? ""
        if name.isEmpty { return [.required(path, "")] }
        return NameValidation.qualifiedName(name.lowercased()).map { .invalid(path, .string(name.lowercased()), $0) }
    }
}
