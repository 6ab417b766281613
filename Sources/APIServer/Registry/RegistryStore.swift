import APIMachinery
import Foundation
import Storage

/// Options every write carries: dry-run and the field manager's name.
struct WriteOptions: Sendable {
    var dryRun = false
    var fieldManager: String?
    var user: UserInfo?
    /// Set by server-side apply, which keeps `managedFields` itself.
    var managedFieldsComputed = false
    /// The subresource (`scale`) a write came through when it goes to the object itself.
    var subresource = ""
}

/// A created object and, when it was written, what storage holds for it: a JSON response can send those
/// bytes with the resourceVersion spliced in (`rawObject`), as a GET of the object would, instead of encoding again.
struct CreatedObject: Sendable {
    var object: JSON
    /// Nil for a dry run, which stores nothing.
    var stored: KeyValue?
}

/// What a delete did: removed the object, or marked it and left it for finalizers or a graceful stop.
enum DeleteOutcome: Sendable {
    case deleted(JSON)
    case pending(JSON)
}

/// The one store every kind shares: create, get, update, delete, list and watch with upstream's
/// semantics, over any `KeyValueStore`. Kinds differ only through their `Strategy`.
public final class RegistryStore: Sendable {
    public let definition: ResourceDefinition
    let storage: any KeyValueStore
    let context: RegistryContext
    /// `/registry/<folder>/`; a namespaced object lives at `<prefix><namespace>/<name>`.
    let prefix: String
    /// Serves watches from one shared storage watch; nil when the cache is turned off (`--watch-cache=false`).
    let watchCache: WatchCache?

    /// `sharedWatchCache` is the cache of another resource stored under the same prefix (a version served
    /// through a conversion); without one the store makes its own from `watchCache`.
    init(
        definition: ResourceDefinition, storage: any KeyValueStore, context: RegistryContext, storagePrefix: String,
        watchCache: WatchCacheConfiguration? = WatchCacheConfiguration(), sharedWatchCache: WatchCache? = nil
    ) {
        self.definition = definition
        self.storage = storage
        self.context = context
        let prefix = Self.prefix(of: definition, storagePrefix: storagePrefix)
        self.prefix = prefix
        self.watchCache =
            sharedWatchCache
            ?? watchCache.map {
                WatchCache(definition: definition, prefix: prefix, storage: storage, configuration: $0)
            }
    }

    /// The key prefix of a resource's objects: `/registry/<folder>/`.
    static func prefix(of definition: ResourceDefinition, storagePrefix: String) -> String {
        storagePrefix + "/" + definition.storageFolder + "/"
    }

    var strategy: any Strategy { definition.strategy }
    var groupResource: GroupResource { definition.groupResource }

    func key(namespace: String?, name: String) -> String {
        if definition.namespaced, let namespace { return prefix + namespace + "/" + name }
        return prefix + name
    }

    /// The range a list or watch covers: one namespace, or every object of the kind.
    func rangePrefix(namespace: String?) -> String {
        if definition.namespaced, let namespace, !namespace.isEmpty { return prefix + namespace + "/" }
        return prefix
    }

    /// A served object in the stored shape; the identity for resources stored as served.
    func toStorage(_ object: JSON) -> JSON { definition.conversion?.toStorage(object) ?? object }

    /// A stored object in the served shape; the identity for resources stored as served.
    func fromStorage(_ object: JSON) -> JSON { definition.conversion?.fromStorage(object) ?? object }

    /// Stored bytes carry no resourceVersion; it is the key's modRevision, set on the way out.
    func decode(_ value: KeyValue) throws(APIError) -> JSON { try Self.decode(value) }

    static func decode(_ value: KeyValue) throws(APIError) -> JSON {
        guard var object = try? JSON.parse(value.value) else {
            throw APIError.internalError("stored object at \(value.key) is not valid JSON")
        }
        object.setMeta("resourceVersion", .string(String(value.modRevision)))
        return object
    }

    /// Stored objects begin with apiVersion, kind and metadata, in that order, so `rawObject` can find the
    /// object's own metadata without parsing.
    func encode(_ object: JSON) -> [UInt8] { Self.storedShape(object).encoded() }

    /// `object` as storage keeps it: without resourceVersion, apiVersion, kind and metadata first.
    static func storedShape(_ object: JSON) -> JSON {
        var stored = object
        stored.setMeta("resourceVersion", nil)
        guard case .object(let fields) = stored else { return stored }
        var ordered = JSONObject()
        ordered.entries.reserveCapacity(fields.count)
        for key in ["apiVersion", "kind", "metadata"] { if let value = fields[key] { ordered[key] = value } }
        for entry in fields.entries where !["apiVersion", "kind", "metadata"].contains(entry.key) {
            ordered.entries.append(entry)
        }
        return .object(ordered)
    }

    /// Writes `object` with `write` (a storage create or update of its stored bytes) and sets its new
    /// resourceVersion; the watch cache gets the object as written, so its event parses nothing.
    /// Returns the bytes written at their revision, whatever the storage answered with.
    @discardableResult
    func store(_ object: inout JSON, key: String, _ write: ([UInt8]) async throws -> KeyValue) async throws
        -> KeyValue
    {
        let stored = Self.storedShape(object)
        let bytes = stored.encoded()
        watchCache?.written.note(key: key, bytes: bytes, object: stored)
        let value = try await write(bytes)
        object.setMeta("resourceVersion", .string(String(value.modRevision)))
        return KeyValue(
            key: key, value: bytes, createRevision: value.createRevision, modRevision: value.modRevision,
            lease: value.lease)
    }

    static let metadataMarker = Array(#""metadata":{"#.utf8)

    /// The stored bytes with `metadata.resourceVersion` set, without parsing: reads and lists answer with
    /// these directly. Inside JSON strings quotes are escaped, so the first `"metadata":{` after the short
    /// apiVersion and kind fields is the object's own metadata.
    func rawObject(_ value: KeyValue) -> [UInt8]? { Self.rawObject(value) }

    static func rawObject(_ value: KeyValue) -> [UInt8]? {
        let bytes = value.value
        let marker = metadataMarker
        let limit = min(bytes.count - marker.count, 512)
        guard limit >= 0 else { return nil }
        var index = 0
        search: while index <= limit {
            for offset in 0..<marker.count where bytes[index + offset] != marker[offset] {
                index += 1
                continue search
            }
            let insertAt = index + marker.count
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count + 32)
            out.append(contentsOf: bytes[..<insertAt])
            out.append(contentsOf: #""resourceVersion":""#.utf8)
            out.append(contentsOf: String(value.modRevision).utf8)
            out.append(UInt8(ascii: "\""))
            if insertAt < bytes.count, bytes[insertAt] != UInt8(ascii: "}") { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: bytes[insertAt...])
            return out
        }
        return nil
    }

    // MARK: get

    func get(namespace: String?, name: String) async throws -> JSON {
        try decode(try await getValue(namespace: namespace, name: name))
    }

    func getValue(namespace: String?, name: String) async throws -> KeyValue {
        guard let value = try await storage.get(key: key(namespace: namespace, name: name)) else {
            throw APIError.notFound(groupResource, name: name)
        }
        return value
    }

    // MARK: create

    /// Creates `input` (in the served shape) and returns the stored object.
    ///
    /// A name made from `generateName` that is already taken is generated afresh, up to eight attempts in all,
    /// as upstream's RetryGenerateName (GA in 1.32) does: five random characters collide a few times in every
    /// ten thousand pods of one ReplicaSet.
    func create(namespace: String?, object input: JSON, options: WriteOptions) async throws -> JSON {
        try await createObject(namespace: namespace, object: input, options: options).object
    }

    /// `create`, keeping what was stored for the response.
    func createObject(namespace: String?, object input: JSON, options: WriteOptions) async throws -> CreatedObject {
        let generated = (input.name ?? "").isEmpty && !(input.generateName ?? "").isEmpty
        var attempt = 1
        while true {
            do {
                return try await createOnce(namespace: namespace, object: input, options: options)
            } catch let error as APIError where generated && error.reason == .alreadyExists && attempt < 8 {
                attempt += 1
            }
        }
    }

    private func createOnce(namespace: String?, object input: JSON, options: WriteOptions) async throws
        -> CreatedObject
    {
        var object = input
        try checkIdentity(&object, namespace: namespace)
        object = toStorage(object)
        if (object.name ?? "").isEmpty, let generateName = object.generateName, !generateName.isEmpty {
            object.setMeta("name", .string(Self.generatedName(generateName)))
        }
        let name = object.name ?? ""
        object.setMeta("uid", .string(RandomIdentifiers.uuid()))
        object.setMeta("creationTimestamp", .string(Timestamp.now()))
        object.setMeta("resourceVersion", nil)
        object.setMeta("deletionTimestamp", nil)
        object.setMeta("deletionGracePeriodSeconds", nil)
        object.setMeta("generation", strategy.generation.initial)
        strategy.prepareForCreate(&object, user: options.user)
        strategy.applyDefaults(&object)
        var writeContext = context
        writeContext.dryRun = options.dryRun
        let attributes = admissionAttributes(.create, namespace: namespace, name: name, options: options)
        try await context.admission.admit(attributes, object: &object, context: writeContext)
        let errors = validateMetadata(object, namespace: namespace) + strategy.validate(object)
        guard errors.isEmpty else {
            throw APIError.invalid(kind: definition.storageKind, name: name, errors: errors)
        }
        try await context.admission.validate(attributes, object: object, context: writeContext)
        do {
            try await strategy.beforeCreate(&object, context: writeContext)
        } catch let error as FieldError {
            throw APIError.invalid(kind: definition.storageKind, name: name, errors: [error])
        }
        recordManagedFields(&object, old: nil, options: options)
        if options.dryRun {
            if try await storage.get(key: key(namespace: namespace, name: name)) != nil {
                throw APIError.alreadyExists(groupResource, name: name)
            }
            return CreatedObject(object: object, stored: nil)
        }
        do {
            let key = key(namespace: namespace, name: name)
            let lease = try await writeLease(keeping: 0)
            let stored = try await store(&object, key: key) { bytes in
                try await storage.create(key: key, value: bytes, lease: lease)
            }
            return CreatedObject(object: object, stored: stored)
        } catch StorageError.keyExists {
            await strategy.afterDelete(object, context: context)
            throw APIError.alreadyExists(groupResource, name: name)
        } catch {
            await strategy.afterDelete(object, context: context)
            throw error
        }
    }

    /// The admission view of a write through this store.
    func admissionAttributes(
        _ operation: AdmissionAttributes.Operation, namespace: String?, name: String, options: WriteOptions,
        subresource: String = "", old: JSON? = nil
    ) -> AdmissionAttributes {
        AdmissionAttributes(
            operation: operation, resource: groupResource, kind: definition.groupVersionKind,
            subresource: subresource, namespace: definition.namespaced ? namespace : nil, name: name,
            user: options.user, dryRun: options.dryRun, oldObject: old)
    }

    /// Checks that the body's kind, apiVersion and namespace agree with the URL, and fills them in.
    func checkIdentity(_ object: inout JSON, namespace: String?) throws(APIError) {
        guard object.objectValue != nil else {
            throw APIError.badRequest("the body of the request must be a JSON object")
        }
        if let kind = object["kind"], kind.stringValue != definition.kind, kind.stringValue != "" {
            throw APIError.badRequest(
                "the kind in the data (\(kind.stringValue ?? kind.jsonString)) does not match the expected kind (\(definition.kind))"
            )
        }
        if let apiVersion = object["apiVersion"], apiVersion.stringValue != definition.apiVersion,
            apiVersion.stringValue != ""
        {
            throw APIError.badRequest(
                "the API version in the data (\(apiVersion.stringValue ?? "")) does not match the expected API version (\(definition.apiVersion))"
            )
        }
        object["kind"] = .string(definition.kind)
        object["apiVersion"] = .string(definition.apiVersion)
        if definition.namespaced {
            if let bodyNamespace = object.namespace, !bodyNamespace.isEmpty, bodyNamespace != namespace {
                throw APIError.badRequest(
                    "the namespace of the provided object does not match the namespace sent on the request")
            }
            if let namespace { object.setMeta("namespace", .string(namespace)) }
        } else {
            object.setMeta("namespace", nil)
        }
    }

    /// Five characters from upstream's alphabet (no vowels, no look-alikes).
    static func generatedName(_ base: String) -> String {
        let trimmed = base.count > 58 ? String(base.prefix(58)) : base
        return trimmed + (generatedSuffix?() ?? RandomIdentifiers.nameSuffix())
    }

    /// Replaces the random suffix within a task, so a test can make generated names collide.
    @TaskLocal static var generatedSuffix: (@Sendable () -> String)?

    func validateMetadata(_ object: JSON, namespace: String?) -> [FieldError] {
        var errors: [FieldError] = []
        let name = object.name ?? ""
        if name.isEmpty {
            errors.append(.required("metadata.name", "name or generateName is required"))
        } else {
            for problem in strategy.validateName(name) {
                errors.append(.invalid("metadata.name", .string(name), problem))
            }
        }
        if definition.namespaced, (namespace ?? "").isEmpty {
            errors.append(.required("metadata.namespace", ""))
        }
        if let labels = object["metadata"]?["labels"], labels.objectValue == nil, !labels.isNull {
            errors.append(.invalid("metadata.labels", labels, "must be a map of strings"))
        }
        for (key, value) in object["metadata"]?["labels"]?.objectValue ?? JSONObject() {
            for problem in NameValidation.qualifiedName(key) {
                errors.append(.invalid("metadata.labels", .string(key), problem))
            }
            guard let text = value.stringValue else {
                errors.append(.invalid("metadata.labels", value, "label values must be strings"))
                continue
            }
            for problem in NameValidation.labelValue(text) {
                errors.append(.invalid("metadata.labels", .string(text), problem))
            }
        }
        for (key, _) in object["metadata"]?["annotations"]?.objectValue ?? JSONObject() {
            for problem in NameValidation.qualifiedName(key.lowercased()) {
                errors.append(.invalid("metadata.annotations", .string(key), problem))
            }
        }
        return errors
    }
}
