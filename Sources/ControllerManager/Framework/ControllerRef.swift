public import APIMachinery
public import Client

extension ObjectMeta {
    /// The owner reference marked `controller: true`, if any: the one object that manages this one.
    public var controllerRef: OwnerReference? { ownerReferences.first { $0.controller == true } }

    /// Whether the object is being deleted.
    public var isDeleting: Bool { deletionTimestamp != nil }
}

extension OwnerReference {
    /// A controller reference to `owner`, blocking its foreground deletion as upstream's controllers set it.
    public init(controller owner: some KubernetesObject) {
        let descriptor = type(of: owner).resource
        self.init(
            apiVersion: descriptor.apiVersion, kind: descriptor.kind, name: owner.metadata.name ?? "",
            uid: owner.metadata.uid ?? "", blockOwnerDeletion: true, controller: true)
    }
}

/// Upstream's `ControllerRefManager`: decides which of the objects matching an owner's selector it owns,
/// adopting orphans that match and releasing owned objects that no longer do, by patching their
/// `ownerReferences` with the object's UID as a precondition.
public struct ControllerRefManager<Object: KubernetesObject>: Sendable {
    let client: RESTClient

    public init(client: RESTClient) {
        self.client = client
    }

    /// The objects among `candidates` that `owner` owns after adoption and release.
    /// `canAdopt` is checked once, before the first adoption (upstream re-reads the owner there, so a
    /// deleted owner adopts nothing).
    public func claim(
        _ candidates: [Object], owner: some KubernetesObject, selector: LabelSelector,
        canAdopt: @Sendable () async throws -> Bool
    ) async throws -> [Object] {
        let ownerUID = owner.metadata.uid ?? ""
        var claimed: [Object] = []
        var adoptionChecked: Bool?
        for candidate in candidates {
            let matches = selector.matches(candidate.metadata.labels)
            if let reference = candidate.metadata.controllerRef {
                guard reference.uid == ownerUID else { continue }
                if matches || owner.metadata.isDeleting {
                    claimed.append(candidate)
                } else if !candidate.metadata.isDeleting {
                    try await release(candidate, ownerUID: ownerUID)
                }
                continue
            }
            guard matches, !owner.metadata.isDeleting, !candidate.metadata.isDeleting else { continue }
            if adoptionChecked == nil { adoptionChecked = try await canAdopt() }
            guard adoptionChecked == true else { continue }
            if let adopted = try await adopt(candidate, owner: owner) { claimed.append(adopted) }
        }
        return claimed
    }

    /// Adds `owner`'s controller reference to `object`; nil if the object is gone or changed identity.
    func adopt(_ object: Object, owner: some KubernetesObject) async throws -> Object? {
        let references = object.metadata.ownerReferences + [OwnerReference(controller: owner)]
        return try await patchReferences(object, references)
    }

    /// Removes `ownerUID`'s reference from `object`.
    func release(_ object: Object, ownerUID: String) async throws {
        _ = try await patchReferences(object, object.metadata.ownerReferences.filter { $0.uid != ownerUID })
    }

    private func patchReferences(_ object: Object, _ references: [OwnerReference]) async throws -> Object? {
        let patch: JSON = [
            "metadata": [
                "uid": .string(object.metadata.uid ?? ""),
                "ownerReferences": .array(references.map { $0.toJSON() }),
            ]
        ]
        do {
            return try await ResourceClient<Object>(client: client, namespace: object.metadata.namespace)
                .patch(object.metadata.name ?? "", patch, type: .merge)
        } catch let error as StatusError where error.code == 404 || error.code == 409 || error.code == 422 {
            // Gone, or replaced by a namesake with another UID: nothing to claim.
            return nil
        }
    }
}
