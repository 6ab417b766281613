import APIMachinery
import Client
import Foundation
import Logging
import NIOConcurrencyHelpers

/// How far a namespace's deletion got in one pass.
enum NamespaceDeletionOutcome: Sendable, Equatable {
    /// Nothing (more) to do: the namespace is gone, not terminating, or finalized by us.
    case done
    /// Content remains; upstream looks again after about half of `estimate` seconds.
    case contentRemaining(estimate: Int64)
}

/// What one resource's deletion left behind.
struct ResourceDeletionLeftovers: Sendable, Equatable {
    var finalizerEstimateSeconds: Int64 = 0
    var remaining = 0
    var remainingByFinalizer: [String: Int] = [:]
}

/// Upstream's `namespacedResourcesDeleter`: empties a terminating namespace of every namespaced resource
/// discovery lists as deletable, keeps the deletion conditions in its status, and removes the `kubernetes`
/// finalizer through `namespaces/<name>/finalize` once nothing is left.
struct NamespacedResourcesDeleter: Sendable {
    /// The finalizer this controller owns on `spec.finalizers`.
    static let finalizerToken = "kubernetes"
    /// Upstream's wait for finalizers on remaining content.
    static let finalizerEstimateSeconds: Int64 = 15

    private enum Operation: Hashable { case list, deleteCollection }
    private struct OperationKey: Hashable {
        var operation: Operation
        var resource: ResourceDescriptor
    }

    let client: RESTClient
    let time: any TimeSource
    let logger: Logger
    /// Operations a resource answered 404 or 405 to, not tried again (upstream's `operationNotSupportedCache`).
    private let unsupported = NIOLockedValueBox(Set<OperationKey>())

    init(client: RESTClient, time: any TimeSource, logger: Logger) {
        self.client = client
        self.time = time
        self.logger = logger
    }

    private var namespaces: ResourceClient<Namespace> { ResourceClient(client: client, logger: logger) }

    /// One pass over namespace `name` (upstream's `Delete`); throws what failed, after recording it in the
    /// namespace's conditions.
    func delete(namespace name: String) async throws -> NamespaceDeletionOutcome {
        var namespace: Namespace
        do {
            namespace = try await namespaces.get(name)
        } catch let error as StatusError where error.code == 404 {
            return .done
        }
        guard namespace.metadata.deletionTimestamp != nil else { return .done }
        do {
            namespace = try await retryingConflicts(namespace) { namespace in
                guard namespace.status.phase != "Terminating" else { return namespace }
                var updated = namespace
                updated.status.phase = "Terminating"
                return try await namespaces.updateStatus(updated)
            }
        } catch let error as StatusError where error.code == 404 {
            return .done
        }
        guard namespace.metadata.deletionTimestamp != nil, !namespace.spec.finalizers.isEmpty else { return .done }
        let estimate = try await deleteAllContent(namespace)
        if estimate > 0 { return .contentRemaining(estimate: estimate) }
        do {
            _ = try await retryingConflicts(namespace) { namespace in
                var finalized = namespace
                finalized.spec.finalizers = Array(Set(namespace.spec.finalizers.filter { $0 != Self.finalizerToken }))
                    .sorted()
                guard finalized.spec.finalizers != namespace.spec.finalizers else { return namespace }
                return try await finalize(finalized)
            }
        } catch let error as StatusError where error.code == 404 {
            // Another controller sharing the token finished the deletion.
        }
        return .done
    }

    /// Deletes every namespaced resource's content once, records the conditions, and returns the seconds
    /// upstream would still wait (0 when nothing is left). Throws the errors met, after trying every resource.
    func deleteAllContent(_ namespace: Namespace) async throws -> Int64 {
        let name = namespace.metadata.name ?? ""
        var conditions = NamespaceConditionUpdater()
        var errors: [any Error] = []
        var resources: [ResourceDescriptor] = []
        do {
            let discovered = try await ResourceDiscovery.discover(client: client)
            if let failure = discovered.failureMessage {
                conditions.discoveryFailed(failure, failedGroups: discovered.failedGroups.count)
                errors.append(NamespaceDeletionError(message: failure))
            }
            if !discovered.unparsedGroupVersions.isEmpty {
                let message = discovered.unparsedGroupVersions.map { "unexpected GroupVersion string: \($0)" }
                    .joined(separator: ", ")
                conditions.groupVersionParsingFailed(message)
                errors.append(NamespaceDeletionError(message: message))
            }
            resources = discovered.preferred.filter { $0.descriptor.namespaced && $0.verbs.contains("delete") }
                .map(\.descriptor)
        } catch {
            conditions.discoveryFailed("\(error)", failedGroups: 0)
            errors.append(error)
        }
        let deletedAt = namespace.metadata.deletionTimestamp.flatMap(Self.parseTimestamp)
        var estimate: Int64 = 0
        var totals = NamespaceContentTotals()
        for resource in resources {
            let leftovers: ResourceDeletionLeftovers
            do {
                leftovers = try await deleteAllContent(of: resource, in: name, deletedAt: deletedAt)
            } catch let error as ContentRemainsError {
                conditions.contentDeletionFailed(error.description)
                errors.append(error)
                leftovers = error.leftovers
            } catch {
                conditions.contentDeletionFailed("\(error)")
                errors.append(error)
                continue
            }
            estimate = max(estimate, leftovers.finalizerEstimateSeconds)
            if leftovers.remaining > 0 {
                totals.remainingByResource["\(resource.resource).\(resource.group)"] = leftovers.remaining
                for (finalizer, count) in leftovers.remainingByFinalizer {
                    totals.remainingByFinalizer[finalizer, default: 0] += count
                }
            }
        }
        conditions.contentRemaining(totals)
        var updated = namespace
        if conditions.update(&updated.status, now: Timestamp.now()) {
            do {
                _ = try await namespaces.updateStatus(updated)
            } catch {
                errors.append(error)
            }
        }
        if let first = errors.first {
            throw errors.count == 1
                ? first : NamespaceDeletionError(message: errors.map { "\($0)" }.joined(separator: ", "))
        }
        return estimate
    }

    /// Deletes `resource`'s objects in `namespace` (as a collection when the server allows, else one by one)
    /// and reports what is left; items left without any finalizer are an error, as upstream's.
    func deleteAllContent(of resource: ResourceDescriptor, in namespace: String, deletedAt: Date?) async throws
        -> ResourceDeletionLeftovers
    {
        let estimate = try await gracefulTerminationEstimate(resource, in: namespace, deletedAt: deletedAt)
        if try await !deleteCollection(resource, in: namespace) {
            try await deleteEachItem(resource, in: namespace)
        }
        guard let items = try await list(resource, in: namespace), !items.isEmpty else {
            return ResourceDeletionLeftovers()
        }
        var leftovers = ResourceDeletionLeftovers(finalizerEstimateSeconds: estimate, remaining: items.count)
        for item in items {
            for finalizer in item.metadata.finalizers { leftovers.remainingByFinalizer[finalizer, default: 0] += 1 }
        }
        if estimate != 0 { return leftovers }
        if !leftovers.remainingByFinalizer.isEmpty {
            leftovers.finalizerEstimateSeconds = Self.finalizerEstimateSeconds
            return leftovers
        }
        throw ContentRemainsError(namespace: namespace, resource: resource, leftovers: leftovers)
    }

    /// The longest grace period of the namespace's running pods still ahead (upstream estimates only pods).
    private func gracefulTerminationEstimate(_ resource: ResourceDescriptor, in namespace: String, deletedAt: Date?)
        async throws -> Int64
    {
        guard resource.group.isEmpty, resource.resource == "pods" else { return 0 }
        let pods = try await client.getJSON(path: resource.path(namespace: namespace))
        var estimate: Int64 = 0
        for pod in pods["items"]?.arrayValue ?? [] {
            let phase = pod[path: "status", "phase"]?.stringValue
            if phase == "Succeeded" || phase == "Failed" { continue }
            if let grace = pod[path: "spec", "terminationGracePeriodSeconds"]?.intValue {
                estimate = max(estimate, grace)
            }
        }
        if let deletedAt, time.wallNow.timeIntervalSince(deletedAt) >= Double(estimate) { return 0 }
        return estimate
    }

    /// DELETEs the collection with background propagation; false when the resource does not support it.
    private func deleteCollection(_ resource: ResourceDescriptor, in namespace: String) async throws -> Bool {
        let key = OperationKey(operation: .deleteCollection, resource: resource)
        guard !unsupported.withLockedValue({ $0.contains(key) }) else { return false }
        do {
            _ = try await client.deleteJSON(
                path: resource.path(namespace: namespace),
                options: DeleteOptions(propagationPolicy: "Background").toJSON())
            return true
        } catch let error as StatusError where error.code == 404 || error.code == 405 {
            unsupported.withLockedValue { _ = $0.insert(key) }
            return false
        }
    }

    /// The resource's objects in the namespace, or nil when it cannot be listed.
    private func list(_ resource: ResourceDescriptor, in namespace: String) async throws -> [PartialObjectMetadata]? {
        let key = OperationKey(operation: .list, resource: resource)
        guard !unsupported.withLockedValue({ $0.contains(key) }) else { return nil }
        do {
            let list = try await client.getJSON(path: resource.path(namespace: namespace))
            return (list["items"]?.arrayValue ?? []).compactMap { try? PartialObjectMetadata(json: $0) }
        } catch let error as StatusError where error.code == 404 || error.code == 405 {
            unsupported.withLockedValue { _ = $0.insert(key) }
            return nil
        }
    }

    private func deleteEachItem(_ resource: ResourceDescriptor, in namespace: String) async throws {
        for item in try await list(resource, in: namespace) ?? [] {
            do {
                _ = try await client.deleteJSON(
                    path: resource.path(namespace: namespace, name: item.metadata.name ?? ""),
                    options: DeleteOptions(propagationPolicy: "Background").toJSON())
            } catch let error as StatusError where error.code == 404 {
                continue
            }
        }
    }

    /// Runs `write` on the namespace, re-reading it after each conflict; the namespace must keep its uid.
    private func retryingConflicts(
        _ namespace: Namespace, _ write: (Namespace) async throws -> Namespace
    ) async throws -> Namespace {
        var latest = namespace
        while true {
            do {
                return try await write(latest)
            } catch let error as StatusError where error.code == 409 {
                let previous = latest
                latest = try await namespaces.get(previous.metadata.name ?? "")
                guard latest.metadata.uid == previous.metadata.uid else {
                    throw NamespaceDeletionError(message: "namespace uid has changed across retries")
                }
            }
        }
    }

    /// PUTs `namespace` through `namespaces/<name>/finalize`, the only way to change `spec.finalizers`.
    private func finalize(_ namespace: Namespace) async throws -> Namespace {
        let path = Namespace.resource.path(name: namespace.metadata.name ?? "", subresource: "finalize")
        return try Namespace(json: try await client.putJSON(path: path, namespace.toJSON()))
    }

    static func parseTimestamp(_ text: String) -> Date? {
        ISO8601DateFormatter().date(from: text)
    }
}

/// A deletion failure reported as text.
struct NamespaceDeletionError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Items without finalizers survived their deletion: upstream's "unexpected items" error.
struct ContentRemainsError: Error, CustomStringConvertible {
    var namespace: String
    var resource: ResourceDescriptor
    var leftovers: ResourceDeletionLeftovers

    var description: String {
        "unexpected items still remain in namespace: \(namespace) for gvr: \(resource.group)/\(resource.version), Resource=\(resource.resource)"
    }
}
