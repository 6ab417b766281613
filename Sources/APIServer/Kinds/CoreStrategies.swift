import APIMachinery
import Foundation

/// Namespaces: RFC 1123 label names, the `kubernetes` finalizer, and Terminating on delete.
struct NamespaceStrategy: Strategy {
    func validateName(_ name: String) -> [String] { NameValidation.dns1123Label(name) }

    func prepareForCreate(_ object: inout JSON) {
        object["status"] = ["phase": "Active"]
        if object["spec"]?["finalizers"] == nil { object.set(["spec", "finalizers"], to: ["kubernetes"]) }
    }

    func prepareForUpdate(_ object: inout JSON, old: JSON) {
        object["status"] = old["status"]
        object.set(["spec", "finalizers"], to: old["spec"]?["finalizers"])
    }

    func applyDefaults(_ object: inout JSON) {
        // Upstream labels every namespace with its own name so selectors can pick namespaces by name.
        if let name = object.name {
            var labels = object["metadata"]?["labels"]?.objectValue ?? JSONObject()
            labels["kubernetes.io/metadata.name"] = .string(name)
            object.setMeta("labels", .object(labels))
        }
    }

    func prepareForDelete(_ object: inout JSON, gracePeriodSeconds: Int?) -> Bool {
        object.set(["status", "phase"], to: "Terminating")
        return !(object["spec"]?["finalizers"]?.arrayValue ?? []).isEmpty
    }

    func deletionMayComplete(_ object: JSON) -> Bool {
        (object["spec"]?["finalizers"]?.arrayValue ?? []).isEmpty
    }

    func selectableFields(_ object: JSON) -> [String: String] {
        ["status.phase": object["status"]?["phase"]?.stringValue ?? ""]
    }

    var columns: [Table.Column] { [.name, Table.Column("Status"), .age] }
    func cells(_ object: JSON) -> [JSON] {
        [Cells.name(object), Cells.string(object["status"]?["phase"]), Cells.age(object)]
    }
}

/// Nodes: cluster-scoped, status written by kubelets, printed with their Ready condition and roles.
struct NodeStrategy: Strategy {
    func prepareForUpdate(_ object: inout JSON, old: JSON) { object["status"] = old["status"] }

    func selectableFields(_ object: JSON) -> [String: String] {
        ["spec.unschedulable": String(object["spec"]?["unschedulable"]?.boolValue ?? false)]
    }

    var columns: [Table.Column] {
        [
            .name, Table.Column("Status"), Table.Column("Roles"), .age, Table.Column("Version"),
            Table.Column("Internal-IP", priority: 1), Table.Column("External-IP", priority: 1),
            Table.Column("OS-Image", priority: 1), Table.Column("Kernel-Version", priority: 1),
            Table.Column("Container-Runtime", priority: 1),
        ]
    }

    func cells(_ object: JSON) -> [JSON] {
        let conditions = object["status"]?["conditions"]?.arrayValue ?? []
        let ready = conditions.first { $0["type"]?.stringValue == "Ready" }
        var status = ready?["status"]?.stringValue == "True" ? "Ready" : (ready == nil ? "Unknown" : "NotReady")
        if object["spec"]?["unschedulable"]?.boolValue == true { status += ",SchedulingDisabled" }
        let roles = object.labels.keys.compactMap { key -> String? in
            key.hasPrefix("node-role.kubernetes.io/") ? String(key.dropFirst("node-role.kubernetes.io/".count)) : nil
        }.sorted()
        let addresses = object["status"]?["addresses"]?.arrayValue ?? []
        func address(_ type: String) -> JSON {
            Cells.string(addresses.first { $0["type"]?.stringValue == type }?["address"])
        }
        let info = object["status"]?["nodeInfo"]
        return [
            Cells.name(object), .string(status), .string(roles.isEmpty ? "<none>" : roles.joined(separator: ",")),
            Cells.age(object), Cells.string(info?["kubeletVersion"], default: ""), address("InternalIP"),
            address("ExternalIP"), Cells.string(info?["osImage"], default: "<unknown>"),
            Cells.string(info?["kernelVersion"], default: "<unknown>"),
            Cells.string(info?["containerRuntimeVersion"], default: "<unknown>"),
        ]
    }
}

/// Secrets: type defaulted to Opaque, data values must be base64.
struct SecretStrategy: Strategy {
    func applyDefaults(_ object: inout JSON) {
        if object["type"] == nil { object["type"] = "Opaque" }
        // stringData is write-only: its entries land in data, base64-encoded, as upstream's conversion does.
        if let stringData = object["stringData"]?.objectValue {
            var data = object["data"]?.objectValue ?? JSONObject()
            for (key, value) in stringData {
                data[key] = .string(Data((value.stringValue ?? "").utf8).base64EncodedString())
            }
            object["data"] = .object(data)
            object["stringData"] = nil
        }
    }

    func validate(_ object: JSON) -> [FieldError] {
        var errors = ConfigMapStrategy.keyErrors(object["data"], field: "data")
        for (key, value) in object["data"]?.objectValue ?? JSONObject() {
            if let text = value.stringValue, Data(base64Encoded: text) == nil {
                errors.append(.invalid("data[\(key)]", "<secret contents redacted>", "illegal base64 data"))
            }
        }
        return errors
    }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        var errors = validate(object)
        if object["type"] != old["type"] {
            errors.append(.invalid("type", object["type"] ?? .null, "field is immutable"))
        }
        return errors
    }

    func selectableFields(_ object: JSON) -> [String: String] { ["type": object["type"]?.stringValue ?? ""] }

    var columns: [Table.Column] { [.name, Table.Column("Type"), Table.Column("Data", type: "integer"), .age] }
    func cells(_ object: JSON) -> [JSON] {
        [Cells.name(object), Cells.string(object["type"]), .int(Int64(Catalog.dataCount(object))), Cells.age(object)]
    }
}

/// ConfigMaps: keys of `data` and `binaryData` are file names in a volume, and one key may not be in both.
struct ConfigMapStrategy: Strategy {
    func validate(_ object: JSON) -> [FieldError] {
        var errors = Self.keyErrors(object["data"], field: "data")
        errors += Self.keyErrors(object["binaryData"], field: "binaryData")
        let binary = object["binaryData"]?.objectValue
        for key in object["data"]?.objectValue?.keys ?? [] where binary?[key] != nil {
            errors.append(.invalid("data[\(key)]", .string(key), "duplicate of key present in binaryData"))
        }
        return errors
    }

    /// Upstream's `IsConfigMapKey` problems of every key of `data`, one error each.
    static func keyErrors(_ data: JSON?, field: String) -> [FieldError] {
        (data?.objectValue?.keys ?? []).flatMap { key in
            NameValidation.configMapKey(key).map { FieldError.invalid("\(field)[\(key)]", .string(key), $0) }
        }
    }

    var columns: [Table.Column] { [.name, Table.Column("Data", type: "integer"), .age] }
    func cells(_ object: JSON) -> [JSON] {
        [Cells.name(object), .int(Int64(Catalog.dataCount(object))), Cells.age(object)]
    }
}
