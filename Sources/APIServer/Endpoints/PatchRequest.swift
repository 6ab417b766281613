import APIMachinery
import Schemas

/// A PATCH body and its type: JSON patch, merge patch and strategic merge patch (server-side apply is `ApplyRequest`).
struct PatchRequest: Sendable {
    enum PatchType: Sendable {
        case json
        case merge
        case strategic
    }

    /// Every patch media type the server takes, in upstream's order for its 415 message.
    static let accepted = [
        "application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml",
        "application/strategic-merge-patch+json",
    ]

    let type: PatchType
    let patch: JSON

    init(_ request: HTTPRequest) throws(APIError) {
        let contentType = (request.header("content-type") ?? "").lowercased()
        let mediaType = contentType.split(separator: ";").first.map { String($0).trimmingSpaces } ?? ""
        switch mediaType {
        case "application/json-patch+json": type = .json
        case "application/merge-patch+json": type = .merge
        case "application/strategic-merge-patch+json": type = .strategic
        default:
            throw APIError.unsupportedMediaType(mediaType, accepted: Self.accepted)
        }
        if request.query["force"] != nil {
            throw APIError.invalidOptions(
                "PatchOptions", field: "force", reason: "FieldValueForbidden",
                detail: "Forbidden: may not be specified for non-apply patch")
        }
        do {
            patch = try JSON.parse(request.body)
        } catch {
            throw APIError.badRequest("error decoding patch: \(error.message)")
        }
        if type != .json, patch.objectValue == nil {
            throw APIError.badRequest("error decoding patch: a merge patch must be a JSON object")
        }
    }

    /// Whether the patch itself pins a resourceVersion (then a race is a conflict, not a retry).
    var namesResourceVersion: Bool {
        switch type {
        case .merge, .strategic: return patch["metadata"]?["resourceVersion"] != nil
        case .json:
            return (patch.arrayValue ?? []).contains { $0["path"]?.stringValue == "/metadata/resourceVersion" }
        }
    }

    func apply(to object: JSON, kind: GroupVersionKind) throws -> JSON {
        switch type {
        case .merge:
            return MergePatch.apply(patch, to: object)
        case .strategic:
            do {
                return try StrategicMergePatch.apply(patch, to: object, kind: kind)
            } catch {
                throw APIError(code: 422, reason: .invalid, message: error.message)
            }
        case .json:
            do {
                return try JSONPatch.apply(patch, to: object)
            } catch {
                if error.malformed { throw APIError.badRequest(error.message) }
                throw APIError(code: 422, reason: .invalid, message: error.message)
            }
        }
    }
}
