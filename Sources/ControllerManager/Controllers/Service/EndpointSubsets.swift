public import Client

/// The `subsets` of a service's Endpoints as upstream's endpoints controller computes them: one address per
/// pod that should be in endpoints (ready ones under `addresses`, others under `notReadyAddresses` unless
/// the service publishes not-ready addresses), grouped by the set of ports they offer, sorted, and truncated to
/// `maxCapacity` addresses.
public enum EndpointSubsets {
    /// Upstream's `maxCapacity`: an Endpoints object holds at most this many addresses.
    public static let maxCapacity = 1000
    /// The annotation on an Endpoints object whose addresses were cut to `maxCapacity`.
    public static let overCapacityAnnotation = "endpoints.kubernetes.io/over-capacity"

    /// The desired subsets of `service` given the pods its selector matches, before truncation.
    public static func desired(for service: Service, pods: [Pod]) -> [EndpointSubset] {
        let publishNotReady = service.spec.publishNotReadyAddresses ?? false
        var subsets: [EndpointSubset] = []
        for pod in pods where PodEndpointRules.shouldBeInEndpoints(pod, includeTerminating: publishNotReady) {
            guard let address = address(for: pod, service: service) else { continue }
            let ready = publishNotReady || PodEndpointRules.isReady(pod)
            func subset(_ ports: [EndpointPort]) -> EndpointSubset {
                ready
                    ? EndpointSubset(addresses: [address], ports: ports)
                    : EndpointSubset(notReadyAddresses: [address], ports: ports)
            }
            if service.spec.ports.isEmpty {
                // A headless service without ports still publishes its pods' addresses.
                if service.spec.clusterIP == "None" { subsets.append(subset([])) }
                continue
            }
            for servicePort in service.spec.ports {
                guard let number = PodEndpointRules.findPort(pod, servicePort) else { continue }
                let port = EndpointPort(
                    port: number, appProtocol: servicePort.appProtocol, name: servicePort.name,
                    protocol: servicePort.protocol ?? "TCP")
                subsets.append(subset([port]))
            }
        }
        return repack(subsets)
    }

    /// The address of `pod` in the service's first IP family (the pod's own family for a headless service
    /// without families); nil when the pod has no address of that family.
    static func address(for pod: Pod, service: Service) -> EndpointAddress? {
        let ips = PodEndpointRules.ips(of: pod)
        let wantIPv6: Bool
        if let family = service.spec.ipFamilies.first {
            wantIPv6 = family == "IPv6"
        } else {
            wantIPv6 = ips.first.map(PodEndpointRules.isIPv6) ?? false
        }
        guard let ip = ips.first(where: { PodEndpointRules.isIPv6($0) == wantIPv6 }) else { return nil }
        var address = EndpointAddress(ip: ip, targetRef: PodEndpointRules.targetRef(pod))
        if let node = pod.spec.nodeName, !node.isEmpty { address.nodeName = node }
        if PodEndpointRules.shouldSetHostname(pod, service: service) { address.hostname = pod.spec.hostname }
        return address
    }

    /// Upstream's `RepackSubsets`: merges subsets so that each holds the addresses offering exactly the same
    /// ports; an address ready for a port in one subset and not ready in another counts as ready.
    public static func repack(_ subsets: [EndpointSubset]) -> [EndpointSubset] {
        struct AddressKey: Hashable {
            var ip: String
            var uid: String
        }
        var addresses: [AddressKey: EndpointAddress] = [:]
        // Port (nil for the no-port sentinel) → address → ready.
        var readiness: [EndpointPortKey?: [AddressKey: Bool]] = [:]
        func note(_ address: EndpointAddress, ready: Bool, port: EndpointPortKey?) {
            let key = AddressKey(ip: address.ip ?? "", uid: address.targetRef?.uid ?? "")
            if addresses[key] == nil { addresses[key] = address }
            if readiness[port, default: [:]][key] != true { readiness[port, default: [:]][key] = ready }
        }
        for subset in subsets {
            let ports: [EndpointPortKey?] = subset.ports.isEmpty ? [nil] : subset.ports.map(EndpointPortKey.init)
            for port in ports {
                for address in subset.addresses { note(address, ready: true, port: port) }
                for address in subset.notReadyAddresses { note(address, ready: false, port: port) }
            }
        }
        // Ports offered by exactly the same addresses (with the same readiness) share a subset.
        var portsByAddressSet: [[AddressKey: Bool]: [EndpointPortKey]] = [:]
        for (port, set) in readiness {
            portsByAddressSet[set, default: []] += port.map { [$0] } ?? []
        }
        let repacked = portsByAddressSet.map { set, ports in
            let sorted = set.keys.sorted { ($0.ip, $0.uid) < ($1.ip, $1.uid) }
            return EndpointSubset(
                addresses: sorted.filter { set[$0] == true }.compactMap { addresses[$0] },
                notReadyAddresses: sorted.filter { set[$0] == false }.compactMap { addresses[$0] },
                ports: ports.sorted().map(\.port))
        }
        return repacked.sorted { sortKey($0) < sortKey($1) }
    }

    /// A deterministic order for subsets (upstream sorts by a hash; any stable order avoids needless updates).
    private static func sortKey(_ subset: EndpointSubset) -> String {
        let ports = subset.ports.map { "\($0.name ?? "")/\($0.port ?? 0)/\($0.protocol ?? "")" }
        let first = (subset.addresses + subset.notReadyAddresses).first?.ip ?? ""
        return ports.joined(separator: ",") + "|" + first
    }

    /// Upstream's `truncateEndpoints`: keeps `maxCapacity` addresses, ready ones first, each subset keeping its
    /// proportional share (rounded up); true when something was cut.
    public static func truncate(_ subsets: inout [EndpointSubset], maxCapacity: Int = maxCapacity) -> Bool {
        let totalReady = subsets.reduce(0) { $0 + $1.addresses.count }
        let totalNotReady = subsets.reduce(0) { $0 + $1.notReadyAddresses.count }
        guard totalReady + totalNotReady > maxCapacity else { return false }
        let truncateReady = totalReady > maxCapacity
        let budget = truncateReady ? maxCapacity : maxCapacity - totalReady
        let total = truncateReady ? totalReady : totalNotReady
        var room = budget
        for index in subsets.indices {
            let count = truncateReady ? subsets[index].addresses.count : subsets[index].notReadyAddresses.count
            let share = (count * budget + total - 1) / total
            let keep = min(share, room)
            if truncateReady {
                subsets[index].addresses = Array(subsets[index].addresses.prefix(keep))
                subsets[index].notReadyAddresses = []
                room -= subsets[index].addresses.count
            } else {
                subsets[index].notReadyAddresses = Array(subsets[index].notReadyAddresses.prefix(keep))
                room -= subsets[index].notReadyAddresses.count
            }
        }
        return true
    }
}

/// An `EndpointPort` as a hashable, ordered key.
struct EndpointPortKey: Hashable, Comparable {
    let port: EndpointPort

    init(_ port: EndpointPort) { self.port = port }

    static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.port.name ?? "", lhs.port.port ?? 0, lhs.port.protocol ?? "", lhs.port.appProtocol ?? "")
            < (rhs.port.name ?? "", rhs.port.port ?? 0, rhs.port.protocol ?? "", rhs.port.appProtocol ?? "")
    }
}
