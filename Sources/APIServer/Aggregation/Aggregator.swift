import APIMachinery
import NIOConcurrencyHelpers

/// What the server knows of its APIServices at one moment, written by the `APIServiceController` after each
/// sync and read by routing and discovery: which group versions another server serves, whether they are
/// available and where, the resources they last reported, and every APIService's priorities (local ones
/// included), which order discovery.
final class Aggregator: Sendable {
    /// One service-backed group version.
    struct Remote: Sendable, Equatable {
        var apiService: APIServiceView
        /// Where requests go; nil while the APIService is not available.
        var backend: AggregatorBackend?
        /// The backend's APIResourceList from the last successful discovery check.
        var resources: JSON?
    }

    /// Group and version priority of one APIService.
    struct Priority: Sendable, Equatable {
        var group: Int
        var version: Int
    }

    private struct State: Sendable {
        var remote: [GroupVersion: Remote] = [:]
        var priorities: [GroupVersion: Priority] = [:]
        var generation = 0
        /// The last merged discovery, for the table and generation it was made from.
        var merged: (table: ObjectIdentifier, generation: Int, discovery: Discovery)?
    }

    private let state = NIOLockedValueBox(State())
    /// Set once at start with the proxy client's certificate; nil until then (no service is proxied).
    private let transportBox = NIOLockedValueBox<AggregatorTransport?>(nil)

    init() {}

    var transport: AggregatorTransport? {
        get { transportBox.withLockedValue { $0 } }
        set { transportBox.withLockedValue { $0 = newValue } }
    }

    /// The service-backed APIService for a group version, if there is one.
    func remote(_ groupVersion: GroupVersion) -> Remote? {
        state.withLockedValue { $0.remote[groupVersion] }
    }

    /// Replaces what is known, after a sync; discovery is merged again on its next read only if it changed.
    func update(remote: [GroupVersion: Remote], priorities: [GroupVersion: Priority]) {
        state.withLockedValue { state in
            guard state.remote != remote || state.priorities != priorities else { return }
            state.remote = remote
            state.priorities = priorities
            state.generation += 1
        }
    }

    /// The table's discovery with the available remote group versions merged in and every group ordered as
    /// upstream's aggregator orders them; cached until the table or the APIServices change.
    func discovery(for table: ResourceTable) -> Discovery {
        let id = ObjectIdentifier(table)
        let (generation, cached, remote, priorities) = state.withLockedValue { state in
            (state.generation, state.merged, state.remote, state.priorities)
        }
        if let cached, cached.table == id, cached.generation == generation { return cached.discovery }
        let available = remote.values.compactMap { entry -> (GroupVersion, JSON)? in
            guard entry.backend != nil, let resources = entry.resources else { return nil }
            return (entry.apiService.groupVersion, resources)
        }
        let customGroups = Set(
            table.definitions.filter { $0.strategy is CustomResourceStrategy }.map(\.group))
        let merged = table.discovery.merging(remote: available) { groupVersion in
            if let known = priorities[groupVersion] { return known }
            if let local = APIServices.localPriority(groupVersion) {
                return Priority(group: local.group, version: local.version)
            }
            if customGroups.contains(groupVersion.group) {
                return Priority(
                    group: APIServices.customResourcePriority.group, version: APIServices.customResourcePriority.version
                )
            }
            return Priority(group: 0, version: 0)
        }
        state.withLockedValue { state in
            if state.generation == generation { state.merged = (id, generation, merged) }
        }
        return merged
    }
}
