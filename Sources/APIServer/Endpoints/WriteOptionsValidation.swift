import APIMachinery

extension APIError {
    /// Upstream's 422 for bad request options: `<kind>.meta.k8s.io "" is invalid: <field>: <detail>`.
    static func invalidOptions(_ kind: String, field: String, reason: String, detail: String) -> APIError {
        APIError(
            code: 422, reason: .invalid, message: "\(kind).meta.k8s.io \"\" is invalid: \(field): \(detail)",
            details: [
                "group": "meta.k8s.io", "kind": .string(kind),
                "causes": [["reason": .string(reason), "message": .string(detail), "field": .string(field)]],
            ])
    }
}

extension WriteOptions {
    /// Upstream's longest `fieldManager`, in bytes.
    static let fieldManagerMaxLength = 128

    private static let optionsKinds = ["create": "CreateOptions", "update": "UpdateOptions", "patch": "PatchOptions"]

    /// Upstream's check of a given `fieldManager` on creates, updates and patches, with the options kind of the verb.
    static func validateFieldManager(_ request: HTTPRequest, verb: String) throws(APIError) {
        guard let manager = request.query["fieldManager"], let kind = optionsKinds[verb] else { return }
        if manager.utf8.count > fieldManagerMaxLength {
            throw APIError.invalidOptions(
                kind, field: "fieldManager", reason: "FieldValueTooLong",
                detail: "Too long: may not be more than \(fieldManagerMaxLength) bytes")
        }
    }
}
