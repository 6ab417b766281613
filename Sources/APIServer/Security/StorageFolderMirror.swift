import APIMachinery
import Logging
import NIOConcurrencyHelpers
import Storage

/// A storage folder whose objects a `StorageFolderMirror` folds into one value.
protocol MirroredFolder: CaseIterable, RawRepresentable, Sendable where RawValue == String, AllCases: Sendable {
    associatedtype Value: Sendable
    func put(_ object: JSON, into value: inout Value)
    /// `relativeKey` is the key below the folder: `<namespace>/<name>`, or `<name>` for cluster-scoped objects.
    func remove(relativeKey: Substring, from value: inout Value)
}

/// A value built from several storage folders and kept current as an informer's cache is: every folder is
/// listed at one revision, then watched from it; when any watch ends (compaction, a storage restart) all of
/// them are relisted and watched again, so the value never mixes revisions. Reads do no storage I/O.
final class StorageFolderMirror<Folder: MirroredFolder>: Sendable {
    private let state: NIOLockedValueBox<Folder.Value>
    private let empty: Folder.Value
    private let onChange: @Sendable () -> Void
    private let logger: Logger

    /// `onChange` runs after every change of the value.
    init(empty: Folder.Value, logger: Logger, onChange: @escaping @Sendable () -> Void = {}) {
        state = NIOLockedValueBox(empty)
        self.empty = empty
        self.onChange = onChange
        self.logger = logger
    }

    /// The current value (a copy taken under a lock; cheap for copy-on-write values).
    var value: Folder.Value { state.withLockedValue { $0 } }

    /// Replaces the value (tests and in-process tools that have no storage watch).
    func replace(with value: Folder.Value) {
        state.withLockedValue { $0 = value }
        onChange()
    }

    /// Loads the value from storage and keeps it current in a background task; returns once loaded.
    func start(storage: any KeyValueStore, storagePrefix: String) async throws {
        let revision = try await load(storage: storage, storagePrefix: storagePrefix)
        Task { [self] in await follow(storage: storage, storagePrefix: storagePrefix, from: revision) }
    }

    private func load(storage: any KeyValueStore, storagePrefix: String) async throws -> Revision {
        var value = empty
        var revision: Revision?
        for folder in Folder.allCases {
            let prefix = storagePrefix + "/" + folder.rawValue + "/"
            let result = try await storage.range(
                start: prefix, end: RegistryStore.prefixEnd(prefix), limit: 0, revision: revision)
            revision = result.revision
            for item in result.items {
                guard let object = try? JSON.parse(item.value) else { continue }
                folder.put(object, into: &value)
            }
        }
        replace(with: value)
        return revision ?? 0
    }

    private func follow(storage: any KeyValueStore, storagePrefix: String, from revision: Revision) async {
        var revision = revision
        // Doubles while relists fail (storage down, or closed under a server that has stopped), so a mirror
        // that outlives its store neither spins nor floods the log.
        var backoff: Duration = .milliseconds(200)
        while !Task.isCancelled {
            await withTaskGroup(of: Void.self) { group in
                for folder in Folder.allCases {
                    let prefix = storagePrefix + "/" + folder.rawValue + "/"
                    let events = storage.watch(
                        start: prefix, end: RegistryStore.prefixEnd(prefix), afterRevision: revision)
                    group.addTask { [self] in
                        do {
                            for try await event in events { apply(event, folder: folder, prefix: prefix) }
                        } catch {
                            logger.warning("watch of \(prefix) ended: \(error); relisting")
                        }
                    }
                }
                // The first watch to end ends them all, so the relist below sees one consistent revision.
                await group.next()
                group.cancelAll()
            }
            if Task.isCancelled { return }
            do {
                try await Task.sleep(for: backoff)
                revision = try await load(storage: storage, storagePrefix: storagePrefix)
                backoff = .milliseconds(200)
            } catch {
                if Task.isCancelled { return }
                backoff = min(backoff * 2, .seconds(30))
                logger.error("relist failed: \(error); retrying in \(backoff)")
            }
        }
    }

    private func apply(_ event: WatchEvent, folder: Folder, prefix: String) {
        state.withLockedValue { value in
            switch event.kind {
            case .put:
                guard let object = try? JSON.parse(event.current.value) else { return }
                folder.put(object, into: &value)
            case .delete:
                folder.remove(relativeKey: event.current.key.dropFirst(prefix.count), from: &value)
            }
        }
        onChange()
    }
}
