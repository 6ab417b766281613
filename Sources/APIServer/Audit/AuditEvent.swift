public import APIMachinery
import Foundation

/// One audit.k8s.io/v1 `Event`, written as one JSON line. Request and response bodies stay raw bytes
/// until the log writer encodes the event, so the request path does no JSON work for them.
public struct AuditEvent: Sendable {
    /// audit.k8s.io/v1 `ObjectReference`.
    public struct ObjectReference: Sendable, Equatable {
        public var resource = ""
        public var namespace = ""
        public var name = ""
        public var uid = ""
        public var apiGroup = ""
        public var apiVersion = ""
        public var resourceVersion = ""
        public var subresource = ""
    }

    /// A request body as received; JSON or Kubernetes protobuf, decoded only when the event is written.
    public struct RequestBody: Sendable {
        public var bytes: [UInt8]
        public var isProtobuf: Bool

        /// The object the body holds, as the handler decodes it; nil for anything else.
        func decoded() -> JSON? {
            let object = isProtobuf ? (try? KubernetesProtobuf.decode(bytes))?.object : try? JSON.parse(bytes)
            guard let object, object.objectValue != nil || object.arrayValue != nil else { return nil }
            return object
        }
    }

    /// The bounded copy of the response's `Status` upstream keeps (`metav1.Status` without list metadata).
    public struct ResponseStatus: Sendable, Equatable {
        public var code: Int
        public var status = ""
        public var message = ""
        public var reason = ""
        public var details: JSON?
    }

    public var level: AuditLevel
    public var auditID: String
    public var stage: AuditStage
    public var requestURI: String
    public var verb: String
    /// Nil when authentication failed: the event then has an empty `user`.
    public var user: UserInfo?
    /// The user an impersonating request acted as (`kubectl --as`), as upstream records it.
    public var impersonatedUser: UserInfo?
    public var sourceIPs: [String]
    public var userAgent: String
    public var objectRef: ObjectReference?
    public var responseStatus: ResponseStatus?
    /// The request body, kept at Request level and above, and for creates and updates, whose object names
    /// the object reference's missing parts (upstream's LogRequestObject).
    public var requestBody: RequestBody?
    /// The response body, logged at RequestResponse level when it is JSON.
    public var responseObject: [UInt8]?
    /// True when the response was encoded as Kubernetes protobuf (a Go client or kubectl asked for it).
    public var responseIsProtobuf = false
    /// Microseconds since the Unix epoch.
    public var requestReceivedTimestamp: Int64
    public var stageTimestamp: Int64
    public var annotations: [(key: String, value: String)] = []
    public var omitManagedFields = false

    /// What the event holds in memory, roughly: its bodies plus a fixed allowance for the rest.
    var approximateSize: Int { 512 + (requestBody?.bytes.count ?? 0) + (responseObject?.count ?? 0) }

    /// Microseconds since the Unix epoch, now.
    static func nowMicros() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1000
    }

    /// RFC 3339 with microseconds in UTC, as `metav1.MicroTime` marshals.
    static func formatMicros(_ micros: Int64) -> String { Timestamp.format(epochMicroseconds: micros) }

    /// The event as one JSON line (with its newline), fields in upstream's order.
    public func encodedLine() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512 + (requestBody?.bytes.count ?? 0) + (responseObject?.count ?? 0))
        func key(_ name: String) {
            out.append(UInt8(ascii: ","))
            JSON.encodeString(name, into: &out)
            out.append(UInt8(ascii: ":"))
        }
        func string(_ name: String, _ value: String, omitEmpty: Bool = true) {
            guard !omitEmpty || !value.isEmpty else { return }
            key(name)
            JSON.encodeString(value, into: &out)
        }
        out.append(contentsOf: #"{"kind":"Event","apiVersion":"audit.k8s.io/v1""#.utf8)
        string("level", level.rawValue)
        string("auditID", auditID)
        string("stage", stage.rawValue)
        string("requestURI", requestURI)
        string("verb", verb)
        key("user")
        Self.userJSON(user).encode(into: &out)
        if let impersonatedUser {
            key("impersonatedUser")
            Self.userJSON(impersonatedUser).encode(into: &out)
        }
        if !sourceIPs.isEmpty {
            key("sourceIPs")
            JSON.array(sourceIPs.map(JSON.string)).encode(into: &out)
        }
        string("userAgent", userAgent)
        let requestObject = requestBody?.decoded()
        if var objectRef {
            if let requestObject, verb == "create" || verb == "update" { objectRef.fillEmpty(from: requestObject) }
            key("objectRef")
            Self.objectReferenceJSON(objectRef).encode(into: &out)
        }
        if let responseStatus {
            key("responseStatus")
            Self.statusJSON(responseStatus).encode(into: &out)
        }
        if level >= .request, var object = requestObject {
            if omitManagedFields { Self.stripManagedFields(&object) }
            key("requestObject")
            object.encode(into: &out)
        }
        if let responseObject,
            let object = Self.loggedObject(
                responseObject, isProtobuf: responseIsProtobuf, omitManagedFields: omitManagedFields)
        {
            key("responseObject")
            object.encode(into: &out)
        }
        string("requestReceivedTimestamp", Self.formatMicros(requestReceivedTimestamp))
        string("stageTimestamp", Self.formatMicros(stageTimestamp))
        if !annotations.isEmpty {
            key("annotations")
            JSON.object(JSONObject(annotations.map { ($0.key, JSON.string($0.value)) })).encode(into: &out)
        }
        out.append(contentsOf: "}\n".utf8)
        return out
    }

    static func userJSON(_ user: UserInfo?) -> JSON {
        var object = JSONObject()
        guard let user else { return .object(object) }
        if !user.name.isEmpty { object["username"] = .string(user.name) }
        if !user.uid.isEmpty { object["uid"] = .string(user.uid) }
        if !user.groups.isEmpty { object["groups"] = .array(user.groups.map(JSON.string)) }
        if !user.extra.isEmpty {
            var extra = JSONObject()
            for key in user.extra.keys.sorted() { extra[key] = .array((user.extra[key] ?? []).map(JSON.string)) }
            object["extra"] = .object(extra)
        }
        return .object(object)
    }

    static func objectReferenceJSON(_ reference: ObjectReference) -> JSON {
        var object = JSONObject()
        for (name, value) in [
            ("resource", reference.resource), ("namespace", reference.namespace), ("name", reference.name),
            ("uid", reference.uid), ("apiGroup", reference.apiGroup), ("apiVersion", reference.apiVersion),
            ("resourceVersion", reference.resourceVersion), ("subresource", reference.subresource),
        ] where !value.isEmpty {
            object[name] = .string(value)
        }
        return .object(object)
    }

    static func statusJSON(_ status: ResponseStatus) -> JSON {
        var object: JSONObject = ["metadata": .object(JSONObject())]
        if !status.status.isEmpty { object["status"] = .string(status.status) }
        if !status.message.isEmpty { object["message"] = .string(status.message) }
        if !status.reason.isEmpty { object["reason"] = .string(status.reason) }
        if let details = status.details { object["details"] = details }
        if status.code != 0 { object["code"] = .int(Int64(status.code)) }
        return .object(object)
    }

    /// A body as the event logs it: only JSON objects and arrays, without managedFields when asked.
    static func loggedObject(_ bytes: [UInt8], isProtobuf: Bool = false, omitManagedFields: Bool) -> JSON? {
        guard var object = RequestBody(bytes: bytes, isProtobuf: isProtobuf).decoded() else { return nil }
        if omitManagedFields { stripManagedFields(&object) }
        return object
    }

    /// Removes `metadata.managedFields` from an object and from a list's items, as upstream does.
    static func stripManagedFields(_ object: inout JSON) {
        if object["metadata"]?["managedFields"] != nil { object.setMeta("managedFields", nil) }
        guard case .object(var fields) = object, case .array(var items)? = fields["items"] else { return }
        for index in items.indices { stripManagedFields(&items[index]) }
        fields["items"] = .array(items)
        object = .object(fields)
    }
}
