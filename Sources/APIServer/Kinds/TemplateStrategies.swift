import APIMachinery

/// core/v1 PodTemplates: a pod template validated and defaulted as a workload's is.
struct PodTemplateStrategy: Strategy {
    func applyDefaults(_ object: inout JSON) {
        guard var podSpec = object["template"]?["spec"], podSpec.objectValue != nil else { return }
        PodSpecRules.applyDefaults(&podSpec)
        object.set(["template", "spec"], to: podSpec)
    }

    func validate(_ object: JSON) -> [FieldError] {
        PodSpecRules.validate(object["template"]?["spec"], path: "template.spec")
    }

    var columns: [Table.Column] {
        [.name, Table.Column("Containers"), Table.Column("Images"), Table.Column("Pod Labels")]
    }

    func cells(_ object: JSON) -> [JSON] {
        let (names, images) = Cells.containers(object["template"]?["spec"])
        let labels = object["template"]?["metadata"]?["labels"]?.objectValue ?? JSONObject()
        let text = labels.entries.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.stringValue ?? "")" }
        return [Cells.name(object), names, images, .string(text.isEmpty ? "<none>" : text.joined(separator: ","))]
    }
}

/// apps/v1 ControllerRevisions: an immutable snapshot of a DaemonSet's or StatefulSet's template.
struct ControllerRevisionStrategy: Strategy {
    func validate(_ object: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        if object["data"] == nil || object["data"] == .null { errors.append(.required("data", "data is mandatory")) }
        if let revision = object["revision"]?.intValue, revision < 0 {
            errors.append(.invalid("revision", .int(revision), "must be greater than or equal to 0"))
        }
        return errors
    }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        var errors = validate(object)
        if object["data"] != old["data"] {
            errors.append(.invalid("data", object["data"] ?? .null, "field is immutable"))
        }
        return errors
    }

    var columns: [Table.Column] { [.name, Table.Column("Controller"), Table.Column("Revision"), .age] }

    func cells(_ object: JSON) -> [JSON] {
        let owner = (object["metadata"]?["ownerReferences"]?.arrayValue ?? []).first {
            $0["controller"]?.boolValue == true
        }
        var controller = "<none>"
        if let owner, let kind = owner["kind"]?.stringValue, let name = owner["name"]?.stringValue {
            // Upstream prints the controller as kind.group/name, lower-cased as kubectl names resources.
            let apiVersion = owner["apiVersion"]?.stringValue ?? ""
            let group = apiVersion.contains("/") ? String(apiVersion.prefix { $0 != "/" }) : ""
            controller = (group.isEmpty ? kind : "\(kind).\(group)").lowercased() + "/" + name
        }
        return [Cells.name(object), .string(controller), Cells.int(object["revision"]), Cells.age(object)]
    }
}
