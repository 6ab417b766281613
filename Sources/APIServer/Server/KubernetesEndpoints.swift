import APIMachinery

/// `--endpoint-reconciler-type`: how the `kubernetes` Service's endpoints follow the API servers.
public enum EndpointReconcilerType: String, Sendable, CaseIterable {
    /// Upstream's default: each server keeps a master lease in storage; the endpoints list the live ones.
    case lease
    /// The guide era's way: each server adds itself and trims the list to `--apiserver-count`.
    case masterCount = "master-count"
    /// The endpoints are left alone.
    case none
}

/// The `default/kubernetes` Endpoints and EndpointSlice as upstream's reconcilers write them: one subset
/// listing the API servers' advertise addresses in order, with the secure port named `https`.
struct KubernetesEndpoints: Sendable, Equatable {
    static let namespace = "default"
    static let name = "kubernetes"

    /// Advertise addresses, sorted.
    var addresses: [String]
    var port: Int

    init(addresses: [String], port: Int) {
        self.addresses = addresses.sorted()
        self.port = port
    }

    private var portJSON: JSON { ["name": "https", "port": .int(Int64(port)), "protocol": "TCP"] }

    /// `subsets` as the Endpoints object holds them; none when no address is left.
    var subsets: JSON {
        guard !addresses.isEmpty else { return [] }
        return [["addresses": .array(addresses.map { ["ip": .string($0)] }), "ports": [portJSON]]]
    }

    /// `existing` (or a new object) with this state's subsets. The skip-mirror label keeps the
    /// controller-manager's mirroring controller off it: this server writes the EndpointSlice itself.
    func endpoints(from existing: JSON?) -> JSON {
        var object =
            existing
            ?? [
                "apiVersion": "v1", "kind": "Endpoints",
                "metadata": ["name": .string(Self.name), "namespace": .string(Self.namespace)],
            ]
        object.set(["metadata", "labels", "endpointslice.kubernetes.io/skip-mirror"], to: "true")
        object["subsets"] = subsets
        object.setMeta("resourceVersion", nil)
        return object
    }

    /// `existing` (or a new object) as upstream's endpoints adapter derives the slice from the Endpoints:
    /// same name, the service-name label, one ready endpoint per address.
    func endpointSlice(from existing: JSON?) -> JSON {
        var object =
            existing
            ?? [
                "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": ["name": .string(Self.name), "namespace": .string(Self.namespace)],
            ]
        object.set(["metadata", "labels", "kubernetes.io/service-name"], to: .string(Self.name))
        let allIPv6 = !addresses.isEmpty && addresses.allSatisfy { $0.contains(":") }
        object["addressType"] = allIPv6 ? "IPv6" : "IPv4"
        object["endpoints"] = .array(addresses.map { ["addresses": [.string($0)], "conditions": ["ready": true]] })
        object["ports"] = addresses.isEmpty ? nil : [portJSON]
        object.setMeta("resourceVersion", nil)
        return object
    }

    /// True when `endpoints` already says what this state says, so nothing is written.
    func matches(endpoints: JSON?) -> Bool {
        (endpoints?["subsets"] ?? []) == subsets
            && endpoints?[path: "metadata", "labels", "endpointslice.kubernetes.io/skip-mirror"] == "true"
    }

    /// True when `slice` already lists exactly these addresses and the port.
    func matches(slice: JSON?) -> Bool {
        guard let slice else { return false }
        let listed = (slice["endpoints"]?.arrayValue ?? []).compactMap {
            $0["addresses"]?.arrayValue?.first?.stringValue
        }
        let ready = (slice["endpoints"]?.arrayValue ?? []).allSatisfy { $0[path: "conditions", "ready"] == true }
        return listed == addresses && ready && slice["ports"] == (addresses.isEmpty ? nil : [portJSON])
            && slice[path: "metadata", "labels", "kubernetes.io/service-name"] == .string(Self.name)
    }

    /// The addresses an Endpoints object lists in its first subset.
    static func addresses(of endpoints: JSON?) -> [String] {
        (endpoints?["subsets"]?.arrayValue?.first?["addresses"]?.arrayValue ?? []).compactMap { $0["ip"]?.stringValue }
    }

    /// Upstream's master-count rule: a list that holds `ours` and at most `count` addresses is left as it is;
    /// otherwise `ours` is added and, while there are too many, the addresses after it (in order, wrapping
    /// around) are dropped, so servers that each run this converge on `count` live addresses.
    static func masterCount(existing: [String], ours: String, count: Int) -> [String] {
        if existing.contains(ours), existing.count <= count { return existing.sorted() }
        let all = Set(existing + [ours]).sorted()
        guard all.count > max(count, 1), let index = all.firstIndex(of: ours) else { return all }
        // Rotated so that ours comes last: the ones kept are ours and those right before it.
        let rotated = all[(index + 1)...] + all[...index]
        return Array(rotated.suffix(max(count, 1))).sorted()
    }
}
