import APIMachinery
import Client
import Foundation

/// Why a replica set's pod selector cannot be used.
struct InvalidSelectorError: Error, CustomStringConvertible {
    let owner: ObjectKey
    var description: String { "invalid pod selector on \(owner)" }
}

extension ReplicaManager {
    /// One level-triggered pass over `key`: claim pods, create or delete the difference (only when earlier
    /// requests have all been seen), then write status.
    func sync(_ key: ObjectKey) async throws {
        guard let owner = owners.get(namespace: key.namespace, name: key.name) else {
            expectations.delete(key)
            return
        }
        guard let selector = owner.podSelector else {
            // Validation forbids this; retrying cannot help.
            context.logger.error("\(InvalidSelectorError(owner: key))")
            return
        }
        let needsSync = expectations.satisfied(key)
        let active = pods.list(namespace: key.namespace).filter(PodAvailability.isActive)
        let client = context.client
        let claimed = try await ControllerRefManager<Pod>(client: client).claim(
            active, owner: owner, selector: selector,
            canAdopt: { try await Self.stillSame(owner, client: client) })

        var manageError: (any Error)?
        if needsSync, !owner.metadata.isDeleting {
            do {
                try await manageReplicas(claimed, owner: owner)
            } catch {
                manageError = error
            }
        }
        let updated = try await updateStatus(owner, pods: claimed, manageError: manageError)
        if manageError == nil, updated.minReadySeconds > 0,
            updated.counts.readyReplicas == updated.desiredReplicas,
            updated.counts.availableReplicas != updated.desiredReplicas
        {
            queue.add(key, after: .seconds(updated.minReadySeconds))
        }
        if let manageError { throw manageError }
    }

    /// Upstream's adoption check: the owner read afresh from the API is the same object and not being deleted.
    static func stillSame(_ owner: Owner, client: RESTClient) async throws -> Bool {
        let fresh = try await ResourceClient<Owner>(client: client, namespace: owner.metadata.namespace)
            .get(owner.metadata.name ?? "")
        return fresh.metadata.uid == owner.metadata.uid && !fresh.metadata.isDeleting
    }

    /// Creates or deletes pods so `pods` (active and owned) reaches `spec.replicas`, at most `burstReplicas`.
    private func manageReplicas(_ pods: [Pod], owner: Owner) async throws {
        let key = owner.key
        let difference = pods.count - owner.desiredReplicas
        if difference < 0 {
            let count = min(-difference, Self.burstReplicas)
            guard let template = owner.podTemplate else { return }
            expectations.expect(key, adds: count)
            let control = podControl
            let (successes, error) = await Self.slowStartBatch(
                count: count, initialBatchSize: Self.slowStartInitialBatchSize
            ) {
                do {
                    try await control.create(PodControl.pod(from: template, owner: owner), owner: owner)
                } catch let error as StatusError where Self.isNamespaceTerminating(error) {
                    // The namespace is going away; its pods would be deleted anyway.
                }
            }
            // Creations that failed or were never tried will never be observed.
            for _ in 0..<(count - successes) { expectations.creationObserved(key) }
            if let error { throw error }
        } else if difference > 0 {
            let count = min(difference, Self.burstReplicas)
            let ranking = PodDeletionRanking(now: Int64(context.time.wallNow.timeIntervalSince1970))
            let victims = ranking.podsToDelete(pods, related: relatedPods(owner), count: count)
            expectations.expect(key, deleting: victims.map { $0.metadata.uid ?? "" })
            let control = podControl
            let expectations = self.expectations
            try await withThrowingTaskGroup(of: Void.self) { group in
                for pod in victims {
                    group.addTask {
                        do {
                            try await control.delete(pod, owner: owner)
                        } catch {
                            // This deletion will never be observed.
                            expectations.deletionObserved(key, uid: pod.metadata.uid ?? "")
                            throw error
                        }
                    }
                }
                var firstError: (any Error)?
                while let result = await group.nextResult() {
                    if case .failure(let error) = result, firstError == nil { firstError = error }
                }
                if let firstError { throw firstError }
            }
        }
    }

    /// Pods of every replica set controlled by the same owner (a Deployment's other revisions), so scale-down
    /// prefers pods doubled up on a node with their siblings; empty without a controlling owner, as upstream.
    private func relatedPods(_ owner: Owner) -> [Pod] {
        guard let ownerUID = owner.metadata.controllerRef?.uid else { return [] }
        let namespace = owner.metadata.namespace ?? ""
        let siblings = owners.list(namespace: namespace).filter { $0.metadata.controllerRef?.uid == ownerUID }
        let candidates = pods.list(namespace: namespace)
        var seen = Set<String>()
        var related: [Pod] = []
        for sibling in siblings {
            guard let selector = sibling.podSelector else { continue }
            for pod in candidates where selector.matches(pod.metadata.labels) {
                if seen.insert(pod.metadata.uid ?? "").inserted { related.append(pod) }
            }
        }
        return related
    }

    /// Upstream's `slowStartBatch`: calls `body` `count` times in batches of 1, 2, 4, … run concurrently,
    /// stopping after the first batch with a failure, so a quota or admission refusal costs one request
    /// rather than hundreds. Returns how many calls succeeded and the first error.
    static func slowStartBatch(
        count: Int, initialBatchSize: Int, _ body: @escaping @Sendable () async throws -> Void
    ) async -> (successes: Int, error: (any Error)?) {
        var remaining = count
        var successes = 0
        var batchSize = min(remaining, initialBatchSize)
        while batchSize > 0 {
            let size = batchSize
            let errors = await withTaskGroup(of: (any Error)?.self) { group in
                for _ in 0..<size {
                    group.addTask {
                        do {
                            try await body()
                            return nil
                        } catch {
                            return error
                        }
                    }
                }
                var errors: [any Error] = []
                for await error in group { if let error { errors.append(error) } }
                return errors
            }
            successes += size - errors.count
            if let first = errors.first { return (successes, first) }
            remaining -= size
            batchSize = min(2 * size, remaining)
        }
        return (successes, nil)
    }

    /// A create refused because the namespace is terminating (upstream's `NamespaceTerminatingCause`).
    static func isNamespaceTerminating(_ error: StatusError) -> Bool {
        guard error.code == 403, let causes = error.details?["causes"]?.arrayValue else { return false }
        return causes.contains { $0["reason"]?.stringValue == "NamespaceTerminating" }
    }
}
