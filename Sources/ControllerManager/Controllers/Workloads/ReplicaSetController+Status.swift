import APIMachinery
import Client
import Foundation

extension ReplicaManager {
    /// Upstream's `calculateStatus`: counts over `pods` (active, owned), with `ReplicaFailure` set while creating
    /// or deleting fails and cleared once it succeeds.
    static func status(
        of owner: Owner, pods: [Pod], manageError: (any Error)?, now: Date
    ) -> (counts: ReplicaCounts, failure: ReplicaFailure?) {
        let templateLabels = owner.podTemplate?.metadata?.labels ?? [:]
        let seconds = Int64(now.timeIntervalSince1970)
        var counts = ReplicaCounts()
        counts.replicas = Int32(pods.count)
        for pod in pods {
            if templateLabels.allSatisfy({ pod.metadata.labels[$0.key] == $0.value }) {
                counts.fullyLabeledReplicas += 1
            }
            if PodAvailability.isReady(pod) {
                counts.readyReplicas += 1
                if PodAvailability.isAvailable(pod, minReadySeconds: owner.minReadySeconds, now: seconds) {
                    counts.availableReplicas += 1
                }
            }
        }
        counts.observedGeneration = owner.metadata.generation ?? 0
        var failure = owner.failure
        if let manageError, failure == nil {
            let reason = pods.count < owner.desiredReplicas ? "FailedCreate" : "FailedDelete"
            failure = ReplicaFailure(
                reason: reason, message: "\(manageError)",
                lastTransitionTime: Timestamp.format(epochSeconds: seconds))
        } else if manageError == nil {
            failure = nil
        }
        return (counts, failure)
    }

    /// Writes the status `pods` give, unless it is already there; returns the owner as stored.
    func updateStatus(_ owner: Owner, pods: [Pod], manageError: (any Error)?) async throws -> Owner {
        let (counts, failure) = Self.status(of: owner, pods: pods, manageError: manageError, now: context.time.wallNow)
        var current = owner
        let client = ResourceClient<Owner>(client: context.client, namespace: owner.metadata.namespace)
        // One retry on a conflict, with the object read afresh, as upstream's `statusUpdateRetries`.
        for attempt in 0..<2 {
            if current.counts == counts, current.failure == failure { return current }
            var next = current
            next.counts = counts
            next.failure = failure
            do {
                return try await client.updateStatus(next)
            } catch let error as StatusError where error.code == 409 && attempt == 0 {
                current = try await client.get(owner.metadata.name ?? "")
            }
        }
        return current
    }
}
