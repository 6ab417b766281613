import APIMachinery

/// Every resource this API server serves, with its names and strategy: the single list that the
/// router, discovery and OpenAPI read.
public enum Catalog {
    public static let resources: [ResourceDefinition] =
        core + apps + others + builtIns + [CustomResourceDefinitions.definition]

    /// Create-only resources that are computed and never stored (see `VirtualResource`).
    public static let virtualResources: [VirtualResource] =
        AccessReviews.resources + AuthenticationReviews.resources + [ComponentStatuses.resource, PodBinding.resource]

    static let core: [ResourceDefinition] = [
        ResourceDefinition(
            resource: "namespaces", kind: "Namespace", namespaced: false, shortNames: ["ns"],
            subresources: ["status", "finalize"], strategy: NamespaceStrategy()),
        ResourceDefinition(
            resource: "pods", kind: "Pod", shortNames: ["po"], categories: ["all"],
            subresources: ["status", "binding", "eviction"], strategy: PodStrategy()),
        ResourceDefinition(
            resource: "services", kind: "Service", shortNames: ["svc"], categories: ["all"], subresources: ["status"],
            storageFolder: "services/specs", strategy: ServiceStrategy()),
        ResourceDefinition(
            resource: "endpoints", kind: "Endpoints", shortNames: ["ep"], storageFolder: "services/endpoints",
            strategy: ColumnsStrategy(
                columns: [.name, Table.Column("Endpoints"), .age],
                cellsFor: { [Cells.name($0), .string(endpointsText($0)), Cells.age($0)] }, allowCreateOnUpdate: true)),
        ResourceDefinition(
            resource: "nodes", kind: "Node", namespaced: false, shortNames: ["no"], subresources: ["status"],
            storageFolder: "minions", strategy: NodeStrategy()),
        ResourceDefinition(
            resource: "configmaps", kind: "ConfigMap", shortNames: ["cm"], strategy: ConfigMapStrategy()),
        ResourceDefinition(resource: "secrets", kind: "Secret", strategy: SecretStrategy()),
        ResourceDefinition(
            resource: "serviceaccounts", kind: "ServiceAccount", shortNames: ["sa"], subresources: ["token"],
            strategy: ColumnsStrategy(
                columns: [.name, Table.Column("Secrets", type: "integer"), .age],
                cellsFor: { [Cells.name($0), .int(Int64($0["secrets"]?.arrayValue?.count ?? 0)), Cells.age($0)] })),
        ResourceDefinition(resource: "events", kind: "Event", shortNames: ["ev"], strategy: EventStrategy()),
        ResourceDefinition(
            resource: "limitranges", kind: "LimitRange", shortNames: ["limits"],
            strategy: ColumnsStrategy(
                columns: [.name, Table.Column("Created At", type: "date")],
                cellsFor: { [Cells.name($0), Cells.string($0.creationTimestamp.map(JSON.string))] })),
        ResourceDefinition(
            resource: "resourcequotas", kind: "ResourceQuota", shortNames: ["quota"], subresources: ["status"],
            strategy: ColumnsStrategy(
                columns: [.name, .age, Table.Column("Request"), Table.Column("Limit")],
                cellsFor: {
                    [
                        Cells.name($0), Cells.age($0), .string(quotaText($0, limits: false)),
                        .string(quotaText($0, limits: true)),
                    ]
                },
                tracksGeneration: true, generationRule: .untracked)),
        ResourceDefinition(
            resource: "persistentvolumes", kind: "PersistentVolume", namespaced: false, shortNames: ["pv"],
            subresources: ["status"],
            strategy: ColumnsStrategy(
                columns: [
                    .name, Table.Column("Capacity"), Table.Column("Access Modes"), Table.Column("Reclaim Policy"),
                    Table.Column("Status"), Table.Column("Claim"), Table.Column("StorageClass"),
                    Table.Column("VolumeAttributesClass"), Table.Column("Reason"), .age,
                ],
                cellsFor: { pv in
                    let claim =
                        pv["spec"]?["claimRef"].map {
                            "\($0["namespace"]?.stringValue ?? "")/\($0["name"]?.stringValue ?? "")"
                        } ?? ""
                    return [
                        Cells.name(pv), Cells.string(pv["spec"]?["capacity"]?["storage"], default: ""),
                        .string(accessModes(pv["spec"])),
                        Cells.string(pv["spec"]?["persistentVolumeReclaimPolicy"], default: "Retain"),
                        Cells.string(pv["status"]?["phase"], default: "Pending"), .string(claim),
                        Cells.string(pv["spec"]?["storageClassName"], default: ""),
                        Cells.string(pv["spec"]?["volumeAttributesClassName"]),
                        Cells.string(pv["status"]?["reason"], default: ""),
                        Cells.age(pv),
                    ]
                }, tracksGeneration: true, defaults: PersistentVolumeDefaults.applyToVolume, generationRule: .untracked
            ).stampingPhaseTransitions()),
        ResourceDefinition(
            resource: "persistentvolumeclaims", kind: "PersistentVolumeClaim", shortNames: ["pvc"],
            subresources: ["status"],
            strategy: ColumnsStrategy(
                columns: [
                    .name, Table.Column("Status"), Table.Column("Volume"), Table.Column("Capacity"),
                    Table.Column("Access Modes"), Table.Column("StorageClass"), Table.Column("VolumeAttributesClass"),
                    .age,
                ],
                cellsFor: { pvc in
                    [
                        Cells.name(pvc), Cells.string(pvc["status"]?["phase"], default: "Pending"),
                        Cells.string(pvc["spec"]?["volumeName"], default: ""),
                        Cells.string(pvc["status"]?["capacity"]?["storage"], default: ""),
                        .string(accessModes(pvc["status"])),
                        Cells.string(pvc["spec"]?["storageClassName"], default: ""),
                        Cells.string(pvc["spec"]?["volumeAttributesClassName"]), Cells.age(pvc),
                    ]
                }, tracksGeneration: true, defaults: PersistentVolumeDefaults.applyToClaim, generationRule: .untracked)),
        ResourceDefinition(
            resource: "replicationcontrollers", kind: "ReplicationController", shortNames: ["rc"], categories: ["all"],
            subresources: ["status", "scale"], storageFolder: "controllers",
            strategy: WorkloadStrategy(kind: .replicationController)),
    ]

    static let apps: [ResourceDefinition] = [
        ResourceDefinition(
            group: "apps", resource: "deployments", kind: "Deployment", shortNames: ["deploy"], categories: ["all"],
            subresources: ["status", "scale"], strategy: WorkloadStrategy(kind: .deployment)),
        ResourceDefinition(
            group: "apps", resource: "replicasets", kind: "ReplicaSet", shortNames: ["rs"], categories: ["all"],
            subresources: ["status", "scale"], strategy: WorkloadStrategy(kind: .replicaSet)),
        ResourceDefinition(
            group: "apps", resource: "statefulsets", kind: "StatefulSet", shortNames: ["sts"], categories: ["all"],
            subresources: ["status", "scale"], strategy: WorkloadStrategy(kind: .statefulSet)),
        ResourceDefinition(
            group: "apps", resource: "daemonsets", kind: "DaemonSet", shortNames: ["ds"], categories: ["all"],
            subresources: ["status"], strategy: WorkloadStrategy(kind: .daemonSet)),
        ResourceDefinition(
            group: "batch", resource: "jobs", kind: "Job", categories: ["all"], subresources: ["status"],
            strategy: WorkloadStrategy(kind: .job)),
        ResourceDefinition(
            group: "batch", resource: "cronjobs", kind: "CronJob", shortNames: ["cj"], categories: ["all"],
            subresources: ["status"], strategy: WorkloadStrategy(kind: .cronJob)),
    ]

    static let others: [ResourceDefinition] = [
        ResourceDefinition(
            group: "coordination.k8s.io", resource: "leases", kind: "Lease",
            strategy: ColumnsStrategy(
                columns: [.name, Table.Column("Holder"), .age],
                cellsFor: {
                    [Cells.name($0), Cells.string($0["spec"]?["holderIdentity"], default: ""), Cells.age($0)]
                },
                allowCreateOnUpdate: true)),
        ResourceDefinition(
            // Stored with core/v1's events, in their shape, as upstream stores one Event kind for both groups.
            group: "events.k8s.io", resource: "events", kind: "Event", shortNames: ["ev"],
            strategy: EventStrategy(eventsGroup: true), conversion: EventsConversion()),
        ResourceDefinition(
            group: "rbac.authorization.k8s.io", resource: "roles", kind: "Role",
            strategy: RoleStrategy(clusterScoped: false)),
        ResourceDefinition(
            group: "rbac.authorization.k8s.io", resource: "rolebindings", kind: "RoleBinding",
            strategy: RoleBindingStrategy(clusterScoped: false)),
        ResourceDefinition(
            group: "rbac.authorization.k8s.io", resource: "clusterroles", kind: "ClusterRole", namespaced: false,
            strategy: RoleStrategy(clusterScoped: true)),
        ResourceDefinition(
            group: "rbac.authorization.k8s.io", resource: "clusterrolebindings", kind: "ClusterRoleBinding",
            namespaced: false, strategy: RoleBindingStrategy(clusterScoped: true)),
        ResourceDefinition(
            group: "discovery.k8s.io", resource: "endpointslices", kind: "EndpointSlice",
            strategy: ColumnsStrategy(
                columns: [.name, Table.Column("AddressType"), Table.Column("Ports"), Table.Column("Endpoints"), .age],
                cellsFor: { slice in
                    let ports = (slice["ports"]?.arrayValue ?? []).compactMap { $0["port"]?.intValue.map(String.init) }
                    let addresses = (slice["endpoints"]?.arrayValue ?? []).flatMap {
                        $0["addresses"]?.arrayValue?.compactMap(\.stringValue) ?? []
                    }
                    return [
                        Cells.name(slice), Cells.string(slice["addressType"]),
                        .string(ports.isEmpty ? "<unset>" : ports.joined(separator: ",")),
                        .string(
                            addresses.isEmpty
                                ? "<unset>"
                                : addresses.prefix(3).joined(separator: ",")
                                    + (addresses.count > 3 ? " + \(addresses.count - 3) more..." : "")),
                        Cells.age(slice),
                    ]
                }, defaults: EndpointSliceDefaults.apply,
                // Upstream bumps a slice's generation on any change outside its metadata.
                generationRule: .tracked(by: ["addressType", "endpoints", "ports"]))),
        ResourceDefinition(
            group: "policy", resource: "poddisruptionbudgets", kind: "PodDisruptionBudget", shortNames: ["pdb"],
            subresources: ["status"],
            strategy: ColumnsStrategy(
                columns: [
                    .name, Table.Column("Min Available"), Table.Column("Max Unavailable"),
                    Table.Column("Allowed Disruptions", type: "integer"), .age,
                ],
                cellsFor: { pdb in
                    func text(_ value: JSON?) -> JSON {
                        guard let value else { return "N/A" }
                        return .string(value.stringValue ?? value.intValue.map(String.init) ?? "N/A")
                    }
                    return [
                        Cells.name(pdb), text(pdb["spec"]?["minAvailable"]), text(pdb["spec"]?["maxUnavailable"]),
                        Cells.int(pdb["status"]?["disruptionsAllowed"]), Cells.age(pdb),
                    ]
                }, tracksGeneration: true)),
    ]

    static let bindingColumns: [Table.Column] = [
        .name, Table.Column("Role"), .age, Table.Column("Users", priority: 1), Table.Column("Groups", priority: 1),
        Table.Column("ServiceAccounts", priority: 1),
    ]

    @Sendable static func bindingCells(_ binding: JSON) -> [JSON] {
        let subjects = binding["subjects"]?.arrayValue ?? []
        func names(_ kind: String) -> JSON {
            .string(
                subjects.filter { $0["kind"]?.stringValue == kind }.map { subject in
                    let name = subject["name"]?.stringValue ?? ""
                    if kind == "ServiceAccount" { return "\(subject["namespace"]?.stringValue ?? ""):\(name)" }
                    return name
                }.joined(separator: ", "))
        }
        let role = "\(binding["roleRef"]?["kind"]?.stringValue ?? "")/\(binding["roleRef"]?["name"]?.stringValue ?? "")"
        return [
            Cells.name(binding), .string(role), Cells.age(binding), names("User"), names("Group"),
            names("ServiceAccount"),
        ]
    }

    static func dataCount(_ object: JSON) -> Int {
        (object["data"]?.objectValue?.count ?? 0) + (object["binaryData"]?.objectValue?.count ?? 0)
    }

    static func endpointsText(_ object: JSON) -> String {
        var parts: [String] = []
        for subset in object["subsets"]?.arrayValue ?? [] {
            let ports = subset["ports"]?.arrayValue?.compactMap { $0["port"]?.intValue } ?? []
            for address in subset["addresses"]?.arrayValue ?? [] {
                let ip = address["ip"]?.stringValue ?? ""
                if ports.isEmpty { parts.append(ip) } else { parts += ports.map { "\(ip):\($0)" } }
            }
        }
        if parts.isEmpty { return "<none>" }
        return parts.prefix(3).joined(separator: ",") + (parts.count > 3 ? " + \(parts.count - 3) more..." : "")
    }

    static func accessModes(_ holder: JSON?) -> String {
        let short = ["ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"]
        return (holder?["accessModes"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap { short[$0] } }
            .joined(separator: ",")
    }

    static func quotaText(_ quota: JSON, limits: Bool) -> String {
        let hard = quota["status"]?["hard"]?.objectValue ?? JSONObject()
        let used = quota["status"]?["used"]?.objectValue ?? JSONObject()
        return hard.entries.filter { $0.key.hasPrefix("limits.") == limits }.sorted { $0.key < $1.key }.map { entry in
            "\(entry.key): \(used[entry.key]?.stringValue ?? "0")/\(entry.value.stringValue ?? "")"
        }.joined(separator: ", ")
    }
}
