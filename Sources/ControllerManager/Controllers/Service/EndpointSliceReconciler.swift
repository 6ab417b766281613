public import Client

/// Upstream's EndpointSlice reconciler as a pure planner: given a service, the pods it selects, the nodes
/// they run on and the slices that exist, which slices to create, update and delete. Slices are grouped by
/// address family and port set; existing slices keep their endpoints where they still hold, emptied slices
/// are reused for new endpoints before any slice is created, and new endpoints go to the fullest slice they
/// fit in, so that a change touches as few slices as it can.
public struct EndpointSliceReconciler: Sendable {
    /// The value of the managed-by label on the slices this controller owns.
    public static let managedBy = "endpointslice-controller.k8s.io"
    public static let managedByLabel = "endpointslice.kubernetes.io/managed-by"
    public static let serviceNameLabel = "kubernetes.io/service-name"
    /// The zone label a node's endpoints are placed in.
    static let zoneLabel = "topology.kubernetes.io/zone"

    /// Writes the reconciler decided on.
    public struct Plan: Sendable, Equatable {
        public var create: [EndpointSlice] = []
        public var update: [EndpointSlice] = []
        public var delete: [EndpointSlice] = []

        public var isEmpty: Bool { create.isEmpty && update.isEmpty && delete.isEmpty }
    }

    public let maxEndpointsPerSlice: Int

    public init(maxEndpointsPerSlice: Int) {
        self.maxEndpointsPerSlice = max(1, maxEndpointsPerSlice)
    }

    /// The plan for `service`; `skipped` names the pods left out because their node is unknown (upstream
    /// retries the service later for them).
    public func plan(
        service: Service, pods: [Pod], node: (String) -> Node?, existing: [EndpointSlice]
    ) -> (plan: Plan, skipped: [String]) {
        var plan = Plan()
        var skipped: [String] = []
        var byType: [String: [EndpointSlice]] = [:]
        for slice in existing {
            if Self.isOwned(slice, by: service) {
                byType[slice.addressType ?? "", default: []].append(slice)
            } else {
                plan.delete.append(slice)
            }
        }
        let types = Self.addressTypes(of: service)
        for (type, slices) in byType where !types.contains(type) { plan.delete += slices }
        for type in types.sorted() {
            let result = reconcile(service: service, pods: pods, node: node, existing: byType[type] ?? [], type: type)
            plan.create += result.plan.create
            plan.update += result.plan.update
            plan.delete += result.plan.delete
            skipped += result.skipped
        }
        // Rather than delete a slice and create another, rewrite the one to delete (same family, same owner).
        var index = 0
        while index < plan.delete.count, !plan.create.isEmpty {
            let doomed = plan.delete[index]
            guard let reuse = plan.create.lastIndex(where: { $0.addressType == doomed.addressType }),
                Self.isOwned(doomed, by: service)
            else {
                index += 1
                continue
            }
            var slice = plan.create.remove(at: reuse)
            slice.metadata.name = doomed.metadata.name
            slice.metadata.generateName = nil
            slice.metadata.resourceVersion = doomed.metadata.resourceVersion
            slice.metadata.uid = doomed.metadata.uid
            plan.update.append(slice)
            plan.delete.remove(at: index)
        }
        if service.metadata.deletionTimestamp != nil { plan.create = [] }
        return (plan, Array(Set(skipped)).sorted())
    }

    /// The plan for one address family.
    private func reconcile(
        service: Service, pods: [Pod], node: (String) -> Node?, existing: [EndpointSlice], type: String
    ) -> (plan: Plan, skipped: [String]) {
        var plan = Plan()
        var skipped: [String] = []
        var desired: [PortSet: [EndpointIdentity: Endpoint]] = [:]
        let publishNotReady = service.spec.publishNotReadyAddresses ?? false
        for pod in pods where PodEndpointRules.shouldBeInEndpoints(pod, includeTerminating: true) {
            let ports = PortSet(Self.ports(service: service, pod: pod))
            if desired[ports] == nil { desired[ports] = [:] }
            let nodeName = pod.spec.nodeName ?? ""
            let podNode = node(nodeName)
            if podNode == nil && !publishNotReady {
                skipped.append(pod.metadata.name ?? "")
                continue
            }
            let endpoint = Self.endpoint(pod: pod, node: podNode, service: service, type: type)
            if !endpoint.addresses.isEmpty { desired[ports]?[EndpointIdentity(endpoint)] = endpoint }
        }
        var existingByPorts: [PortSet: [EndpointSlice]] = [:]
        for slice in existing { existingByPorts[PortSet(slice.ports), default: []].append(slice) }
        for ports in desired.keys.sorted() {
            let part = reconcile(
                service: service, ports: ports, type: type, existing: existingByPorts[ports] ?? [],
                desired: desired[ports] ?? [:])
            plan.create += part.create
            plan.update += part.update
            plan.delete += part.delete
        }
        for (ports, slices) in existingByPorts where desired[ports] == nil { plan.delete += slices }
        // A service with no endpoints of this family still gets one empty slice, so that clients can tell
        // "no endpoints" from "not yet reconciled".
        if existing.count == plan.delete.count && plan.create.isEmpty {
            let placeholder = newSlice(service: service, ports: [], type: type)
            if plan.delete.count == 1, Self.equalIgnoringName(plan.delete[0], placeholder) {
                plan.delete = []
            } else {
                plan.create.append(placeholder)
            }
        }
        return (plan, skipped)
    }

    /// The plan for the slices of one port set.
    private func reconcile(
        service: Service, ports: PortSet, type: String, existing: [EndpointSlice],
        desired desiredEndpoints: [EndpointIdentity: Endpoint]
    ) -> Plan {
        var plan = Plan()
        var desired = desiredEndpoints
        var unchanged: [EndpointSlice] = []
        var toUpdate: [EndpointSlice] = []
        let labels = Self.labels(for: service)
        for slice in existing {
            var kept: [Endpoint] = []
            var changed = false
            for endpoint in slice.endpoints {
                let identity = EndpointIdentity(endpoint)
                guard let wanted = desired.removeValue(forKey: identity) else {
                    changed = true
                    continue
                }
                if wanted != endpoint { changed = true }
                kept.append(wanted)
            }
            let labelsChanged = slice.metadata.labels != labels
            if changed || labelsChanged {
                if kept.isEmpty {
                    plan.delete.append(slice)
                } else {
                    var updated = slice
                    updated.endpoints = kept
                    updated.metadata.labels = labels
                    toUpdate.append(updated)
                }
            } else {
                unchanged.append(slice)
            }
        }
        // Endpoints not yet placed, in a stable order (by the pod they stand for, then address).
        var remaining = desired.keys.sorted().compactMap { desired[$0] }
        for index in toUpdate.indices where !remaining.isEmpty {
            let room = maxEndpointsPerSlice - toUpdate[index].endpoints.count
            guard room > 0 else { continue }
            toUpdate[index].endpoints += remaining.prefix(room)
            remaining.removeFirst(min(room, remaining.count))
        }
        while !remaining.isEmpty {
            var slice: EndpointSlice
            var isNew = false
            if remaining.count < maxEndpointsPerSlice,
                let fullest = unchanged.indices.filter({
                    unchanged[$0].endpoints.count + remaining.count <= maxEndpointsPerSlice
                }).max(by: { unchanged[$0].endpoints.count < unchanged[$1].endpoints.count })
            {
                slice = unchanged.remove(at: fullest)
            } else {
                slice = newSlice(service: service, ports: ports.ports, type: type)
                isNew = true
            }
            let room = maxEndpointsPerSlice - slice.endpoints.count
            slice.endpoints += remaining.prefix(room)
            remaining.removeFirst(min(room, remaining.count))
            if isNew { plan.create.append(slice) } else { toUpdate.append(slice) }
        }
        plan.update = toUpdate
        return plan
    }

    /// An empty slice of `service` for `ports` and family `type`, named by the server from the service's name.
    func newSlice(service: Service, ports: [DiscoveryV1EndpointPort], type: String) -> EndpointSlice {
        var metadata = ObjectMeta()
        metadata.generateName = (service.metadata.name ?? "") + "-"
        metadata.namespace = service.metadata.namespace
        metadata.ownerReferences = [OwnerReference(controller: service)]
        metadata.labels = Self.labels(for: service)
        return EndpointSlice(addressType: type, metadata: metadata, ports: ports)
    }

    /// The service's own labels, minus the keys this controller reserves, plus the service name, the manager
    /// and, for a service without cluster IP, the headless label.
    static func labels(for service: Service) -> [String: String] {
        let reserved: Set<String> = [serviceNameLabel, managedByLabel, PodEndpointRules.headlessLabel]
        var labels = service.metadata.labels.filter { !reserved.contains($0.key) }
        labels[serviceNameLabel] = service.metadata.name ?? ""
        labels[managedByLabel] = managedBy
        if !PodEndpointRules.hasClusterIP(service) { labels[PodEndpointRules.headlessLabel] = "" }
        return labels
    }

    /// `IPv4` and/or `IPv6`: the service's IP families; for a service without families, its cluster IP's
    /// family, or both when it has none.
    static func addressTypes(of service: Service) -> Set<String> {
        let families = Set(service.spec.ipFamilies.filter { $0 == "IPv4" || $0 == "IPv6" })
        if !families.isEmpty { return families }
        if PodEndpointRules.hasClusterIP(service), let ip = service.spec.clusterIP {
            return [PodEndpointRules.isIPv6(ip) ? "IPv6" : "IPv4"]
        }
        return ["IPv4", "IPv6"]
    }

    /// The ports of `service` that `pod` offers, by number.
    static func ports(service: Service, pod: Pod) -> [DiscoveryV1EndpointPort] {
        service.spec.ports.compactMap { servicePort in
            PodEndpointRules.findPort(pod, servicePort).map {
                DiscoveryV1EndpointPort(
                    appProtocol: servicePort.appProtocol, name: servicePort.name ?? "", port: $0,
                    protocol: servicePort.protocol ?? "TCP")
            }
        }
    }

    /// The endpoint standing for `pod` in a slice of family `type`.
    static func endpoint(pod: Pod, node: Node?, service: Service, type: String) -> Endpoint {
        let serving = PodEndpointRules.isReady(pod)
        let terminating = pod.metadata.deletionTimestamp != nil
        // A terminating pod is never ready, unless the service publishes not-ready addresses.
        let ready = (service.spec.publishNotReadyAddresses ?? false) || (serving && !terminating)
        var endpoint = Endpoint(
            addresses: PodEndpointRules.ips(of: pod).filter { PodEndpointRules.isIPv6($0) == (type == "IPv6") },
            conditions: EndpointConditions(ready: ready, serving: serving, terminating: terminating),
            targetRef: PodEndpointRules.targetRef(pod))
        if let name = pod.spec.nodeName, !name.isEmpty { endpoint.nodeName = name }
        if let zone = node?.metadata.labels[zoneLabel], !zone.isEmpty { endpoint.zone = zone }
        if PodEndpointRules.shouldSetHostname(pod, service: service) { endpoint.hostname = pod.spec.hostname }
        return endpoint
    }

    /// Whether `slice` has `service` (this very object, by uid) as its owner.
    static func isOwned(_ slice: EndpointSlice, by service: Service) -> Bool {
        slice.metadata.ownerReferences.contains {
            $0.kind == "Service" && $0.apiVersion == "v1" && $0.uid == service.metadata.uid
        }
    }

    /// Equal but for name and server-set metadata (upstream's placeholder comparison).
    static func equalIgnoringName(_ lhs: EndpointSlice, _ rhs: EndpointSlice) -> Bool {
        lhs.metadata.namespace == rhs.metadata.namespace && lhs.metadata.labels == rhs.metadata.labels
            && lhs.metadata.ownerReferences == rhs.metadata.ownerReferences && lhs.addressType == rhs.addressType
            && lhs.endpoints == rhs.endpoints && lhs.ports == rhs.ports
    }
}

/// A slice's set of ports, in a canonical order, as a key.
struct PortSet: Hashable, Comparable {
    let ports: [DiscoveryV1EndpointPort]

    init(_ ports: [DiscoveryV1EndpointPort]) {
        self.ports = ports.sorted { Self.key($0) < Self.key($1) }
    }

    private static func key(_ port: DiscoveryV1EndpointPort) -> String {
        "\(port.name ?? "")/\(port.port ?? 0)/\(port.protocol ?? "")/\(port.appProtocol ?? "")"
    }

    static func < (lhs: Self, rhs: Self) -> Bool {
        lhs.ports.map(key).joined(separator: ",") < rhs.ports.map(key).joined(separator: ",")
    }
}

/// What makes two endpoints the same one (upstream's endpoint hash): its addresses and the pod it stands for.
struct EndpointIdentity: Hashable, Comparable {
    let namespace: String
    let name: String
    let addresses: [String]
    let hostname: String

    init(_ endpoint: Endpoint) {
        namespace = endpoint.targetRef?.namespace ?? ""
        name = endpoint.targetRef?.name ?? ""
        addresses = endpoint.addresses.sorted()
        hostname = endpoint.hostname ?? ""
    }

    static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.namespace, lhs.name, lhs.addresses.joined(separator: ","), lhs.hostname)
            < (rhs.namespace, rhs.name, rhs.addresses.joined(separator: ","), rhs.hostname)
    }
}
