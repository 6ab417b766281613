import Client

/// Upstream's EndpointSlice mirroring as a pure planner: the Endpoints of a service without a selector
/// (written by someone else) are copied into EndpointSlices, one per address family and port set, each
/// subset cut to `maxEndpointsPerSubset` addresses (ready ones first).
struct EndpointSliceMirroring: Sendable {
    static let managedBy = "endpointslicemirroring-controller.k8s.io"
    /// Endpoints labelled with this set to `true` are not mirrored.
    static let skipMirrorLabel = "endpointslice.kubernetes.io/skip-mirror"
    /// Annotations of the Endpoints that are not copied to its slices.
    static let uncopiedAnnotations: Set<String> = [
        PodEndpointRules.lastChangeTriggerTimeAnnotation, "kubectl.kubernetes.io/last-applied-configuration",
    ]

    let maxEndpointsPerSubset: Int

    /// Whether `endpoints` is mirrored at all: not opted out, not an old leader-election record.
    static func shouldMirror(_ endpoints: Endpoints) -> Bool {
        endpoints.metadata.labels[skipMirrorLabel] != "true"
            && endpoints.metadata.annotations[EndpointsController.leaderAnnotation] == nil
    }

    /// Which mirrored slices to create, update and delete so that `existing` mirrors `endpoints`.
    func plan(_ endpoints: Endpoints, existing: [EndpointSlice]) -> EndpointSliceReconciler.Plan {
        var desired: [SliceKey: [EndpointIdentity: Endpoint]] = [:]
        for subset in endpoints.subsets {
            let ports = PortSet(
                subset.ports.map {
                    DiscoveryV1EndpointPort(
                        appProtocol: $0.appProtocol, name: $0.name ?? "", port: $0.port, protocol: $0.protocol ?? "TCP")
                })
            let ready = subset.addresses.prefix(maxEndpointsPerSubset).map { ($0, true) }
            let notReady = subset.notReadyAddresses.prefix(max(0, maxEndpointsPerSubset - ready.count)).map {
                ($0, false)
            }
            for (address, isReady) in ready + notReady {
                guard let ip = address.ip, let type = Self.addressType(of: ip) else { continue }
                var endpoint = Endpoint(
                    addresses: [ip], conditions: EndpointConditions(ready: isReady), targetRef: address.targetRef)
                endpoint.nodeName = address.nodeName
                if let hostname = address.hostname, !hostname.isEmpty { endpoint.hostname = hostname }
                let key = SliceKey(type: type, ports: ports)
                let identity = EndpointIdentity(endpoint)
                // An address listed twice stays ready if it is ready anywhere.
                if desired[key]?[identity]?.conditions?.ready != true {
                    desired[key, default: [:]][identity] = endpoint
                }
            }
        }
        var plan = EndpointSliceReconciler.Plan()
        var unclaimed: [EndpointSlice] = []
        var claimed = Set<SliceKey>()
        for slice in existing {
            let key = SliceKey(type: slice.addressType ?? "", ports: PortSet(slice.ports))
            guard let wanted = desired[key], !claimed.contains(key) else {
                unclaimed.append(slice)
                continue
            }
            claimed.insert(key)
            var updated = slice
            updated.endpoints = wanted.keys.sorted().compactMap { wanted[$0] }
            updated.metadata.labels = labels(endpoints)
            updated.metadata.annotations = annotations(endpoints)
            if updated != slice { plan.update.append(updated) }
        }
        for key in desired.keys.sorted() where !claimed.contains(key) {
            let wanted = desired[key] ?? [:]
            var slice = EndpointSlice(
                addressType: key.type, endpoints: wanted.keys.sorted().compactMap { wanted[$0] }, ports: key.ports.ports
            )
            slice.metadata.namespace = endpoints.metadata.namespace
            slice.metadata.labels = labels(endpoints)
            slice.metadata.annotations = annotations(endpoints)
            slice.metadata.ownerReferences = [OwnerReference(controller: endpoints)]
            // Rewrite a slice that would otherwise be deleted rather than create one.
            if let reuse = unclaimed.firstIndex(where: { $0.addressType == key.type }) {
                let old = unclaimed.remove(at: reuse)
                slice.metadata.name = old.metadata.name
                slice.metadata.resourceVersion = old.metadata.resourceVersion
                slice.metadata.uid = old.metadata.uid
                plan.update.append(slice)
            } else {
                slice.metadata.generateName = (endpoints.metadata.name ?? "") + "-"
                plan.create.append(slice)
            }
        }
        plan.delete = unclaimed
        return plan
    }

    /// The Endpoints' labels plus the service name and this controller as manager.
    func labels(_ endpoints: Endpoints) -> [String: String] {
        var labels = endpoints.metadata.labels
        labels[EndpointSliceReconciler.serviceNameLabel] = endpoints.metadata.name ?? ""
        labels[EndpointSliceReconciler.managedByLabel] = Self.managedBy
        return labels
    }

    func annotations(_ endpoints: Endpoints) -> [String: String] {
        endpoints.metadata.annotations.filter { !Self.uncopiedAnnotations.contains($0.key) }
    }

    /// `IPv4` or `IPv6` for a valid address, nil otherwise (upstream skips such addresses).
    static func addressType(of ip: String) -> String? {
        if ip.contains(":") { return ip.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." } ? "IPv6" : nil }
        let parts = ip.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ UInt8($0) != nil && ($0.count == 1 || $0.first != "0") }) else {
            return nil
        }
        return "IPv4"
    }
}

/// A mirrored slice's family and ports.
struct SliceKey: Hashable, Comparable {
    let type: String
    let ports: PortSet

    static func < (lhs: Self, rhs: Self) -> Bool { (lhs.type, lhs.ports) < (rhs.type, rhs.ports) }
}
