import APIMachinery
import Logging
import NIOConcurrencyHelpers
import Storage

/// Upstream's aggregator controllers, run inside kube-apiserver on every server as upstream runs them:
/// autoregister (a local APIService for each group version this server serves, built-in or custom, removed
/// when a custom one goes), availability (each APIService's `Available` condition from its checks), and the
/// aggregator's view for routing and discovery (`Aggregator`).
///
/// Level-triggered: any change of APIServices, Services, Endpoints or CustomResourceDefinitions, and every
/// `resyncInterval`, syncs them all; a missed change is repaired by the next sync.
final class APIServiceController: Sendable {
    private let apiServices: RegistryStore
    private let availability: APIServiceAvailability
    private let aggregator: Aggregator
    private let storage: any KeyValueStore
    /// The storage prefixes whose changes bring a sync.
    private let watchedPrefixes: [String]
    /// The built-in group versions this server serves.
    private let builtInGroupVersions: [GroupVersion]
    /// The CustomResourceDefinitions, whose served versions get APIServices as upstream's crdregistration
    /// controller gives them (read from storage, so a definition the serving table has not caught up with
    /// yet is not taken for a removed one).
    private let customResourceDefinitions: RegistryStore?
    private let resyncInterval: Duration
    /// How the controller waits: the clock in production, a test's own in tests.
    private let sleep: @Sendable (Duration) async throws -> Void
    /// The server's own APIServices registered by a pass of this run: as upstream's `onstart` ones, they are
    /// not created again if someone deletes them later, until the server restarts.
    private let registeredOnStart = NIOLockedValueBox<Set<String>>([])
    private static let logger = Logger(label: "kube-apiserver.aggregator")

    init(
        apiServices: RegistryStore, availability: APIServiceAvailability, aggregator: Aggregator,
        storage: any KeyValueStore, watchedPrefixes: [String], resyncInterval: Duration = .seconds(30),
        builtInGroupVersions: [GroupVersion], customResourceDefinitions: RegistryStore?,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.apiServices = apiServices
        self.availability = availability
        self.aggregator = aggregator
        self.storage = storage
        self.watchedPrefixes = watchedPrefixes
        self.resyncInterval = resyncInterval
        self.sleep = sleep
        self.builtInGroupVersions = builtInGroupVersions
        self.customResourceDefinitions = customResourceDefinitions
    }

    /// Syncs now, then after every change and every `resyncInterval`, until cancelled.
    func run() async {
        let (kicks, kick) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        await withTaskGroup(of: Void.self) { group in
            for prefix in watchedPrefixes {
                group.addTask { await self.watch(prefix, kick: kick) }
            }
            group.addTask {
                while !Task.isCancelled {
                    do { try await self.sleep(self.resyncInterval) } catch { return }
                    kick.yield()
                }
            }
            kick.yield()
            for await _ in kicks {
                if Task.isCancelled { break }
                await syncAll()
            }
            group.cancelAll()
        }
    }

    /// Yields a kick for every change under `prefix`; a broken watch starts again from the current revision.
    private func watch(_ prefix: String, kick: AsyncStream<Void>.Continuation) async {
        while !Task.isCancelled {
            do {
                let revision = try await storage.currentRevision()
                kick.yield()
                let updates = storage.watch(
                    start: prefix, end: RegistryStore.prefixEnd(prefix), afterRevision: revision, progressNotify: false)
                for try await update in updates {
                    if case .event = update { kick.yield() }
                }
            } catch is CancellationError {
                return
            } catch {
                Self.logger.debug("watch of \(prefix): \(error); watching again")
            }
            do { try await sleep(.seconds(1)) } catch { return }
        }
    }

    /// One pass: local APIServices registered, every APIService's condition checked and written when it
    /// changed, and the aggregator's view replaced.
    func syncAll() async {
        do {
            try await register()
            let page = try await apiServices.list(namespace: nil, options: ListOptions())
            var remote: [GroupVersion: Aggregator.Remote] = [:]
            var priorities: [GroupVersion: Aggregator.Priority] = [:]
            // Checks run side by side, so one unreachable backend's timeout does not hold up the others.
            let conditions = await withTaskGroup(of: (Int, APIServiceCondition).self) { group in
                for (index, object) in page.items.enumerated() {
                    group.addTask { (index, await self.availability.check(APIServiceView(object))) }
                }
                var conditions: [Int: APIServiceCondition] = [:]
                for await (index, condition) in group { conditions[index] = condition }
                return conditions
            }
            for (index, object) in page.items.enumerated() {
                let view = APIServiceView(object)
                priorities[view.groupVersion] = Aggregator.Priority(
                    group: view.groupPriorityMinimum, version: view.versionPriority)
                guard let condition = conditions[index] else { continue }
                if view.service != nil {
                    remote[view.groupVersion] = Aggregator.Remote(
                        apiService: view, backend: condition.status == "True" ? condition.backend : nil,
                        resources: condition.resources)
                }
                await writeCondition(condition, of: object)
            }
            aggregator.update(remote: remote, priorities: priorities)
        } catch {
            Self.logger.info("APIServices: \(error); syncing again on the next change")
        }
    }

    /// Upstream's autoregister: creates the missing local APIServices, corrects the spec of those it manages,
    /// and deletes the managed ones of custom resource group versions no longer served.
    private func register() async throws {
        var served = builtInGroupVersions.map { ($0, custom: false) }
        for definition in try await customResourceDefinitions?.list(namespace: nil, options: ListOptions()).items ?? []
        {
            let view = CustomResourceDefinitionView(definition)
            for version in view.versions where version["served"]?.boolValue == true {
                guard let name = version["name"]?.stringValue else { continue }
                served.append((GroupVersion(group: view.group, version: name), custom: true))
            }
        }
        var desired: [String: (JSON, String)] = [:]
        for (groupVersion, custom) in served {
            let priority: (group: Int, version: Int)
            if custom {
                priority = APIServices.customResourcePriority
            } else if let local = APIServices.localPriority(groupVersion) {
                priority = local
            } else {
                continue
            }
            let spec: JSON = [
                "group": .string(groupVersion.group), "version": .string(groupVersion.version),
                "groupPriorityMinimum": .int(Int64(priority.group)), "versionPriority": .int(Int64(priority.version)),
            ]
            desired[APIServices.name(groupVersion)] = (spec, custom ? "true" : "onstart")
        }
        let existing = try await apiServices.list(namespace: nil, options: ListOptions()).items
        var names = Set<String>()
        for object in existing {
            let view = APIServiceView(object)
            names.insert(view.name)
            guard let managed = view.managed else { continue }
            if let (spec, label) = desired[view.name] {
                guard view.spec != spec || managed != label else { continue }
                try await ignoringConflicts {
                    _ = try await apiServices.update(namespace: nil, name: view.name, options: WriteOptions()) {
                        current in
                        var updated = current
                        updated["spec"] = spec
                        updated.setMeta("labels", [APIServices.managedLabel: .string(label)])
                        updated.setMeta("resourceVersion", nil)
                        return updated
                    }
                }
            } else if managed == "true" || !registeredOnStart.withLockedValue({ $0.contains(view.name) }) {
                try await ignoringConflicts {
                    _ = try await apiServices.delete(
                        namespace: nil, name: view.name, options: DeleteOptions(), write: WriteOptions())
                }
            }
        }
        let registered = registeredOnStart.withLockedValue { $0 }
        for (name, (spec, label)) in desired where !names.contains(name) {
            if label == "onstart", registered.contains(name) { continue }
            let object: JSON = [
                "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
                "metadata": ["name": .string(name), "labels": [APIServices.managedLabel: .string(label)]],
                "spec": spec,
            ]
            try await ignoringConflicts {
                _ = try await apiServices.create(namespace: nil, object: object, options: WriteOptions())
            }
        }
        let onStart = desired.filter { $0.value.1 == "onstart" }.keys
        registeredOnStart.withLockedValue { $0.formUnion(onStart) }
    }

    /// Another server doing the same write first is not an error: the next sync sees its result.
    private func ignoringConflicts(_ write: () async throws -> Void) async throws {
        do {
            try await write()
        } catch let error as APIError where [404, 409].contains(error.code) {}
    }

    /// Writes the `Available` condition when its status, reason or message changed.
    private func writeCondition(_ condition: APIServiceCondition, of object: JSON) async {
        let current = (object["status"]?["conditions"]?.arrayValue ?? []).first {
            $0["type"]?.stringValue == "Available"
        }
        if current?["status"]?.stringValue == condition.status, current?["reason"]?.stringValue == condition.reason,
            current?["message"]?.stringValue == condition.message
        {
            return
        }
        do {
            _ = try await apiServices.update(
                namespace: nil, name: object.name ?? "", target: .status, options: WriteOptions()
            ) { stored in
                var updated = stored
                setCustomResourceDefinitionCondition(
                    &updated, type: "Available", status: condition.status, reason: condition.reason,
                    message: condition.message)
                updated.setMeta("resourceVersion", nil)
                return updated
            }
        } catch {
            // The write's own event, or the change that raced it, brings the next sync.
            Self.logger.debug("status of \(object.name ?? ""): \(error)")
        }
    }
}
