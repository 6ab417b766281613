import APIMachinery
import Storage

extension APIServer {
    /// Keeps upstream's API Priority and Fairness configuration in place, as upstream's
    /// `priority-and-fairness-config-producer` hook does: a pass now and every `interval`, and one right after
    /// any FlowSchema or PriorityLevelConfiguration is deleted, so a deleted mandatory object comes back at once.
    /// Only the objects are kept; requests are not queued by them.
    public func runFlowControlConfiguration(every interval: Duration = .seconds(60)) async {
        let (passes, pass) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let storage = storage
        let prefix = context.storagePrefix
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    pass.yield()
                    do { try await Task.sleep(for: interval) } catch { break }
                }
                pass.finish()
            }
            for folder in ["flowschemas", "prioritylevelconfigurations"] {
                group.addTask { await Self.followDeletions(storage, prefix: "\(prefix)/\(folder)/", pass: pass) }
            }
            for await _ in passes {
                // Storage may be unreachable; the next pass retries.
                try? await ensureFlowControlConfiguration()
            }
            group.cancelAll()
        }
    }

    /// Asks for a pass after every delete under `prefix`, watching again after a broken watch.
    private static func followDeletions(
        _ storage: any KeyValueStore, prefix: String, pass: AsyncStream<Void>.Continuation
    ) async {
        while !Task.isCancelled {
            do {
                let revision = try await storage.currentRevision()
                let end = RegistryStore.prefixEnd(prefix)
                for try await event in storage.watch(start: prefix, end: end, afterRevision: revision)
                where event.kind == .delete {
                    pass.yield()
                }
            } catch {}
            do { try await Task.sleep(for: .seconds(1)) } catch { return }
        }
    }

    /// One pass: every bootstrap object created when missing and brought up to date under upstream's rules,
    /// objects the server once created and no longer ships removed, and FlowSchemas' `Dangling` conditions set.
    func ensureFlowControlConfiguration() async throws {
        let group = FlowControlBootstrap.group
        guard let levels = store(group: group, resource: "prioritylevelconfigurations"),
            let schemas = store(group: group, resource: "flowschemas")
        else { return }
        for (store, mandatory, suggested) in [
            (levels, FlowControlBootstrap.mandatoryPriorityLevels, FlowControlBootstrap.suggestedPriorityLevels),
            (schemas, FlowControlBootstrap.mandatoryFlowSchemas, FlowControlBootstrap.suggestedFlowSchemas),
        ] {
            for object in mandatory { try await ensure(object, in: store, alwaysUpdateSpec: true) }
            for object in suggested { try await ensure(object, in: store, alwaysUpdateSpec: false) }
            try await removeRetired(in: store, keeping: Set((mandatory + suggested).compactMap(\.name)))
        }
        try await markDanglingFlowSchemas(schemas: schemas, levels: levels)
    }

    /// Upstream's `ensureConfiguration`: a missing object is created; an existing one gets the bootstrap spec
    /// when it is mandatory, or when its annotation says `true` (or, without a readable annotation, when it was
    /// never edited, generation 1), and the annotation is set to what was decided.
    private func ensure(_ bootstrap: JSON, in store: RegistryStore, alwaysUpdateSpec: Bool) async throws {
        let name = bootstrap.name ?? ""
        let current: JSON
        do {
            current = try await store.get(namespace: nil, name: name)
        } catch let error as APIError where error.code == 404 {
            do {
                _ = try await store.create(namespace: nil, object: bootstrap, options: Self.flowControlWrites)
            } catch let error as APIError where error.reason == .alreadyExists {}
            return
        }
        guard
            let updated = Self.flowControlUpdate(
                current: current, bootstrap: bootstrap, alwaysUpdateSpec: alwaysUpdateSpec)
        else { return }
        _ = try await store.update(namespace: nil, name: name, options: Self.flowControlWrites) { _ in updated }
    }

    /// What an existing bootstrap object should become, or nil when it is up to date.
    static func flowControlUpdate(current: JSON, bootstrap: JSON, alwaysUpdateSpec: Bool) -> JSON? {
        let key = FlowControlBootstrap.autoUpdateAnnotation
        let annotation = current.annotations[key].flatMap(Self.goBool)
        let updateSpec =
            alwaysUpdateSpec || (annotation ?? (current["metadata"]?["generation"]?.intValue == 1))
        let updateAnnotation = annotation != updateSpec
        let specChanged = updateSpec && current["spec"] != bootstrap["spec"]
        guard updateAnnotation || specChanged else { return nil }
        var updated = current
        if updateAnnotation {
            var annotations = current["metadata"]?["annotations"]?.objectValue ?? JSONObject()
            annotations[key] = .string(updateSpec ? "true" : "false")
            updated.setMeta("annotations", .object(annotations))
        }
        if specChanged { updated["spec"] = bootstrap["spec"] }
        return updated
    }

    /// Go's `strconv.ParseBool`.
    static func goBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "TRUE", "true", "True": true
        case "0", "f", "F", "FALSE", "false", "False": false
        default: nil
        }
    }

    /// Deletes objects that carry the auto-update annotation set to true but are no longer bootstrap objects.
    private func removeRetired(in store: RegistryStore, keeping names: Set<String>) async throws {
        let key = FlowControlBootstrap.autoUpdateAnnotation
        for object in try await store.list(namespace: nil, options: ListOptions()).items {
            guard let name = object.name, !names.contains(name),
                object.annotations[key].flatMap(Self.goBool) == true
            else { continue }
            do {
                _ = try await store.delete(
                    namespace: nil, name: name, options: DeleteOptions(), write: Self.flowControlWrites)
            } catch let error as APIError where error.code == 404 {}
        }
    }

    /// The `Dangling` condition upstream's configuration controller keeps on every FlowSchema: whether the
    /// priority level it names exists. Written only when its status changes.
    private func markDanglingFlowSchemas(schemas: RegistryStore, levels: RegistryStore) async throws {
        let existing = Set(try await levels.list(namespace: nil, options: ListOptions()).items.compactMap(\.name))
        for schema in try await schemas.list(namespace: nil, options: ListOptions()).items {
            guard let name = schema.name else { continue }
            let level = schema["spec"]?["priorityLevelConfiguration"]?["name"]?.stringValue ?? ""
            let dangling = !existing.contains(level)
            let conditions = schema["status"]?["conditions"]?.arrayValue ?? []
            if let current = conditions.first(where: { $0["type"]?.stringValue == "Dangling" }),
                current["status"]?.stringValue == (dangling ? "True" : "False")
            {
                continue
            }
            let condition: JSON = [
                "type": "Dangling", "status": .string(dangling ? "True" : "False"),
                "lastTransitionTime": .string(Timestamp.now()), "reason": .string(dangling ? "NotFound" : "Found"),
                "message": .string(
                    "This FlowSchema references the PriorityLevelConfiguration object named \"\(level)\""
                        + (dangling ? " but there is no such object" : " and it exists")),
            ]
            do {
                _ = try await schemas.update(
                    namespace: nil, name: name, target: .status, options: Self.flowControlStatusWrites
                ) { old in
                    var updated = old
                    var kept = (old["status"]?["conditions"]?.arrayValue ?? []).filter {
                        $0["type"]?.stringValue != "Dangling"
                    }
                    kept.append(condition)
                    updated.set(["status", "conditions"], to: .array(kept))
                    return updated
                }
            } catch let error as APIError where error.code == 404 {}
        }
    }

    /// Upstream's field managers for the configuration it writes and the status it reports.
    static let flowControlWrites = WriteOptions(fieldManager: "api-priority-and-fairness-config-producer-v1")
    static let flowControlStatusWrites = WriteOptions(fieldManager: "api-priority-and-fairness-config-consumer-v1")
}
