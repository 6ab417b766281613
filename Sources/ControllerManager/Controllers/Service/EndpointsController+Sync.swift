import APIMachinery
import Client

extension EndpointsController {
    /// Brings the Endpoints named `key` in line with its service and the pods the service selects.
    func sync(_ key: ObjectKey) async throws {
        let client = ResourceClient<Endpoints>(client: context.client, namespace: key.namespace)
        guard let service = services.get(namespace: key.namespace, name: key.name) else {
            triggerTimes.deleteService(key)
            guard let stale = endpoints.get(namespace: key.namespace, name: key.name),
                stale.metadata.annotations[Self.leaderAnnotation] == nil
            else { return }
            do {
                try await client.delete(key.name)
            } catch let error as StatusError where error.code == 404 {
                // Already gone.
            }
            return
        }
        // ExternalName services have no endpoints; services without a selector have theirs managed by someone else.
        if service.spec.type == "ExternalName" { return }
        guard let selector = PodEndpointRules.selector(of: service) else { return }
        let selected = pods.list(
            namespace: key.namespace,
            selector: LabelSelector(requirements: selector.sorted { $0.key < $1.key }.map { .equals($0.key, $0.value) })
        )
        let trigger = triggerTimes.observe(service: service, pods: selected)
        var subsets = EndpointSubsets.desired(for: service, pods: selected)
        let truncated = EndpointSubsets.truncate(&subsets)

        let current = endpoints.get(namespace: key.namespace, name: key.name)
        var labels = service.metadata.labels
        if PodEndpointRules.hasClusterIP(service) {
            labels.removeValue(forKey: PodEndpointRules.headlessLabel)
        } else {
            labels[PodEndpointRules.headlessLabel] = ""
        }
        if let current, current.subsets == subsets, current.metadata.labels == labels,
            (current.metadata.annotations[EndpointSubsets.overCapacityAnnotation] != nil) == truncated
        {
            triggerTimes.record(trigger)
            return
        }

        var desired = current ?? Endpoints(metadata: ObjectMeta(name: key.name, namespace: key.namespace))
        desired.subsets = subsets
        desired.metadata.labels = labels
        if let time = trigger.time {
            desired.metadata.annotations[PodEndpointRules.lastChangeTriggerTimeAnnotation] =
                TriggerTimeTracker.format(time)
        } else {
            desired.metadata.annotations.removeValue(forKey: PodEndpointRules.lastChangeTriggerTimeAnnotation)
        }
        if truncated {
            desired.metadata.annotations[EndpointSubsets.overCapacityAnnotation] = "truncated"
        } else {
            desired.metadata.annotations.removeValue(forKey: EndpointSubsets.overCapacityAnnotation)
        }
        do {
            if current == nil {
                _ = try await client.create(desired)
            } else {
                _ = try await client.update(desired)
            }
            triggerTimes.record(trigger)
        } catch let error as StatusError {
            if current == nil, error.isNamespaceTerminatingRefusal {
                // Creating in a terminating namespace is refused; the namespace's deletion removes the rest.
                return
            }
            if error.code == 409 || error.code == 404 {
                // A stale cache (the object changed or vanished since it was read): the informer's event requeues it.
                throw error
            }
            let verb = current == nil ? "Create" : "Update"
            context.recorder.eventf(
                regarding: ObjectReference(to: desired), type: .warning, reason: "FailedTo\(verb)Endpoint",
                action: verb,
                note:
                    "Failed to \(verb.lowercased()) endpoint for service \(key.namespace)/\(key.name): \(error.message)"
            )
            throw error
        }
    }
}
