public import APIMachinery

/// Which objects each node may reach through the pods bound to it (upstream's node authorizer graph,
/// kept as reference counts): a pod bound to a node links the node to the secrets, config maps,
/// persistent volume claims and service account it names, and a bound claim links on to its volume.
public struct NodeGraph: Sendable {
    /// The kinds of object a node reaches through its pods.
    public enum Kind: Sendable, Hashable {
        case secret, configMap, persistentVolumeClaim, persistentVolume, serviceAccount
    }

    /// One reachable object; `namespace` is "" for persistent volumes.
    public struct Reference: Sendable, Hashable {
        public var kind: Kind
        public var namespace: String
        public var name: String

        public init(_ kind: Kind, namespace: String, name: String) {
            self.kind = kind
            self.namespace = namespace
            self.name = name
        }
    }

    /// What one bound pod contributes.
    struct PodEdges: Sendable {
        var node: String
        var references: Set<Reference>
    }

    private var pods: [String: PodEdges] = [:]
    /// For every reference, how many pods on each node name it.
    private var reachable: [Reference: [String: Int]] = [:]
    /// `namespace/claim` → the persistent volume it is bound to.
    private var claimVolumes: [String: String] = [:]

    public init() {}

    /// Whether `node` reaches the object, through a pod bound to it (a volume through a bound claim).
    public func hasPath(from node: String, to reference: Reference) -> Bool {
        if reference.kind == .persistentVolume {
            return claimVolumes.contains { key, volume in
                guard volume == reference.name else { return false }
                let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { return false }
                return hasPath(from: node, to: Reference(.persistentVolumeClaim, namespace: parts[0], name: parts[1]))
            }
        }
        return (reachable[reference]?[node] ?? 0) > 0
    }

    /// Adds or replaces a pod; a pod not bound to a node contributes nothing, as upstream's populator.
    public mutating func put(pod: JSON) {
        let namespace = pod.namespace ?? ""
        let name = pod.name ?? ""
        removePod(namespace: namespace, name: name)
        guard let node = pod["spec"]?["nodeName"]?.stringValue, !node.isEmpty else { return }
        let edges = PodEdges(node: node, references: Self.references(pod: pod, namespace: namespace, name: name))
        pods[namespace + "/" + name] = edges
        for reference in edges.references { reachable[reference, default: [:]][node, default: 0] += 1 }
    }

    /// Removes a pod and the links it made.
    public mutating func removePod(namespace: String, name: String) {
        guard let edges = pods.removeValue(forKey: namespace + "/" + name) else { return }
        for reference in edges.references {
            let count = (reachable[reference]?[edges.node] ?? 0) - 1
            reachable[reference]?[edges.node] = count > 0 ? count : nil
            if reachable[reference]?.isEmpty == true { reachable[reference] = nil }
        }
    }

    /// Adds or replaces a claim; only a claim bound to a volume (`spec.volumeName`) links on.
    public mutating func put(claim: JSON) {
        let key = (claim.namespace ?? "") + "/" + (claim.name ?? "")
        if let volume = claim["spec"]?["volumeName"]?.stringValue, !volume.isEmpty {
            claimVolumes[key] = volume
        } else {
            claimVolumes[key] = nil
        }
    }

    /// Removes a claim.
    public mutating func removeClaim(namespace: String, name: String) {
        claimVolumes[namespace + "/" + name] = nil
    }

    /// Everything a pod names: volumes, image pull secrets, every container's env and envFrom, its
    /// service account, and the claims of its generic ephemeral volumes (`<pod>-<volume>`).
    static func references(pod: JSON, namespace: String, name: String) -> Set<Reference> {
        var out = Set<Reference>()
        func add(_ kind: Kind, _ value: JSON?) {
            if let name = value?.stringValue, !name.isEmpty {
                out.insert(Reference(kind, namespace: namespace, name: name))
            }
        }
        let spec = pod["spec"]
        add(.serviceAccount, spec?["serviceAccountName"])
        for secret in spec?["imagePullSecrets"]?.arrayValue ?? [] { add(.secret, secret["name"]) }
        for volume in spec?["volumes"]?.arrayValue ?? [] {
            add(.secret, volume["secret"]?["secretName"])
            add(.configMap, volume["configMap"]?["name"])
            add(.persistentVolumeClaim, volume["persistentVolumeClaim"]?["claimName"])
            if volume["ephemeral"] != nil, let volumeName = volume["name"]?.stringValue {
                out.insert(Reference(.persistentVolumeClaim, namespace: namespace, name: name + "-" + volumeName))
            }
            for source in volume["projected"]?["sources"]?.arrayValue ?? [] {
                add(.secret, source["secret"]?["name"])
                add(.configMap, source["configMap"]?["name"])
            }
            // Plugins that take credentials name them in a `secretRef` or `nodePublishSecretRef`.
            for (_, plugin) in volume.objectValue?.entries ?? [] {
                add(.secret, plugin["secretRef"]?["name"])
                add(.secret, plugin["nodePublishSecretRef"]?["name"])
            }
        }
        for list in ["initContainers", "containers", "ephemeralContainers"] {
            for container in spec?[list]?.arrayValue ?? [] {
                for variable in container["env"]?.arrayValue ?? [] {
                    add(.secret, variable["valueFrom"]?["secretKeyRef"]?["name"])
                    add(.configMap, variable["valueFrom"]?["configMapKeyRef"]?["name"])
                }
                for source in container["envFrom"]?.arrayValue ?? [] {
                    add(.secret, source["secretRef"]?["name"])
                    add(.configMap, source["configMapRef"]?["name"])
                }
            }
        }
        return out
    }
}
