import APIMachinery
import Client

/// Why an item goes back to the queue, or is dropped, without having been collected.
enum GarbageCollectorError: Error, CustomStringConvertible {
    /// The owner reference's apiVersion and kind map to no served resource (yet): retried.
    case restMapping(apiVersion: String, kind: String)
    /// A cluster-scoped object names a namespaced owner: no retry can resolve it.
    case namespacedOwnerOfClusterScopedObject
    /// The item exists but no monitor has shown it yet: retried until one does.
    case notObserved(ObjectIdentity)
    /// The finalizer patch kept conflicting.
    case finalizerConflict(ObjectIdentity)

    var description: String {
        switch self {
        case .restMapping(let apiVersion, let kind): "unable to get REST mapping for \(apiVersion)/\(kind)."
        case .namespacedOwnerOfClusterScopedObject: "cluster-scoped objects cannot refer to namespaced owners"
        case .notObserved(let identity): "item \(identity) hasn't been observed via informer yet"
        case .finalizerConflict(let identity):
            "updateMaxRetries(5) has reached. The garbage collector will retry later for owner \(identity)"
        }
    }
}

/// An item's owner references sorted by what their owners are doing.
struct ClassifiedReferences: Sendable {
    /// Owners that exist and are not deleting their dependents in the foreground.
    var solid: [OwnerReference] = []
    /// Owners that are gone (or were replaced by another object of the same name).
    var dangling: [OwnerReference] = []
    /// Owners being deleted with `foregroundDeletion`: they wait for this item to go.
    var waitingForDependentsDeletion: [OwnerReference] = []
}

extension GarbageCollectorController {
    /// Upstream's `attemptToDeleteItem`: checks the item against the server and deletes it when every owner is
    /// gone or waiting for it; strips references to absent owners when a solid one remains.
    func attemptToDeleteItem(_ uid: UID) async throws {
        guard let item = graph.withLockedValue({ $0[uid] }) else { return }
        // Being deleted is a one-way trip; its dependents are looked at once it is gone.
        if item.beingDeleted, !item.deletingDependents { return }
        let latest: PartialObjectMetadata
        do {
            latest = try await object(item.identity)
        } catch let error as StatusError where error.code == 404 {
            enqueueVirtualDelete(item.identity)
            return
        } catch GarbageCollectorError.namespacedOwnerOfClusterScopedObject {
            return
        }
        guard latest.metadata.uid == uid.rawValue else {
            enqueueVirtualDelete(item.identity)
            return
        }
        if item.deletingDependents {
            try await processDeletingDependents(item)
        } else if !latest.metadata.ownerReferences.isEmpty {
            try await collect(item, latest: latest)
        }
        // A virtual item must be seen by a monitor, or one added and removed during a relist stays forever.
        if graph.withLockedValue({ $0[uid]?.virtual == true }) {
            throw GarbageCollectorError.notObserved(item.identity)
        }
    }

    private func collect(_ item: OwnerGraph.Node, latest: PartialObjectMetadata) async throws {
        let references = try await classify(latest.metadata.ownerReferences, of: item)
        let waiting = references.waitingForDependentsDeletion
        if !references.solid.isEmpty {
            guard !references.dangling.isEmpty || !waiting.isEmpty else { return }
            // References to owners waiting on it must go too, or those owners never finish deleting.
            let gone = Set((references.dangling + waiting).compactMap(\.uid))
            logger.info("remove dangling references \(gone.sorted()) and waiting references from item \(item.identity)")
            try await patchOwnerReferences(of: item.identity) { references in
                references.removeAll { gone.contains($0.uid ?? "") }
            }
            return
        }
        let dependents = graph.withLockedValue { $0.dependents(of: item.identity.uid) }
        if !waiting.isEmpty, !dependents.isEmpty {
            if dependents.contains(where: \.deletingDependents) {
                // An owner and a dependent both deleting in the foreground may be a cycle: stop blocking.
                logger.info("processing item \(item.identity): unblocking its owner references to prevent a cycle")
                try await patchOwnerReferences(of: item.identity) { references in
                    for index in references.indices where references[index].blockOwnerDeletion == true {
                        references[index].blockOwnerDeletion = false
                    }
                }
            }
            logger.info(
                "at least one owner of \(item.identity) is deleting dependents and it has dependents: Foreground")
            try await delete(item.identity, propagationPolicy: "Foreground")
            return
        }
        let policy: String
        if latest.metadata.finalizers.contains(GCFinalizer.orphanDependents) {
            policy = "Orphan"
        } else if latest.metadata.finalizers.contains(GCFinalizer.deleteDependents) {
            policy = "Foreground"
        } else {
            policy = "Background"
        }
        logger.info("Deleting item \(item.identity), propagationPolicy \(policy)")
        try await delete(item.identity, propagationPolicy: policy)
    }

    /// Upstream's `classifyReferences`, asking the server about each owner.
    func classify(_ references: [OwnerReference], of item: OwnerGraph.Node) async throws -> ClassifiedReferences {
        var result = ClassifiedReferences()
        for reference in references {
            let (dangling, owner) = try await isDangling(reference, item: item)
            if dangling {
                result.dangling.append(reference)
            } else if let owner, owner.metadata.deletionTimestamp != nil,
                owner.metadata.finalizers.contains(GCFinalizer.deleteDependents)
            {
                result.waitingForDependentsDeletion.append(reference)
            } else {
                result.solid.append(reference)
            }
        }
        return result
    }

    /// Whether `reference`'s owner is gone: known absent, or not found by a live GET, or replaced by another
    /// object of that name (another uid). Returns the owner when it exists.
    private func isDangling(_ reference: OwnerReference, item: OwnerGraph.Node) async throws -> (
        Bool, PartialObjectMetadata?
    ) {
        var absent = ObjectIdentity(reference: reference, namespace: "")
        let namespace = item.identity.namespace
        let known = graph.withLockedValue { graph in
            if graph.absentOwners.hit(absent) { return true }
            var namespaced = absent
            namespaced.namespace = namespace
            return graph.absentOwners.hit(namespaced)
        }
        if known { return (true, nil) }
        let apiVersion = reference.apiVersion ?? ""
        let kind = reference.kind ?? ""
        guard let resource = discovery.withLockedValue({ $0.resource(apiVersion: apiVersion, kind: kind) }) else {
            throw GarbageCollectorError.restMapping(apiVersion: apiVersion, kind: kind)
        }
        if resource.namespaced {
            guard !namespace.isEmpty else { throw GarbageCollectorError.namespacedOwnerOfClusterScopedObject }
            absent.namespace = namespace
        }
        let owner: PartialObjectMetadata
        do {
            owner = try await client.getMetadata(resource, namespace: namespace, name: reference.name ?? "")
        } catch let error as StatusError where error.code == 404 {
            graph.withLockedValue { $0.absentOwners.add(absent) }
            return (true, nil)
        }
        guard owner.metadata.uid == reference.uid else {
            graph.withLockedValue { $0.absentOwners.add(absent) }
            return (true, nil)
        }
        return (false, owner)
    }

    /// Upstream's `processDeletingDependentsItem`: the finalizer goes once no blocking dependent is left;
    /// until then each blocking dependent gets deleted.
    private func processDeletingDependents(_ item: OwnerGraph.Node) async throws {
        let blocking = graph.withLockedValue { $0.blockingDependents(of: item.identity.uid) }
        if blocking.isEmpty {
            logger.info("remove DeleteDependents finalizer for item \(item.identity)")
            try await removeFinalizer(GCFinalizer.deleteDependents, from: item.identity)
            return
        }
        for dependent in blocking where !dependent.deletingDependents {
            attemptToDelete.add(dependent.identity.uid)
        }
    }

    /// Upstream's `attemptToOrphanWorker`: removes the owner's reference from every dependent, then the
    /// `orphan` finalizer from the owner.
    func attemptToOrphanItem(_ uid: UID) async throws {
        guard let owner = graph.withLockedValue({ $0[uid] }) else { return }
        let dependents = graph.withLockedValue { $0.dependents(of: uid) }
        for dependent in dependents {
            do {
                try await patchOwnerReferences(of: dependent.identity) { references in
                    references.removeAll { $0.uid == uid.rawValue }
                }
            } catch let error as StatusError where error.code == 404 {
                continue
            }
        }
        try await removeFinalizer(GCFinalizer.orphanDependents, from: owner.identity)
    }

    // MARK: writes

    /// The live object `identity` names, as metadata.
    func object(_ identity: ObjectIdentity) async throws -> PartialObjectMetadata {
        let resource = try resource(for: identity)
        return try await client.getMetadata(resource, namespace: identity.namespace, name: identity.name)
    }

    private func resource(for identity: ObjectIdentity) throws -> ResourceDescriptor {
        guard
            let resource = discovery.withLockedValue({
                $0.resource(apiVersion: identity.apiVersion, kind: identity.kind)
            })
        else { throw GarbageCollectorError.restMapping(apiVersion: identity.apiVersion, kind: identity.kind) }
        if resource.namespaced, identity.namespace.isEmpty {
            throw GarbageCollectorError.namespacedOwnerOfClusterScopedObject
        }
        return resource
    }

    /// Deletes `identity` if it still has its uid, with `propagationPolicy`.
    private func delete(_ identity: ObjectIdentity, propagationPolicy: String) async throws {
        let resource = try resource(for: identity)
        let options = DeleteOptions(
            preconditions: Preconditions(uid: identity.uid.rawValue), propagationPolicy: propagationPolicy)
        do {
            _ = try await client.deleteJSON(
                path: resource.path(namespace: identity.namespace, name: identity.name), options: options.toJSON())
        } catch let error as StatusError where error.code == 404 {
            return
        }
    }

    /// Rewrites `identity`'s owner references with `change`, as a JSON merge patch guarded by the
    /// resourceVersion read (upstream's fallback for kinds without strategic merge patch).
    private func patchOwnerReferences(
        of identity: ObjectIdentity, _ change: @Sendable (inout [OwnerReference]) -> Void
    ) async throws {
        let resource = try resource(for: identity)
        let latest = try await client.getMetadata(resource, namespace: identity.namespace, name: identity.name)
        guard latest.metadata.uid == identity.uid.rawValue else { return }
        var references = latest.metadata.ownerReferences
        change(&references)
        guard references != latest.metadata.ownerReferences else { return }
        let patch: JSON = [
            "metadata": [
                "resourceVersion": .string(latest.metadata.resourceVersion ?? ""),
                "ownerReferences": .array(references.map { $0.toJSON() }),
            ]
        ]
        _ = try await client.patchJSON(
            path: resource.path(namespace: identity.namespace, name: identity.name), patch, type: .merge)
    }

    /// Removes `finalizer` from `identity`, retrying conflicts as upstream's `RetryOnConflict` does.
    private func removeFinalizer(_ finalizer: String, from identity: ObjectIdentity) async throws {
        let resource = try resource(for: identity)
        let path = resource.path(namespace: identity.namespace, name: identity.name)
        for _ in 0..<5 {
            let latest: PartialObjectMetadata
            do {
                latest = try await client.getMetadata(resource, namespace: identity.namespace, name: identity.name)
            } catch let error as StatusError where error.code == 404 {
                return
            }
            guard latest.metadata.finalizers.contains(finalizer) else { return }
            let remaining = latest.metadata.finalizers.filter { $0 != finalizer }
            let patch: JSON = [
                "metadata": [
                    "resourceVersion": .string(latest.metadata.resourceVersion ?? ""),
                    "finalizers": .array(remaining.map(JSON.string)),
                ]
            ]
            do {
                _ = try await client.patchJSON(path: path, patch, type: .merge)
                return
            } catch let error as StatusError where error.code == 409 {
                continue
            } catch let error as StatusError where error.code == 404 {
                return
            }
        }
        throw GarbageCollectorError.finalizerConflict(identity)
    }
}
