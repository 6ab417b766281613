public import APIMachinery
public import Client

/// Upstream's controller history for StatefulSets and DaemonSets: each distinct pod template is stored as a
/// ControllerRevision named `<owner>-<hash>` holding a replacing patch of `spec.template`, numbered in the
/// order the templates were last used; a hash collision bumps the owner's `collisionCount`.
public struct ControllerHistory: Sendable {
    /// The label carrying a revision's hash (`controller.kubernetes.io/hash`).
    public static let hashLabel = "controller.kubernetes.io/hash"

    let client: RESTClient

    public init(client: RESTClient) {
        self.client = client
    }

    /// The revision data for `template`: `{"spec":{"template":{…,"$patch":"replace"}}}`, as upstream stores.
    public static func data(_ template: PodTemplateSpec) -> JSON {
        var json = template.toJSON()
        json["$patch"] = "replace"
        return ["spec": ["template": json]]
    }

    /// The pod template a revision stores; nil for data of another shape.
    public static func template(_ revision: ControllerRevision) -> PodTemplateSpec? {
        guard var json = revision.data?["spec"]?["template"] else { return nil }
        json["$patch"] = nil
        return try? PodTemplateSpec(json: json)
    }

    /// `<owner>-<hash>` for `template` under `collisionCount`.
    public static func name(owner: String, template: PodTemplateSpec, collisionCount: Int32?) -> String {
        "\(owner)-\(PodTemplateHash.compute(template, collisionCount: collisionCount))"
    }

    /// Whether two revisions store the same template.
    static func sameTemplate(_ revision: ControllerRevision, _ template: PodTemplateSpec) -> Bool {
        // JSON equality ignores key order.
        revision.data == data(template)
    }

    /// The revision for `template` among `revisions`, created (or renumbered to come last) as needed, and
    /// the collision count it took.
    public func ensure(
        owner: some KubernetesObject, template: PodTemplateSpec, collisionCount: Int32?,
        revisions: [ControllerRevision]
    ) async throws -> (revision: ControllerRevision, collisionCount: Int32?) {
        let api = ResourceClient<ControllerRevision>(client: client, namespace: owner.metadata.namespace)
        let next = (revisions.compactMap(\.revision).max() ?? 0) + 1
        if let existing = revisions.first(where: { Self.sameTemplate($0, template) }) {
            // A rollback to an older template: it becomes the newest revision again.
            guard (existing.revision ?? 0) < next - 1 else { return (existing, collisionCount) }
            var renumbered = existing
            renumbered.revision = next
            return (try await api.update(renumbered), collisionCount)
        }
        var count = collisionCount
        let ownerName = owner.metadata.name ?? ""
        for _ in 0..<16 {
            let hash = PodTemplateHash.compute(template, collisionCount: count)
            var revision = ControllerRevision(revision: next, data: Self.data(template))
            revision.metadata.name = "\(ownerName)-\(hash)"
            revision.metadata.namespace = owner.metadata.namespace
            revision.metadata.labels = template.metadata?.labels ?? [:]
            revision.metadata.labels[Self.hashLabel] = hash
            revision.metadata.ownerReferences = [OwnerReference(controller: owner)]
            do {
                return (try await api.create(revision), count)
            } catch let error as StatusError where error.code == 409 {
                let found = try await api.get(revision.metadata.name ?? "")
                if found.metadata.controllerRef?.uid == owner.metadata.uid, Self.sameTemplate(found, template) {
                    return (found, count)
                }
                count = (count ?? 0) &+ 1
            }
        }
        throw HistoryError(description: "no free ControllerRevision name for \(ownerName) after 16 hash collisions")
    }

    /// Why a revision could not be stored.
    struct HistoryError: Error, CustomStringConvertible {
        let description: String
    }

    /// Deletes the oldest revisions not in `live` beyond `limit` (upstream's `truncateHistory`).
    public func truncate(_ revisions: [ControllerRevision], live: Set<String>, limit: Int, namespace: String?)
        async throws
    {
        let dead = revisions.filter { !live.contains($0.metadata.name ?? "") }.sorted {
            ($0.revision ?? 0) < ($1.revision ?? 0)
        }
        guard dead.count > limit else { return }
        let api = ResourceClient<ControllerRevision>(client: client, namespace: namespace)
        for revision in dead.prefix(dead.count - limit) {
            do {
                try await api.delete(revision.metadata.name ?? "")
            } catch let error as StatusError where error.code == 404 {
                continue
            }
        }
    }
}
