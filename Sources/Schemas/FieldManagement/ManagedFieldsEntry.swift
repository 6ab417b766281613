public import APIMachinery

/// One entry of `metadata.managedFields`: which manager owns which fields, through which operation.
public struct ManagedFieldsEntry: Sendable, Equatable {
    /// `Apply` for server-side apply, `Update` for every other write.
    public enum Operation: String, Sendable {
        case apply = "Apply"
        case update = "Update"
    }

    public var manager: String
    public var operation: Operation
    public var apiVersion: String
    /// RFC 3339 time of the manager's last change.
    public var time: String?
    public var fields: FieldSet
    /// The subresource the manager wrote through (`status`, `scale`), empty for the object itself.
    public var subresource: String

    public init(
        manager: String, operation: Operation, apiVersion: String, time: String?, fields: FieldSet,
        subresource: String = ""
    ) {
        self.manager = manager
        self.operation = operation
        self.apiVersion = apiVersion
        self.time = time
        self.fields = fields
        self.subresource = subresource
    }

    /// Entries are one per manager, operation and subresource; Update entries also per API version.
    func sameManager(as other: ManagedFieldsEntry) -> Bool {
        manager == other.manager && operation == other.operation && subresource == other.subresource
            && (operation == .apply || apiVersion == other.apiVersion)
    }

    /// Reads one entry; nil when it is not a FieldsV1 entry we can use.
    init(json: JSON) throws(FieldSetError) {
        guard case .object = json else { throw FieldSetError("managedFields entry is not an object") }
        guard let operation = json["operation"]?.stringValue.flatMap(Operation.init(rawValue:)) else {
            throw FieldSetError("managedFields operation must be Apply or Update")
        }
        if let type = json["fieldsType"]?.stringValue, type != "FieldsV1" {
            throw FieldSetError("managedFields fieldsType must be FieldsV1")
        }
        self.init(
            manager: json["manager"]?.stringValue ?? "", operation: operation,
            apiVersion: json["apiVersion"]?.stringValue ?? "", time: json["time"]?.stringValue,
            fields: try FieldSet(fieldsV1: json["fieldsV1"] ?? .object(JSONObject())),
            subresource: json["subresource"]?.stringValue ?? "")
    }

    /// The entry as the API writes it, fields in upstream's order.
    public var json: JSON {
        Self.json(
            manager: manager, operation: operation, apiVersion: apiVersion, time: time, fieldsV1: fields.fieldsV1,
            subresource: subresource)
    }

    /// An entry as the API writes it, from its FieldsV1 JSON.
    static func json(
        manager: String, operation: Operation, apiVersion: String, time: String?, fieldsV1: JSON, subresource: String
    ) -> JSON {
        var object = JSONObject()
        object.entries.reserveCapacity(7)
        object.entries.append(("manager", .string(manager)))
        object.entries.append(("operation", .string(operation.rawValue)))
        object.entries.append(("apiVersion", .string(apiVersion)))
        if let time { object.entries.append(("time", .string(time))) }
        object.entries.append(("fieldsType", "FieldsV1"))
        object.entries.append(("fieldsV1", fieldsV1))
        if !subresource.isEmpty { object.entries.append(("subresource", .string(subresource))) }
        return .object(object)
    }

    /// How conflict messages name the manager: `"name"` for appliers, `"name" using apps/v1` for updaters.
    public var conflictName: String {
        let quoted = String(decoding: JSON.string(manager).encoded(), as: UTF8.self)
        return operation == .apply ? quoted : "\(quoted) using \(apiVersion)"
    }

    /// Upstream's order of entries: appliers first, then by time, manager, API version and subresource.
    static func ordered(_ entries: [ManagedFieldsEntry]) -> [ManagedFieldsEntry] {
        entries.sorted { p, q in
            if p.operation != q.operation { return p.operation.rawValue < q.operation.rawValue }
            let pTime = p.time.flatMap(Timestamp.parse) ?? 0
            let qTime = q.time.flatMap(Timestamp.parse) ?? 0
            if pTime != qTime { return pTime < qTime }
            if p.manager != q.manager { return p.manager < q.manager }
            if p.apiVersion != q.apiVersion { return p.apiVersion < q.apiVersion }
            return p.subresource < q.subresource
        }
    }
}
