import APIMachinery
import NIOHTTP1

extension APIServer {
    /// Serves one resource request; an error goes out as a Status in the media type the client accepts, so
    /// a protobuf client reads protobuf errors.
    /// Admission webhooks' warnings go back as `Warning` headers, on refusals too.
    func handleResource(_ request: HTTPRequest, info: RequestInfo) async throws -> HTTPResponse {
        // Reads run no admission, so they collect no warnings.
        let warnings = info.isRead ? nil : AdmissionWarnings()
        do {
            guard let warnings else { return try await serveResource(request, info: info) }
            let response = try await AdmissionWarnings.$current.withValue(warnings) {
                try await serveResource(request, info: info)
            }
            return response.addingWarnings(warnings.all)
        } catch let error as APIError {
            if error.code == 500 { logInternalError(error.message, request: request) }
            let media =
                stores[Self.storeKey(info.group, info.version, info.resource)].flatMap { store in
                    try? ResponseFormat.negotiate(
                        accept: request.header("accept"), capabilities: ResponseEncoder.capabilities(store))
                }?.media ?? .json
            let response = ResponseEncoder.error(error, media: media)
            return response.addingWarnings(warnings?.all ?? [])
        }
    }

    /// Finds the store, checks scope and subresource, runs the verb.
    private func serveResource(_ request: HTTPRequest, info: RequestInfo) async throws -> HTTPResponse {
        guard let store = stores[Self.storeKey(info.group, info.version, info.resource)] else {
            throw APIError.resourceNotFound()
        }
        let definition = store.definition
        if !definition.namespaced, info.namespace != nil { throw APIError.resourceNotFound() }
        if let subresource = info.subresource, !definition.subresources.contains(subresource) {
            throw APIError.resourceNotFound()
        }
        let namespace = definition.namespaced ? info.namespace : nil
        if definition.namespaced, namespace == nil, info.name != nil || info.verb == "create" {
            throw APIError.resourceNotFound()
        }
        // Reads write nothing, so they need no field manager (made from the User-Agent otherwise).
        let write = WriteOptions(
            dryRun: request.query["dryRun"] == "All",
            fieldManager: info.isRead ? nil : WriteOptions.fieldManager(request),
            user: request.user)
        if let dryRun = request.query["dryRun"], !dryRun.isEmpty, dryRun != "All" {
            throw APIError.badRequest("dryRun: Unsupported value: \"\(dryRun)\": supported values: \"All\"")
        }
        try WriteOptions.validateFieldManager(request, verb: info.verb)
        let encoder = try ResponseEncoder(request: request, store: store, stream: info.verb == "watch")
        let fields = try FieldValidation(query: request.query)

        if info.subresource == "scale" {
            return try await handleScale(request, info: info, store: store, namespace: namespace, write: write)
        }
        switch (info.verb, info.subresource) {
        case ("get", nil), ("get", "status"), ("get", "approval"):
            let read = try await store.read(
                namespace: namespace, name: info.name ?? "", resourceVersion: request.query["resourceVersion"])
            if encoder.wantsRaw, let bytes = read.raw { return .json(bytes) }
            return encoder.object(try read.object())
        case ("list", _):
            let options = try ListOptions(query: request.query)
            return encoder.list(try await store.list(namespace: namespace, options: options, raw: encoder.wantsRaw))
        case ("watch", _):
            var options = try ListOptions(query: request.query)
            if let name = info.name {
                options.fieldSelector.terms.append(FieldSelector.Term(field: "metadata.name", value: name, equal: true))
            }
            return encoder.watch(try await store.watch(namespace: namespace, options: options), options: options)
        case ("create", nil):
            var body = try decodeBody(request)
            try fields.apply(&body, definition: definition)
            let created = try await store.createObject(namespace: namespace, object: body, options: write)
            // JSON goes out as the stored bytes, as a GET sends them, rather than encoded a second time.
            if encoder.wantsRaw, let stored = created.stored, let bytes = store.rawObject(stored) {
                return fields.decorate(.json(bytes, status: .created))
            }
            return fields.decorate(encoder.object(created.object, status: .created))
        case ("create", "eviction"):
            return try await evict(request, store: store, namespace: namespace, name: info.name ?? "", write: write)
        case ("create", "token") where definition.resource == "serviceaccounts":
            return try await requestToken(request, namespace: namespace ?? "", name: info.name ?? "")
        case ("create", "binding"):
            return try await bind(request, store: store, namespace: namespace, name: info.name ?? "", write: write)
        case ("update", nil), ("update", "status"), ("update", "finalize"), ("update", "approval"):
            var decoded = try decodeBody(request)
            try fields.apply(&decoded, definition: definition)
            let body = decoded
            let target: RegistryStore.UpdateTarget =
                switch info.subresource {
                case "status": .status
                case "finalize": .finalize
                case "approval": .approval
                default: .object
                }
            let (object, created) = try await store.update(
                namespace: namespace, name: info.name ?? "", target: target, options: write, createIfMissing: true
            ) { _ in body }
            return fields.decorate(encoder.object(object, status: created ? .created : .ok))
        case ("patch", nil), ("patch", "status"), ("patch", "approval"):
            if ApplyRequest.matches(request) {
                return try await handleApply(
                    request, info: info, store: store, namespace: namespace, write: write, fields: fields,
                    encoder: encoder)
            }
            let patch = try PatchRequest(request)
            let target: RegistryStore.UpdateTarget =
                switch info.subresource {
                case "status": .status
                case "approval": .approval
                default: .object
                }
            let (object, _) = try await store.update(
                namespace: namespace, name: info.name ?? "", target: target, options: write
            ) { old in
                var patched = try patch.apply(to: old, kind: definition.groupVersionKind)
                try fields.apply(&patched, definition: definition)
                // A patch that does not name a resourceVersion must not fail on a race: it is re-applied.
                if patch.namesResourceVersion == false { patched.setMeta("resourceVersion", nil) }
                return patched
            }
            return fields.decorate(encoder.object(object))
        case ("delete", nil):
            let options = try deleteOptions(request)
            var write = write
            write.dryRun = write.dryRun || options.dryRun
            switch try await store.delete(namespace: namespace, name: info.name ?? "", options: options, write: write) {
            case .pending(let object):
                return encoder.object(object)
            case .deleted(let object):
                return HTTPResponse.json(Self.successStatus(object, store: store))
            }
        case ("deletecollection", nil):
            let listOptions = try ListOptions(query: request.query)
            let options = try deleteOptions(request)
            var write = write
            write.dryRun = write.dryRun || options.dryRun
            let page = try await store.list(namespace: namespace, options: listOptions)
            var deleted: [JSON] = []
            for object in page.items {
                do {
                    switch try await store.delete(
                        namespace: object.namespace, name: object.name ?? "", options: options, write: write)
                    {
                    case .deleted(let gone), .pending(let gone): deleted.append(gone)
                    }
                } catch let error as APIError where error.code == 404 {
                    continue
                }
            }
            var list = page
            list.items = deleted
            return encoder.list(list)
        default:
            throw APIError.methodNotAllowed()
        }
    }

    /// upstream's answer to a completed delete of most kinds: a Success Status naming the object.
    static func successStatus(_ object: JSON, store: RegistryStore) -> JSON {
        var details: JSONObject = ["name": .string(object.name ?? "")]
        if !store.definition.group.isEmpty { details["group"] = .string(store.definition.group) }
        details["kind"] = .string(store.definition.resource)
        details["uid"] = .string(object.uid ?? "")
        return [
            "kind": "Status", "apiVersion": "v1", "metadata": .object(JSONObject()), "status": "Success",
            "details": .object(details),
        ]
    }

    /// Parses a request body: JSON, or the Kubernetes protobuf typed kubectl commands send; 415 for other
    /// media types and 400 for malformed bodies.
    func decodeBody(_ request: HTTPRequest) throws(APIError) -> JSON {
        let given = request.header("content-type")
        // The usual header needs no parsing of media type and parameters (perf: 0.7% of a create).
        if given == nil || given == "application/json" { return try Self.decodeJSON(request.body) }
        let contentType = (given ?? "application/json").lowercased()
        let mediaType = contentType.split(separator: ";").first.map { String($0).trimmingSpaces } ?? ""
        if KubernetesProtobuf.isProtobuf(contentType: mediaType) {
            do {
                return try KubernetesProtobuf.decode(request.body).object
            } catch {
                if error.reason == .malformed { throw APIError.badRequest("error decoding request body: \(error)") }
                throw APIError(code: 415, reason: .unsupportedMediaType, message: error.message)
            }
        }
        guard mediaType == "application/json" || mediaType == "*/*" || mediaType.isEmpty else {
            throw APIError.unsupportedMediaType(
                mediaType, accepted: ["application/json", "application/vnd.kubernetes.protobuf"])
        }
        return try Self.decodeJSON(request.body)
    }

    /// A DELETE's options from its query and its body, when it has one, in the body's encoding.
    func deleteOptions(_ request: HTTPRequest) throws(APIError) -> DeleteOptions {
        let body: JSON? = request.body.isEmpty ? .none : try decodeBody(request)
        return try DeleteOptions(query: request.query, body: body)
    }

    /// A JSON body, which must be an object.
    static func decodeJSON(_ bytes: [UInt8]) throws(APIError) -> JSON {
        let body: JSON
        do {
            body = try JSON.parse(bytes)
        } catch {
            throw APIError.badRequest("error decoding request body: \(error.message)")
        }
        guard body.objectValue != nil else {
            throw APIError.badRequest("the body of the request must be a JSON object")
        }
        return body
    }

    /// pods/binding: sets spec.nodeName once, as the scheduler's bind call does.
    func bind(_ request: HTTPRequest, store: RegistryStore, namespace: String?, name: String, write: WriteOptions)
        async throws -> HTTPResponse
    {
        try await PodBinding.bind(decodeBody(request), store: store, namespace: namespace, name: name, options: write)
        return HTTPResponse.json(PodBinding.success, status: .created)
    }
}
