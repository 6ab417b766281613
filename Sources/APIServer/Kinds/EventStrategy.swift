import APIMachinery

/// Events, core/v1 and events.k8s.io/v1 alike: one stored kind (core/v1's shape, see `EventsConversion`),
/// created on update, expiring with `--event-ttl`, selectable by the object they are about.
/// Every hook sees the stored shape, so field paths in errors are core/v1's, as upstream's are.
struct EventStrategy: Strategy {
    /// Writes through events.k8s.io/v1 get upstream's strict validation on top of the legacy one.
    var eventsGroup = false

    var allowCreateOnUpdate: Bool { true }
    var expiresWithEventTTL: Bool { true }

    static let reportingInstanceLengthLimit = 128
    static let actionLengthLimit = 128
    static let reasonLengthLimit = 128
    static let noteLengthLimit = 1024

    func validate(_ object: JSON) -> [FieldError] {
        var errors = legacyErrors(object)
        guard eventsGroup else { return errors }
        errors += seriesErrors(object)
        if isZero(object["eventTime"]) { errors.append(.required("eventTime")) }
        let type = text(object["type"])
        if type != "Normal", type != "Warning" {
            errors.append(.invalid("type", "", "has invalid value: \(type)"))
        }
        for field in ["firstTimestamp", "lastTimestamp", "count"] where !isZero(object[field]) {
            errors.append(.invalid(field, "", "needs to be unset"))
        }
        if !text(object["source"]?["component"]).isEmpty || !text(object["source"]?["host"]).isEmpty {
            errors.append(.invalid("source", "", "needs to be unset"))
        }
        return errors
    }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        var errors = legacyErrors(object)
        guard eventsGroup else { return errors }
        if !same(object["series"], old["series"]) { errors += seriesErrors(object) }
        // Stored names: events.k8s.io's regarding, note and reportingController are core's involvedObject,
        // message and reportingComponent (upstream's paths say reportingController).
        let immutable: [(path: String, field: String)] = [
            ("involvedObject", "involvedObject"), ("reason", "reason"), ("message", "message"), ("source", "source"),
            ("firstTimestamp", "firstTimestamp"), ("lastTimestamp", "lastTimestamp"), ("count", "count"),
            ("type", "type"), ("eventTime", "eventTime"), ("action", "action"), ("related", "related"),
            ("reportingController", "reportingComponent"), ("reportingInstance", "reportingInstance"),
        ]
        for (path, field) in immutable where !same(object[field], old[field]) {
            errors.append(.invalid(path, object[field] ?? .null, "field is immutable"))
        }
        return errors
    }

    /// Upstream's checks for every event, whichever group wrote it; "new" events (with an eventTime) must
    /// also say who reported them and what was done.
    private func legacyErrors(_ event: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        let namespace = event.namespace ?? ""
        let involvedNamespace = text(event["involvedObject"]?["namespace"])
        let mismatch = FieldError.invalid(
            "involvedObject.namespace", .string(involvedNamespace), "does not match event.namespace")
        guard !isZero(event["eventTime"]) else {
            if involvedNamespace.isEmpty ? !["", "default"].contains(namespace) : namespace != involvedNamespace {
                errors.append(mismatch)
            }
            return errors
        }
        if involvedNamespace.isEmpty, namespace != "default", namespace != "kube-system" { errors.append(mismatch) }
        let controller = text(event["reportingComponent"])
        if controller.isEmpty { errors.append(.required("reportingController")) }
        for problem in NameValidation.qualifiedName(controller) {
            errors.append(.invalid("reportingController", .string(controller), problem))
        }
        errors += lengthErrors(event, "reportingInstance", limit: Self.reportingInstanceLengthLimit, required: true)
        errors += lengthErrors(event, "action", limit: Self.actionLengthLimit, required: true)
        errors += lengthErrors(event, "reason", limit: Self.reasonLengthLimit, required: true)
        errors += lengthErrors(event, "message", limit: Self.noteLengthLimit, required: false)
        return errors
    }

    private func lengthErrors(_ event: JSON, _ field: String, limit: Int, required: Bool) -> [FieldError] {
        let value = text(event[field])
        if required, value.isEmpty { return [.required(field)] }
        // Upstream counts bytes.
        if value.utf8.count > limit { return [.invalid(field, "", "can have at most \(limit) characters")] }
        return []
    }

    private func seriesErrors(_ event: JSON) -> [FieldError] {
        guard let series = event["series"], series.objectValue != nil else { return [] }
        var errors: [FieldError] = []
        if (series["count"]?.intValue ?? 0) < 2 { errors.append(.invalid("series.count", "", "should be at least 2")) }
        if isZero(series["lastObservedTime"]) { errors.append(.required("series.lastObservedTime")) }
        return errors
    }

    private func text(_ value: JSON?) -> String { value?.stringValue ?? "" }

    /// Go's zero values: what a typed decoder could not tell from an absent field.
    private func isZero(_ value: JSON?) -> Bool {
        switch value {
        case nil, .null?: return true
        case .string(let text)?: return text.isEmpty
        case .int(let number)?: return number == 0
        case .bool(let flag)?: return !flag
        case .object(let fields)?: return fields.entries.allSatisfy { isZero($0.value) }
        case .array(let items)?: return items.isEmpty
        default: return false
        }
    }

    private func same(_ new: JSON?, _ old: JSON?) -> Bool { (isZero(new) && isZero(old)) || new == old }

    /// Upstream's selectable fields of the stored event, with core/v1's names; events.k8s.io's labels are
    /// converted to these (`EventsConversion.storageFieldLabel`).
    func selectableFields(_ object: JSON) -> [String: String] {
        let involved = object["involvedObject"]
        var fields: [String: String] = [:]
        for field in ["kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"] {
            fields["involvedObject.\(field)"] = text(involved?[field])
        }
        let controller = text(object["reportingComponent"])
        let component = text(object["source"]?["component"])
        fields["reason"] = text(object["reason"])
        fields["reportingComponent"] = controller
        fields["source"] = component.isEmpty ? controller : component
        fields["type"] = text(object["type"])
        return fields
    }

    var columns: [Table.Column] {
        [
            Table.Column("Last Seen"), Table.Column("Type"), Table.Column("Reason"), Table.Column("Object"),
            Table.Column("Subobject", priority: 1), Table.Column("Source", priority: 1), Table.Column("Message"),
            Table.Column("First Seen", priority: 1), Table.Column("Count", priority: 1),
            Table.Column("Name", priority: 1),
        ]
    }

    /// Upstream's event row: new-style events have an eventTime and a series instead of timestamps and a count.
    func cells(_ object: JSON) -> [JSON] {
        let involved = object["involvedObject"]
        let first = Timestamp.age(
            of: isZero(object["firstTimestamp"])
                ? object["eventTime"]?.stringValue : object["firstTimestamp"]?.stringValue)
        var last = isZero(object["lastTimestamp"]) ? first : Timestamp.age(of: object["lastTimestamp"]?.stringValue)
        var count = object["count"]?.intValue ?? 0
        if let series = object["series"], series.objectValue != nil {
            last = Timestamp.age(of: series["lastObservedTime"]?.stringValue)
            count = series["count"]?.intValue ?? 0
        } else if count == 0 {
            count = 1
        }
        let kind = text(involved?["kind"]).lowercased()
        let name = text(involved?["name"])
        let component = text(object["source"]?["component"])
        let host = text(object["source"]?["host"])
        let source = component.isEmpty ? text(object["reportingComponent"]) : component
        let instance = host.isEmpty ? text(object["reportingInstance"]) : host
        return [
            .string(last), .string(text(object["type"])), .string(text(object["reason"])),
            .string(name.isEmpty ? kind : "\(kind)/\(name)"), .string(text(involved?["fieldPath"])),
            .string(instance.isEmpty ? source : "\(source), \(instance)"),
            .string(text(object["message"]).trimmingSpaces), .string(first), .int(count), Cells.name(object),
        ]
    }
}
