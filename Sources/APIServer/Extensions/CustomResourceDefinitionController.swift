import APIMachinery
import Logging
import NIOConcurrencyHelpers
import Storage

/// Upstream's apiextensions controllers, which upstream runs inside its API server and so do we: naming and
/// establishing (`CustomResourceDefinitionNaming`), serving (the resource table follows the established
/// definitions), and the cleanup finalizer (a deleted definition's custom resources go first).
///
/// Level-triggered: every change of any definition re-reads them all (there are few) and syncs each. Every
/// API server runs it, so each serves a definition within a storage watch of its creation; their status
/// writes agree and optimistic concurrency settles a race.
final class CustomResourceDefinitionController: Sendable {
    private let definitions: RegistryStore
    private let storage: any KeyValueStore
    private let serve: @Sendable ([ResourceDefinition]) async -> Void
    private let makeStore: @Sendable (ResourceDefinition) -> RegistryStore
    /// How often a terminating definition's remaining custom resources are counted again.
    private let cleanupInterval: Duration
    /// Definitions (by uid) whose custom resources are being deleted now.
    private let cleaning = NIOLockedValueBox<Set<String>>([])
    /// Definitions (by uid) whose custom resources are all gone: no longer served, even in the moment between
    /// lifting their finalizer and this server seeing them deleted, so a client that reads the definition's
    /// 404 then finds its resource 404 too.
    private let withdrawn = NIOLockedValueBox<Set<String>>([])
    /// The last sync started; the next waits for it.
    private let syncs = NIOLockedValueBox<Task<Result<Int64, any Error>, Never>?>(nil)
    private static let logger = Logger(label: "kube-apiserver.apiextensions")

    init(
        definitions: RegistryStore, storage: any KeyValueStore, cleanupInterval: Duration = .seconds(1),
        makeStore: @escaping @Sendable (ResourceDefinition) -> RegistryStore,
        serve: @escaping @Sendable ([ResourceDefinition]) async -> Void
    ) {
        self.definitions = definitions
        self.storage = storage
        self.cleanupInterval = cleanupInterval
        self.makeStore = makeStore
        self.serve = serve
    }

    /// Lists and syncs, then syncs again after every change, until cancelled; a broken watch starts over.
    func run() async {
        while !Task.isCancelled {
            do {
                var revision = try await syncAll()
                let prefix = definitions.prefix
                let updates = storage.watch(
                    start: prefix, end: RegistryStore.prefixEnd(prefix), afterRevision: revision, progressNotify: false)
                for try await update in updates {
                    guard case .event(let event) = update, event.current.modRevision > revision else { continue }
                    revision = try await syncAll()
                }
            } catch is CancellationError {
                return
            } catch {
                Self.logger.info("custom resource definitions: \(error); listing again")
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Names, establishes and serves every definition; returns the revision it read them at. Syncs run one
    /// after another, so an earlier sync never serves what a later one withdrew.
    @discardableResult
    func syncAll() async throws -> Int64 {
        let sync = syncs.withLockedValue { previous in
            let next = Task { [previous] () -> Result<Int64, any Error> in
                _ = await previous?.value
                do { return .success(try await syncOnce()) } catch { return .failure(error) }
            }
            previous = next
            return next
        }
        return try await sync.value.get()
    }

    private func syncOnce() async throws -> Int64 {
        let page = try await definitions.list(namespace: nil, options: ListOptions())
        let all = page.items.sorted {
            ($0.creationTimestamp ?? "", $0.name ?? "") < ($1.creationTimestamp ?? "", $1.name ?? "")
        }
        // Older definitions claim their names first, so a conflict always goes against the newcomer.
        var named: [JSON] = []
        for object in all {
            let group = CustomResourceDefinitionView(object).group
            let others = (named + all.dropFirst(named.count + 1)).map(CustomResourceDefinitionView.init).filter {
                $0.group == group
            }
            named.append(CustomResourceDefinitionNaming(others: others).named(object))
        }
        // Serve first, then report Established: a client that sees the condition finds the resource served.
        let uids = Set(named.compactMap(\.uid))
        let withdrawn = withdrawn.withLockedValue {
            $0.formIntersection(uids)
            return $0
        }
        let served = named.map(CustomResourceDefinitionView.init).filter {
            $0.isEstablished && !withdrawn.contains($0.object.uid ?? "")
        }
        await serve(served.flatMap(\.servedResources))
        for (old, new) in zip(all, named) where new != old {
            await writeStatus(new)
        }
        for object in named {
            let view = CustomResourceDefinitionView(object)
            if view.isTerminating, object.finalizers.contains(CustomResourceDefinitions.cleanupFinalizer) {
                startCleanup(view)
            }
        }
        return page.revision
    }

    private func writeStatus(_ object: JSON) async {
        let status = object["status"]
        do {
            _ = try await definitions.update(
                namespace: nil, name: object.name ?? "", target: .status, options: WriteOptions()
            ) { current in
                var updated = current
                updated["status"] = status
                updated.setMeta("resourceVersion", nil)
                return updated
            }
        } catch {
            // The write's own event, or the change that raced it, brings the next sync.
            Self.logger.debug("status of \(object.name ?? ""): \(error)")
        }
    }

    // MARK: cleanup

    private func startCleanup(_ view: CustomResourceDefinitionView) {
        let uid = view.object.uid ?? ""
        guard cleaning.withLockedValue({ $0.insert(uid).inserted }) else { return }
        Task {
            defer { _ = cleaning.withLockedValue { $0.remove(uid) } }
            await cleanUp(view)
        }
    }

    /// Deletes every custom resource of a terminating definition, waits until none is left (finalizers on
    /// them may hold them a while), then lifts the definition's finalizer so it goes too.
    private func cleanUp(_ view: CustomResourceDefinitionView) async {
        let name = view.name
        await updateTerminating(
            name, status: "True", reason: "InstanceDeletionInProgress",
            message: "CustomResource deletion is in progress")
        guard let definition = Self.storageResource(view) else {
            await finish(view)
            return
        }
        let store = makeStore(definition)
        while !Task.isCancelled {
            do {
                let remaining = try await store.list(namespace: nil, options: ListOptions()).items
                if remaining.isEmpty { break }
                for object in remaining where object["metadata"]?["deletionTimestamp"] == nil {
                    do {
                        _ = try await store.delete(
                            namespace: object.namespace, name: object.name ?? "", options: DeleteOptions(),
                            write: WriteOptions())
                    } catch let error as APIError where error.code == 404 {}
                }
            } catch {
                await updateTerminating(
                    name, status: "True", reason: "InstanceDeletionFailed",
                    message: "could not issue all deletes: \(error)")
            }
            try? await Task.sleep(for: cleanupInterval)
        }
        await finish(view)
    }

    private func finish(_ view: CustomResourceDefinitionView) async {
        let name = view.name
        withdrawn.withLockedValue { _ = $0.insert(view.object.uid ?? "") }
        _ = try? await syncAll()
        await updateTerminating(
            name, status: "False", reason: "InstanceDeletionCompleted", message: "removed all instances")
        do {
            _ = try await definitions.update(namespace: nil, name: name, options: WriteOptions()) { current in
                var updated = current
                let finalizers = current.finalizers.filter { $0 != CustomResourceDefinitions.cleanupFinalizer }
                updated.setMeta("finalizers", finalizers.isEmpty ? nil : .array(finalizers.map(JSON.string)))
                updated.setMeta("resourceVersion", nil)
                return updated
            }
        } catch {
            Self.logger.info("could not remove the cleanup finalizer of \(name): \(error)")
        }
    }

    private func updateTerminating(_ name: String, status: String, reason: String, message: String) async {
        _ = try? await definitions.update(namespace: nil, name: name, target: .status, options: WriteOptions()) {
            current in
            var updated = current
            setCustomResourceDefinitionCondition(
                &updated, type: "Terminating", status: status, reason: reason, message: message)
            updated.setMeta("resourceVersion", nil)
            return updated
        }
    }

    /// The storage version's resource, to list and delete through, even for a definition never established.
    static func storageResource(_ view: CustomResourceDefinitionView) -> ResourceDefinition? {
        var requested = view
        if requested.acceptedNames["plural"] == nil {
            var object = view.object
            object.set(["status", "acceptedNames"], to: view.names)
            requested = CustomResourceDefinitionView(object)
        }
        let resources = requested.servedResources
        let storage = view.storageVersion
        return resources.first { $0.version == storage } ?? resources.first
    }
}
