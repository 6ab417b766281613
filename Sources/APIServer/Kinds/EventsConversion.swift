import APIMachinery

/// events.k8s.io/v1 Event ↔ the stored core/v1 Event, field for field as upstream's conversion:
/// regarding ↔ involvedObject, note ↔ message, reportingController ↔ reportingComponent (core/v1's JSON
/// name), deprecatedSource/FirstTimestamp/LastTimestamp/Count ↔ source/firstTimestamp/lastTimestamp/count;
/// eventTime, series, related, action, reason, type and reportingInstance keep their names.
struct EventsConversion: VersionConversion {
    static let storedNames: [String: String] = [
        "regarding": "involvedObject", "note": "message", "reportingController": "reportingComponent",
        "deprecatedSource": "source", "deprecatedFirstTimestamp": "firstTimestamp",
        "deprecatedLastTimestamp": "lastTimestamp", "deprecatedCount": "count",
    ]
    static let servedNames = Dictionary(uniqueKeysWithValues: storedNames.map { ($0.value, $0.key) })

    /// Upstream's field label conversion for events.k8s.io/v1 (the selectable fields are core's).
    static let fieldLabels: [String: String] = [
        "reason": "reason", "type": "type", "reportingController": "reportingComponent",
        "regarding.kind": "involvedObject.kind", "regarding.namespace": "involvedObject.namespace",
        "regarding.name": "involvedObject.name", "regarding.uid": "involvedObject.uid",
        "regarding.apiVersion": "involvedObject.apiVersion",
        "regarding.resourceVersion": "involvedObject.resourceVersion",
        "regarding.fieldPath": "involvedObject.fieldPath",
    ]

    var storageKind: GroupVersionKind { GroupVersionKind(group: "", version: "v1", kind: "Event") }

    func toStorage(_ object: JSON) -> JSON { renamingFields(object, Self.storedNames, apiVersion: "v1") }

    func fromStorage(_ object: JSON) -> JSON {
        renamingFields(object, Self.servedNames, apiVersion: "events.k8s.io/v1")
    }

    func storageFieldLabel(_ label: String) throws(APIError) -> String {
        if let stored = Self.fieldLabels[label] { return stored }
        return try metadataFieldLabel(label)
    }
}
