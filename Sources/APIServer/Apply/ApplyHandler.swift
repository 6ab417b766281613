import APIMachinery
import Operations
import Schemas

/// A server-side apply request: `application/apply-patch+yaml` (YAML or JSON) with its options.
struct ApplyRequest: Sendable {
    static let mediaTypes: Set<String> = ["application/apply-patch+yaml", "application/apply-patch+json"]

    let configuration: JSON
    let manager: String
    let force: Bool

    /// True when the request's Content-Type is an apply patch.
    static func matches(_ request: HTTPRequest) -> Bool {
        let contentType = (request.header("content-type") ?? "").lowercased()
        let mediaType = contentType.split(separator: ";").first.map { String($0).trimmingSpaces } ?? ""
        return mediaTypes.contains(mediaType)
    }

    init(_ request: HTTPRequest) throws(APIError) {
        guard let manager = request.query["fieldManager"], !manager.isEmpty else {
            throw APIError.invalidOptions(
                "PatchOptions", field: "fieldManager", reason: "FieldValueRequired",
                detail: "Required value: is required for apply patch")
        }
        self.manager = manager
        switch request.query["force"] {
        case nil, "", "false": force = false
        case "true": force = true
        case let other?:
            throw APIError.badRequest("force: Invalid value: \"\(other)\": must be true or false")
        }
        configuration = try Self.decode(request.body)
        guard configuration.objectValue != nil else {
            throw APIError.badRequest("error decoding patch: the applied configuration must be an object")
        }
        if configuration["metadata"]?["managedFields"] != nil {
            throw APIError.badRequest("metadata.managedFields must be nil")
        }
        if (configuration["kind"]?.stringValue ?? "").isEmpty {
            throw APIError.badRequest(
                "Object 'Kind' is missing in '\(String(decoding: request.body.prefix(256), as: UTF8.self))'")
        }
    }

    /// Reads the body as JSON (what kubectl sends), else as a single YAML document.
    static func decode(_ body: [UInt8]) throws(APIError) -> JSON {
        let document: JSON?
        do {
            document = try YAMLDocument.decode(body)
        } catch {
            throw APIError.badRequest("error decoding YAML: \(error.message)")
        }
        guard let document else {
            throw APIError.badRequest("error decoding patch: the applied configuration is empty")
        }
        return document
    }
}

extension APIServer {
    /// Server-side apply: merges the manager's configuration into the live object (creating it when missing),
    /// with 409 on fields other managers own unless `force`, and fields the manager stopped applying removed.
    func handleApply(
        _ request: HTTPRequest, info: RequestInfo, store: RegistryStore, namespace: String?, write: WriteOptions,
        fields: FieldValidation, encoder: ResponseEncoder
    ) async throws -> HTTPResponse {
        let apply = try ApplyRequest(request)
        let definition = store.definition
        let name = info.name ?? ""
        var configuration = apply.configuration
        if let bodyName = configuration.name, !bodyName.isEmpty, bodyName != name {
            throw APIError.badRequest(
                "the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        try fields.apply(&configuration, definition: definition)
        let config = configuration
        let subresource = info.subresource ?? ""
        let target: RegistryStore.UpdateTarget = subresource == "status" ? .status : .object
        let manager = store.fieldManager(subresource: subresource)
        var options = write
        options.fieldManager = apply.manager
        options.managedFieldsComputed = true
        let pinsVersion = !(config.resourceVersion ?? "").isEmpty
        do {
            let (object, _) = try await store.update(
                namespace: namespace, name: name, target: target, options: options
            ) { old in
                var applied = try Self.runApply(manager, config, to: old, apply: apply, subresource: subresource)
                if !pinsVersion { applied.setMeta("resourceVersion", nil) }
                return applied
            }
            return fields.decorate(encoder.object(object))
        } catch let error as APIError where error.code == 404 && error.reason == .notFound && target == .object {
            var object = try Self.runApply(manager, config, to: nil, apply: apply, subresource: subresource)
            object.setMeta("name", .string(name))
            let created = try await store.create(namespace: namespace, object: object, options: options)
            return fields.decorate(encoder.object(created, status: .created))
        }
    }

    static func runApply(
        _ manager: FieldManager, _ config: JSON, to live: JSON?, apply: ApplyRequest, subresource: String
    ) throws(APIError) -> JSON {
        do {
            return try manager.apply(
                config, to: live, manager: apply.manager, subresource: subresource, force: apply.force,
                now: Timestamp.now())
        } catch {
            throw APIError(
                code: 409, reason: .conflict, message: error.description,
                details: [
                    "causes": .array(
                        error.conflicts.map {
                            [
                                "reason": "FieldManagerConflict", "message": .string("conflict with \($0.manager)"),
                                "field": .string($0.path.pathDescription),
                            ]
                        })
                ])
        }
    }
}

extension APIServer {
    /// Server-side apply of an autoscaling/v1 Scale: the manager applies the workload's `spec.replicas`
    /// through the `scale` subresource, with the same ownership and conflicts as on the object.
    func applyScale(
        _ request: HTTPRequest, info: RequestInfo, store: RegistryStore, namespace: String?, write: WriteOptions
    ) async throws -> HTTPResponse {
        let apply = try ApplyRequest(request)
        let name = info.name ?? ""
        let scaleKind = GroupVersionKind(group: "autoscaling", version: "v1", kind: "Scale")
        if let kind = apply.configuration["kind"]?.stringValue, kind != scaleKind.kind {
            throw APIError.badRequest(
                "the kind in the data (\(kind)) does not match the expected kind (\(scaleKind.kind))")
        }
        if let bodyName = apply.configuration.name, !bodyName.isEmpty, bodyName != name {
            throw APIError.badRequest(
                "the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        var config: JSON = [
            "apiVersion": .string(store.definition.apiVersion), "kind": .string(store.definition.kind),
        ]
        if let replicas = apply.configuration["spec"]?["replicas"] {
            guard let count = replicas.intValue, count >= 0 else {
                throw APIError.invalid(
                    kind: scaleKind, name: name,
                    errors: [.invalid("spec.replicas", replicas, "must be greater than or equal to 0")])
            }
            config.set(["spec", "replicas"], to: .int(count))
        }
        let parentConfig = config
        let manager = store.fieldManager(subresource: "scale")
        var options = write
        options.fieldManager = apply.manager
        options.managedFieldsComputed = true
        let (object, _) = try await store.update(namespace: namespace, name: name, options: options) { old in
            var applied = try Self.runApply(manager, parentConfig, to: old, apply: apply, subresource: "scale")
            applied.setMeta("resourceVersion", nil)
            return applied
        }
        return .json(Self.scale(of: object))
    }
}
