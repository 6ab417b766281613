import APIMachinery
import Client

/// Why a sync was put off; the key is retried after the rate limiter's delay.
struct EndpointSliceSyncError: Error, CustomStringConvertible {
    let description: String
}

extension EndpointSliceController {
    /// Brings the slices of the service `key` in line with the pods it selects.
    func sync(_ key: ObjectKey) async throws {
        guard let service = services.get(namespace: key.namespace, name: key.name) else {
            // The slices go with their owner through the garbage collector.
            triggerTimes.deleteService(key)
            tracker.deleteService(key)
            return
        }
        if service.spec.type == "ExternalName" { return }
        guard let selector = PodEndpointRules.selector(of: service) else { return }
        let cached = slices.list(
            namespace: key.namespace,
            selector: LabelSelector(requirements: [
                .equals(EndpointSliceReconciler.serviceNameLabel, key.name),
                .equals(EndpointSliceReconciler.managedByLabel, EndpointSliceReconciler.managedBy),
            ]))
        guard !tracker.isStale(cached, service: key) else {
            throw EndpointSliceSyncError(description: "EndpointSlice informer cache is out of date")
        }
        let selected = pods.list(
            namespace: key.namespace,
            selector: LabelSelector(requirements: selector.sorted { $0.key < $1.key }.map { .equals($0.key, $0.value) })
        )
        let trigger = triggerTimes.observe(service: service, pods: selected)
        let (plan, skipped) = reconciler.plan(
            service: service, pods: selected, node: { [nodes] in nodes.get(name: $0) }, existing: cached)
        do {
            try await apply(plan, service: key, triggerTime: trigger.time)
            triggerTimes.record(trigger)
        } catch {
            if !Task.isCancelled, !((error as? StatusError).map { $0.code == 409 || $0.code == 404 } ?? false) {
                context.recorder.eventf(
                    regarding: ObjectReference(to: service), type: .warning, reason: "FailedToUpdateEndpointSlices",
                    action: "Update",
                    note: "Error updating Endpoint Slices for Service \(key.namespace)/\(key.name): \(error)")
            }
            throw error
        }
        if !skipped.isEmpty {
            // Upstream publishes the rest and retries the service until the pods' nodes are known.
            throw EndpointSliceSyncError(
                description: "skipping pods \(skipped.joined(separator: ", ")) of service \(key): node not found")
        }
    }

    /// Creates, then updates, then deletes, so that an endpoint moving between slices is never missing.
    private func apply(_ plan: EndpointSliceReconciler.Plan, service: ObjectKey, triggerTime: Int64?) async throws {
        let client = ResourceClient<EndpointSlice>(client: context.client, namespace: service.namespace)
        func stamped(_ slice: EndpointSlice) -> EndpointSlice {
            var slice = slice
            if let triggerTime {
                slice.metadata.annotations[PodEndpointRules.lastChangeTriggerTimeAnnotation] =
                    TriggerTimeTracker.format(triggerTime)
            } else {
                slice.metadata.annotations.removeValue(forKey: PodEndpointRules.lastChangeTriggerTimeAnnotation)
            }
            return slice
        }
        for slice in plan.create {
            do {
                tracker.written(try await client.create(stamped(slice)), service: service)
            } catch let error as StatusError where error.isNamespaceTerminatingRefusal {
                // The namespace is going away; nothing more to publish.
                return
            }
        }
        for slice in plan.update {
            tracker.written(try await client.update(stamped(slice)), service: service)
        }
        for slice in plan.delete {
            tracker.expectDeletion(slice, service: service)
            do {
                try await client.delete(slice.metadata.name ?? "")
            } catch let error as StatusError where error.code == 404 {
                _ = tracker.handleDeletion(slice, service: service)
            }
        }
    }
}
