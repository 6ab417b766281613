import APIMachinery
import NIOConcurrencyHelpers

/// Params of every paramKind policies name, each kind read through its own watch-fed cache (started when a
/// binding first needs it), as upstream's policy plugin keeps an informer per param kind.
final class PolicyParams: Sendable {
    /// Why a binding's params could not be collected; upstream's configuration errors.
    struct Failure: Error, Sendable {
        var message: String
    }

    private enum Source: Sendable {
        case namespaced(NamespacedObjectCache)
        case cluster(ClusterObjectCache<JSON>)
    }

    private let resources: [ResourceDefinition]
    private let sources = NIOLockedValueBox<[String: Source]>([:])

    init(resources: [ResourceDefinition] = Catalog.resources) {
        self.resources = resources
    }

    /// Upstream's `CollectParams`: `[nil]` when the policy or binding takes no params, else the objects the
    /// reference names (an empty list under `parameterNotFoundAction: Allow` when there are none).
    func collect(
        _ kind: AdmissionPolicyDefinition.ParamKind?, _ reference: AdmissionPolicyBinding.ParamRef?,
        requestNamespace: String, context: RegistryContext
    ) async throws -> [JSON?] {
        guard let kind, let reference else { return [nil] }
        guard
            let definition = resources.first(where: {
                $0.group == kind.group && $0.version == kind.version && $0.kind == kind.kind
            })
        else {
            let gvk = GroupVersionKind(group: kind.group, version: kind.version, kind: kind.kind)
            throw Failure(message: "failed to find resource referenced by paramKind: '\(gvk)'")
        }
        var candidates: [JSON]
        switch source(for: definition) {
        case .namespaced(let cache):
            let namespace = reference.namespace.isEmpty ? requestNamespace : reference.namespace
            guard !namespace.isEmpty else {
                throw Failure(
                    message: "cannot use namespaced paramRef in policy binding that matches cluster-scoped resources")
            }
            candidates = try await cache.objects(in: namespace, context: context)
        case .cluster(let cache):
            guard reference.namespace.isEmpty else {
                throw Failure(message: "paramRef.namespace must not be provided for a cluster-scoped `paramKind`")
            }
            candidates = try await cache.values(context: context)
        }
        if let selector = reference.selector {
            candidates = candidates.filter { selector.matches($0.labels) }
        } else {
            candidates = candidates.filter { $0.name == reference.name }
        }
        if candidates.isEmpty, reference.denyWhenMissing {
            throw Failure(message: "no params found for policy binding with `Deny` parameterNotFoundAction")
        }
        return candidates.map { definition.conversion?.fromStorage($0) ?? $0 }
    }

    private func source(for definition: ResourceDefinition) -> Source {
        sources.withLockedValue { sources in
            if let known = sources[definition.storageFolder] { return known }
            let made: Source =
                definition.namespaced
                ? .namespaced(NamespacedObjectCache(folder: definition.storageFolder))
                : .cluster(ClusterObjectCache(folder: definition.storageFolder) { $0 })
            sources[definition.storageFolder] = made
            return made
        }
    }
}
