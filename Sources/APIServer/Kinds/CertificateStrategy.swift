import APIMachinery
import Foundation

/// certificates.k8s.io CertificateSigningRequests: the requester is recorded from the request's user, the spec
/// never changes, `approval` changes only the conditions and `status` only the certificate and the other
/// conditions, as upstream's three strategies split them. Who may approve or sign is the admission plugins' call.
struct CertificateSigningRequestStrategy: Strategy {
    static let legacyUnknownSigner = "kubernetes.io/legacy-unknown"
    /// Upstream's key usages, sorted as its error messages list them.
    static let validUsages = [
        "any", "cert sign", "client auth", "code signing", "content commitment", "crl sign", "data encipherment",
        "decipher only", "digital signature", "email protection", "encipher only", "ipsec end system",
        "ipsec tunnel", "ipsec user", "key agreement", "key encipherment", "microsoft sgc", "netscape sgc",
        "ocsp signing", "s/mime", "server auth", "signing", "timestamping",
    ]
    /// Condition types whose status may only be True.
    static let trueOnlyConditions: Set<String> = ["Approved", "Denied", "Failed"]

    func validateName(_ name: String) -> [String] { NameValidation.pathSegmentName(name) }

    func prepareForCreate(_ object: inout JSON, user: UserInfo?) {
        var spec = object["spec"]?.objectValue ?? JSONObject()
        for field in ["username", "uid", "groups", "extra"] { spec[field] = nil }
        if let user {
            spec["username"] = .string(user.name)
            if !user.uid.isEmpty { spec["uid"] = .string(user.uid) }
            if !user.groups.isEmpty { spec["groups"] = .array(user.groups.map(JSON.string)) }
            if !user.extra.isEmpty {
                var extra = JSONObject()
                for key in user.extra.keys.sorted() { extra[key] = .array((user.extra[key] ?? []).map(JSON.string)) }
                spec["extra"] = .object(extra)
            }
        }
        object["spec"] = .object(spec)
        // Nobody creates a pre-approved request.
        object["status"] = .object(JSONObject())
    }

    func prepareForUpdate(_ object: inout JSON, old: JSON) {
        object["spec"] = old["spec"]
        object["status"] = old["status"]
    }

    func prepareForStatusUpdate(_ object: inout JSON, old: JSON) {
        var updated = carryingMetadata(of: object, onto: old)
        var status = object["status"] ?? .object(JSONObject())
        // Approval belongs to the approval subresource: the stored Approved and Denied conditions stay as they are.
        var conditions = (status["conditions"]?.arrayValue ?? []).filter { !Self.isApproval($0) }
        conditions += (old["status"]?["conditions"]?.arrayValue ?? []).filter(Self.isApproval)
        status["conditions"] = conditions.isEmpty ? nil : .array(Self.stamped(conditions, old: old))
        updated["status"] = status
        object = updated
    }

    func prepareForApprovalUpdate(_ object: inout JSON, old: JSON) {
        var updated = carryingMetadata(of: object, onto: old)
        let conditions = object["status"]?["conditions"]?.arrayValue ?? []
        updated.set(
            ["status", "conditions"], to: conditions.isEmpty ? nil : .array(Self.stamped(conditions, old: old)))
        object = updated
    }

    func applyDefaults(_ object: inout JSON) {
        // v1 defaults a condition's status to True.
        guard var conditions = object["status"]?["conditions"]?.arrayValue else { return }
        for index in conditions.indices where (conditions[index]["status"]?.stringValue ?? "").isEmpty {
            conditions[index]["status"] = "True"
        }
        object.set(["status", "conditions"], to: .array(conditions))
    }

    func validate(_ object: JSON) -> [FieldError] { Self.validate(object, old: nil) }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        var errors = Self.validate(object, old: old)
        for type in ["Approved", "Denied", "Failed"]
        where Self.conditions(object, type).count < Self.conditions(old, type).count {
            errors.append(.forbidden("status.conditions", "updates may not remove a condition of type \"\(type)\""))
        }
        let certificate = object["status"]?["certificate"]?.stringValue ?? ""
        let oldCertificate = old["status"]?["certificate"]?.stringValue ?? ""
        if certificate != oldCertificate, !oldCertificate.isEmpty {
            errors.append(.forbidden("status.certificate", "updates may not modify existing certificate content"))
        }
        return errors
    }

    func selectableFields(_ object: JSON) -> [String: String] {
        ["spec.signerName": object["spec"]?["signerName"]?.stringValue ?? ""]
    }

    var columns: [Table.Column] {
        [
            .name, .age, Table.Column("SignerName"), Table.Column("Requestor"), Table.Column("RequestedDuration"),
            Table.Column("Condition"),
        ]
    }

    func cells(_ object: JSON) -> [JSON] {
        let spec = object["spec"]
        let duration = spec?["expirationSeconds"]?.intValue.map {
            Timestamp.humanDuration(seconds: $0)
        }
        return [
            Cells.name(object), Cells.age(object), Cells.string(spec?["signerName"], default: ""),
            Cells.string(spec?["username"], default: ""), .string(duration ?? "<none>"),
            .string(Self.conditionText(object)),
        ]
    }

    /// Upstream's summary: Denied, else Approved, else Pending; then `,Failed` and `,Issued` when they apply.
    static func conditionText(_ object: JSON) -> String {
        let types = Set((object["status"]?["conditions"]?.arrayValue ?? []).compactMap { $0["type"]?.stringValue })
        var text = types.contains("Denied") ? "Denied" : types.contains("Approved") ? "Approved" : "Pending"
        if types.contains("Failed") { text += ",Failed" }
        if !(object["status"]?["certificate"]?.stringValue ?? "").isEmpty { text += ",Issued" }
        return text
    }

    static func isApproval(_ condition: JSON) -> Bool {
        let type = condition["type"]?.stringValue
        return type == "Approved" || type == "Denied"
    }

    static func conditions(_ object: JSON, _ type: String) -> [JSON] {
        (object["status"]?["conditions"]?.arrayValue ?? []).filter { $0["type"]?.stringValue == type }
    }

    /// Conditions with their status defaulted and their timestamps filled as upstream fills them: an unchanged
    /// condition keeps its transition time, a new or changed one takes now.
    static func stamped(_ conditions: [JSON], old: JSON) -> [JSON] {
        let now = Timestamp.now()
        let previous = old["status"]?["conditions"]?.arrayValue ?? []
        return conditions.map { condition in
            var condition = condition
            // v1 defaults a condition's status to True, whichever subresource wrote it.
            if (condition["status"]?.stringValue ?? "").isEmpty { condition["status"] = "True" }
            if (condition["lastUpdateTime"]?.stringValue ?? "").isEmpty { condition["lastUpdateTime"] = .string(now) }
            if (condition["lastTransitionTime"]?.stringValue ?? "").isEmpty {
                let same = previous.first {
                    $0["type"] == condition["type"] && $0["status"] == condition["status"]
                        && !($0["lastTransitionTime"]?.stringValue ?? "").isEmpty
                }
                condition["lastTransitionTime"] = same?["lastTransitionTime"] ?? .string(now)
            }
            return condition
        }
    }

    /// `old` with the labels, annotations and resourceVersion a subresource writer sent.
    private func carryingMetadata(of object: JSON, onto old: JSON) -> JSON {
        var updated = old
        updated.setMeta("labels", object["metadata"]?["labels"])
        updated.setMeta("annotations", object["metadata"]?["annotations"])
        updated.setMeta("resourceVersion", object["metadata"]?["resourceVersion"])
        return updated
    }
}
