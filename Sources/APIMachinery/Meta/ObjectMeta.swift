/// Typed access to the `metadata` fields our code reads and writes; the object itself stays JSON so
/// fields we do not model survive every round trip.
extension JSON {
    public var apiVersion: String? { self["apiVersion"]?.stringValue }
    public var kind: String? { self["kind"]?.stringValue }

    public var metadata: JSONObject {
        get { self["metadata"]?.objectValue ?? JSONObject() }
        set { self["metadata"] = .object(newValue) }
    }

    public var name: String? { self["metadata"]?["name"]?.stringValue }
    public var namespace: String? { self["metadata"]?["namespace"]?.stringValue }
    public var generateName: String? { self["metadata"]?["generateName"]?.stringValue }
    public var uid: String? { self["metadata"]?["uid"]?.stringValue }
    public var resourceVersion: String? { self["metadata"]?["resourceVersion"]?.stringValue }
    public var generation: Int64? { self["metadata"]?["generation"]?.intValue }
    public var deletionTimestamp: String? { self["metadata"]?["deletionTimestamp"]?.stringValue }
    public var creationTimestamp: String? { self["metadata"]?["creationTimestamp"]?.stringValue }

    /// `metadata.labels` as a dictionary; non-string values are skipped (validation reports them).
    public var labels: [String: String] { stringMap(self["metadata"]?["labels"]) }
    public var annotations: [String: String] { stringMap(self["metadata"]?["annotations"]) }

    public var finalizers: [String] {
        self["metadata"]?["finalizers"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    /// Sets a metadata field, or removes it when `value` is nil.
    public mutating func setMeta(_ field: String, _ value: JSON?) {
        set(["metadata", field], to: value)
    }

    private func stringMap(_ value: JSON?) -> [String: String] {
        guard let object = value?.objectValue else { return [:] }
        var result: [String: String] = [:]
        for (key, value) in object {
            if let string = value.stringValue { result[key] = string }
        }
        return result
    }
}
