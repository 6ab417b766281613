import APIMachinery
import Storage

extension RegistryStore {
    /// Which part of the object an update may change.
    enum UpdateTarget: Sendable {
        case object
        case status
        /// namespaces/finalize: only `spec.finalizers` may change, the namespace controller's last step.
        case finalize
        /// pods/binding: the scheduler's assignment, written as upstream's binding storage writes it — the
        /// transform alone decides the change, and the pod-update rules (which freeze spec.nodeName) do not apply.
        case binding
        /// certificatesigningrequests/approval: only the approval conditions may change.
        case approval

        /// The subresource's name as admission sees it.
        var subresource: String {
            switch self {
            case .object: ""
            case .status: "status"
            case .finalize: "finalize"
            case .binding: "binding"
            case .approval: "approval"
            }
        }
    }

    /// The object an update or delete starts from, with the revision its write must still find.
    struct WriteBase: Sendable {
        let object: JSON
        let revision: Revision
        let lease: LeaseID
        /// Whether it came from the watch cache, which may lag storage: a decision made on it that does
        /// not end in a write at `revision` is made again on storage's copy.
        let cached: Bool
    }

    /// The watch cache's copy of `key` when `cache` allows and the cache has one, else storage's (nil when
    /// the key does not exist there). The write's revision check in storage keeps a stale copy harmless, as
    /// upstream's GuaranteedUpdate starts from the cacher's object. Objects stored with a lease (events)
    /// always come from storage, which alone knows the lease.
    func writeBase(key: String, cache: Bool) async throws -> WriteBase? {
        if cache, !strategy.expiresWithEventTTL, let cached = watchCache?.currentObject(key) {
            return WriteBase(object: cached.object, revision: cached.revision, lease: 0, cached: true)
        }
        guard let value = try await storage.get(key: key) else { return nil }
        return WriteBase(object: try decode(value), revision: value.modRevision, lease: value.lease, cached: false)
    }

    /// Read-modify-write with optimistic concurrency: `transform` gets the stored object in the served shape
    /// and returns the desired one, which is converted back and returned as stored. When the result names a
    /// resourceVersion, a stale one is a 409; otherwise a race with another writer is retried with the fresh
    /// object, as upstream's GuaranteedUpdate does. The first attempt starts from the watch cache's copy;
    /// any answer other than a successful write (an error, a no-op, a conflict) is decided again on storage's.
    /// `createIfMissing` is for PUT only: upstream creates a missing object on update for kinds that allow
    /// it, while a PATCH of a missing object is always 404.
    func update(
        namespace: String?, name: String, target: UpdateTarget = .object, options: WriteOptions,
        createIfMissing: Bool = false, transform: @Sendable (JSON) throws -> JSON
    ) async throws -> (object: JSON, created: Bool) {
        let key = key(namespace: namespace, name: name)
        var useCache = !options.dryRun
        for _ in 0..<16 {
            guard let base = try await writeBase(key: key, cache: useCache) else {
                if createIfMissing, strategy.allowCreateOnUpdate, target == .object {
                    var object = try transform(JSON.object(JSONObject()))
                    object.setMeta("resourceVersion", nil)
                    return (try await create(namespace: namespace, object: object, options: options), true)
                }
                throw APIError.notFound(groupResource, name: name)
            }
            useCache = false
            do {
                if let result = try await updateOnce(
                    base, key: key, namespace: namespace, name: name, target: target, options: options,
                    transform: transform)
                {
                    return result
                }
            } catch  where base.cached {
                continue
            }
        }
        throw APIError.staleUpdate(groupResource, name: name)
    }

    /// One attempt of `update` from `base`: the result, or nil when a race (or a cached base that did not
    /// lead to a write) means trying again on storage's copy.
    private func updateOnce(
        _ base: WriteBase, key: String, namespace: String?, name: String, target: UpdateTarget,
        options: WriteOptions, transform: @Sendable (JSON) throws -> JSON
    ) async throws -> (object: JSON, created: Bool)? {
        let old = base.object
        var object = try transform(fromStorage(old))
        try checkIdentity(&object, namespace: namespace)
        object = toStorage(object)
        let requested = object.resourceVersion.flatMap { $0.isEmpty ? nil : $0 }
        if let requested, requested != old.resourceVersion {
            guard Int64(requested) != nil else {
                throw APIError.badRequest("invalid resource version \"\(requested)\"")
            }
            throw APIError.staleUpdate(groupResource, name: name)
        }
        try prepareUpdate(&object, old: old, namespace: namespace, name: name, target: target)
        var writeContext = context
        writeContext.dryRun = options.dryRun
        let attributes = admissionAttributes(
            .update, namespace: namespace, name: name, options: options, subresource: target.subresource, old: old)
        try await context.admission.admit(attributes, object: &object, context: writeContext)
        let errors =
            validateMetadata(object, namespace: namespace)
            + (target == .binding ? [] : strategy.validateUpdate(object, old: old))
        guard errors.isEmpty else {
            throw APIError.invalid(kind: definition.storageKind, name: name, errors: errors)
        }
        try await context.admission.validate(attributes, object: object, context: writeContext)
        do {
            try await strategy.beforeUpdate(&object, old: old, context: writeContext)
        } catch let error as FieldError {
            throw APIError.invalid(kind: definition.storageKind, name: name, errors: [error])
        }
        if old["metadata"]?["deletionTimestamp"] != nil, object.finalizers.isEmpty,
            strategy.deletionMayComplete(object), !options.dryRun
        {
            // The last finalizer is gone: the pending delete completes now.
            do {
                _ = try await storage.delete(key: key, expectedRevision: base.revision)
                await strategy.afterDelete(object, context: context)
                return (object, false)
            } catch StorageError.conflict {
                if requested != nil { throw APIError.staleUpdate(groupResource, name: name) }
                return nil
            }
        }
        object.setMeta("resourceVersion", old["metadata"]?["resourceVersion"])
        recordManagedFields(&object, old: old, options: options, target: target)
        if object == old || options.dryRun {
            // Nothing to write is only an answer when `old` is storage's current object.
            return base.cached ? nil : (object, false)
        }
        do {
            let lease = try await writeLease(keeping: base.lease)
            try await store(&object, key: key) { bytes in
                try await storage.update(key: key, value: bytes, expectedRevision: base.revision, lease: lease)
            }
            return (object, false)
        } catch StorageError.conflict {
            if requested != nil { throw APIError.staleUpdate(groupResource, name: name) }
            return nil
        } catch StorageError.keyNotFound {
            throw APIError.notFound(groupResource, name: name)
        }
    }

    /// Carries over what the client may not change and bumps the generation on spec changes.
    private func prepareUpdate(_ object: inout JSON, old: JSON, namespace: String?, name: String, target: UpdateTarget)
        throws(APIError)
    {
        if let bodyName = object.name, !bodyName.isEmpty, bodyName != name {
            throw APIError.badRequest(
                "the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        if let uid = object.uid, !uid.isEmpty, uid != old.uid {
            throw APIError.conflict(
                groupResource, name: name,
                reason: "Precondition failed: UID in precondition: \(uid), UID in object meta: \(old.uid ?? "")")
        }
        object.setMeta("name", .string(name))
        switch target {
        case .object: strategy.prepareForUpdate(&object, old: old)
        case .status: strategy.prepareForStatusUpdate(&object, old: old)
        case .approval: strategy.prepareForApprovalUpdate(&object, old: old)
        case .binding: break
        case .finalize:
            var updated = old
            updated.set(["spec", "finalizers"], to: object["spec"]?["finalizers"] ?? .array([]))
            updated.setMeta("resourceVersion", object["metadata"]?["resourceVersion"])
            object = updated
        }
        for field in ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"] {
            object.setMeta(field, old["metadata"]?[field])
        }
        if target == .object { strategy.applyDefaults(&object) }
        if strategy.generation.bumps(old: old, new: object) {
            object.setMeta("generation", .int((old.generation ?? 0) + 1))
        }
    }

    // MARK: delete

    /// Deletes the object, or marks it deleting when finalizers or a graceful stop must run first.
    func delete(namespace: String?, name: String, options: DeleteOptions, write: WriteOptions) async throws
        -> DeleteOutcome
    {
        let key = key(namespace: namespace, name: name)
        var useCache = !write.dryRun
        for _ in 0..<16 {
            guard let base = try await writeBase(key: key, cache: useCache) else {
                throw APIError.notFound(groupResource, name: name)
            }
            useCache = false
            do {
                if let outcome = try await deleteOnce(
                    base, key: key, namespace: namespace, name: name, options: options, write: write)
                {
                    return outcome
                }
            } catch  where base.cached {
                continue
            }
        }
        throw APIError.staleUpdate(groupResource, name: name)
    }

    /// One attempt of `delete` from `base`: the outcome, or nil when a race (or a cached base that did not
    /// lead to a write) means trying again on storage's copy.
    private func deleteOnce(
        _ base: WriteBase, key: String, namespace: String?, name: String, options: DeleteOptions, write: WriteOptions
    ) async throws -> DeleteOutcome? {
        var object = base.object
        try options.checkPreconditions(object, resource: groupResource, name: name)
        try strategy.checkDelete(object)
        var writeContext = context
        writeContext.dryRun = write.dryRun
        try await context.admission.validate(
            admissionAttributes(.delete, namespace: namespace, name: name, options: write, old: object),
            object: object, context: writeContext)
        var marked = object
        options.applyPropagation(to: &marked, defaultPolicy: strategy.defaultGarbageCollectionPolicy)
        let waits = strategy.prepareForDelete(&marked, gracePeriodSeconds: options.gracePeriodSeconds)
        if waits || !marked.finalizers.isEmpty {
            if marked["metadata"]?["deletionTimestamp"] == nil {
                marked.setMeta("deletionTimestamp", .string(Timestamp.now()))
                marked.setMeta("deletionGracePeriodSeconds", .int(Int64(options.gracePeriodSeconds ?? 0)))
            }
            // Nothing to write is only an answer when `object` is storage's current one.
            if marked == object || write.dryRun { return base.cached ? nil : .pending(marked) }
            do {
                try await store(&marked, key: key) { bytes in
                    try await storage.update(key: key, value: bytes, expectedRevision: base.revision, lease: base.lease)
                }
                return .pending(marked)
            } catch StorageError.conflict { return nil }
        }
        if write.dryRun { return .deleted(object) }
        do {
            let result = try await storage.delete(key: key, expectedRevision: base.revision)
            object.setMeta("resourceVersion", .string(String(result.revision)))
            await strategy.afterDelete(object, context: context)
            return .deleted(object)
        } catch StorageError.conflict {
            return nil
        } catch StorageError.keyNotFound {
            throw APIError.notFound(groupResource, name: name)
        }
    }
}

/// The body and query of a DELETE: preconditions, grace period, propagation, dry-run. The body is any encoding
/// `decodeBody` reads: Go clients send it as protobuf, kubectl as JSON, and both put `dryRun` there.
struct DeleteOptions: Sendable {
    var preconditionUID: String?
    var preconditionResourceVersion: String?
    var gracePeriodSeconds: Int?
    var propagationPolicy: String?
    var dryRun = false

    init(query: [String: String], body: JSON?) throws(APIError) {
        if let body {
            guard body.objectValue != nil else {
                throw APIError.badRequest("the body of the delete request must be a DeleteOptions object")
            }
            preconditionUID = body["preconditions"]?["uid"]?.stringValue
            preconditionResourceVersion = body["preconditions"]?["resourceVersion"]?.stringValue
            gracePeriodSeconds = body["gracePeriodSeconds"]?.intValue.map { Int($0) }
            propagationPolicy = body["propagationPolicy"]?.stringValue
            if propagationPolicy == nil, let orphan = body["orphanDependents"]?.boolValue {
                propagationPolicy = orphan ? "Orphan" : "Background"
            }
            for value in body["dryRun"]?.arrayValue ?? [] {
                guard value.stringValue == "All" else {
                    throw APIError.badRequest(
                        "dryRun: Unsupported value: \(value.jsonString): supported values: \"All\"")
                }
                dryRun = true
            }
        }
        if let text = query["gracePeriodSeconds"], let value = Int(text) { gracePeriodSeconds = value }
        if let text = query["propagationPolicy"], !text.isEmpty { propagationPolicy = text }
        if let policy = propagationPolicy, !["Orphan", "Background", "Foreground"].contains(policy) {
            throw APIError.badRequest(
                "propagationPolicy: Unsupported value: \"\(policy)\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""
            )
        }
    }

    init() {}

    /// The garbage collector's finalizers for the requested propagation, as upstream's delete sets them:
    /// Orphan asks for `orphan`, Foreground for `foregroundDeletion`, Background for neither; with no policy the
    /// object's own finalizers stand, or the kind's `defaultPolicy` applies when it has none. The object then
    /// waits for the garbage collector to deal with its dependents.
    func applyPropagation(to object: inout JSON, defaultPolicy: String? = nil) {
        let own = object.finalizers.contains { $0 == Self.orphanFinalizer || $0 == Self.foregroundFinalizer }
        guard let policy = propagationPolicy ?? (own ? nil : defaultPolicy) else { return }
        var finalizers = object.finalizers.filter {
            $0 != Self.orphanFinalizer && $0 != Self.foregroundFinalizer
        }
        switch policy {
        case "Orphan": finalizers.append(Self.orphanFinalizer)
        case "Foreground": finalizers.append(Self.foregroundFinalizer)
        default: break
        }
        guard finalizers != object.finalizers else { return }
        object.setMeta("finalizers", finalizers.isEmpty ? nil : .array(finalizers.map { .string($0) }))
    }

    static let orphanFinalizer = "orphan"
    static let foregroundFinalizer = "foregroundDeletion"

    func checkPreconditions(_ object: JSON, resource: GroupResource, name: String) throws(APIError) {
        if let uid = preconditionUID, uid != object.uid {
            throw APIError.conflict(
                resource, name: name,
                reason: "Precondition failed: UID in precondition: \(uid), UID in object meta: \(object.uid ?? "")")
        }
        if let version = preconditionResourceVersion, version != object.resourceVersion {
            throw APIError.conflict(
                resource, name: name,
                reason:
                    "Precondition failed: ResourceVersion in precondition: \(version), ResourceVersion in object meta: \(object.resourceVersion ?? "")"
            )
        }
    }
}
