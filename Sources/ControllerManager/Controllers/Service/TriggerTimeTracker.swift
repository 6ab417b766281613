import APIMachinery
import Client
import NIOConcurrencyHelpers

/// Upstream's `TriggerTimeTracker`: for each service, when the earliest change not yet reflected in its
/// Endpoints (or EndpointSlices) happened, for the `endpoints.kubernetes.io/last-change-trigger-time`
/// annotation. A change is a pod whose Ready condition moved on (or first appeared), or the
/// service itself when first seen (its creation time).
final class TriggerTimeTracker: Sendable {
    /// What was last published for one service.
    struct State: Sendable, Equatable {
        var serviceTime: Int64?
        var podTimes: [String: Int64] = [:]
    }

    /// The trigger time of one sync, and the state to remember once its write succeeded.
    struct Observation: Sendable {
        let service: ObjectKey
        let state: State
        /// The earliest change since the last recorded sync, in seconds since the epoch; nil when none.
        let time: Int64?
    }

    private let states = NIOLockedValueBox<[ObjectKey: State]>([:])

    init() {}

    /// The earliest change behind `service` given its current `pods` that no successful sync has published.
    func observe(service: Service, pods: [Pod]) -> Observation {
        let serviceTime = service.metadata.creationTimestamp.flatMap(Timestamp.parse)
        var podTimes: [String: Int64] = [:]
        for pod in pods {
            guard let name = pod.metadata.name, let time = Self.triggerTime(of: pod) else { continue }
            podTimes[name] = time
        }
        let previous = states.withLockedValue { $0[service.key] }
        var earliest: Int64?
        func consider(_ time: Int64) { earliest = min(earliest ?? time, time) }
        if let serviceTime, previous?.serviceTime != serviceTime { consider(serviceTime) }
        for (name, time) in podTimes where previous?.podTimes[name].map({ time > $0 }) ?? true { consider(time) }
        return Observation(
            service: service.key, state: State(serviceTime: serviceTime, podTimes: podTimes), time: earliest)
    }

    /// Remembers what a sync published, so its changes are not reported again. A sync whose write failed does
    /// not call this, so its retry reports the same time (upstream forgets it).
    func record(_ observation: Observation) {
        states.withLockedValue { $0[observation.service] = observation.state }
    }

    /// Forgets a deleted service.
    func deleteService(_ key: ObjectKey) {
        _ = states.withLockedValue { $0.removeValue(forKey: key) }
    }

    /// When the pod last changed in a way endpoints reflect: its Ready condition's transition (a pod without one
    /// is not counted until it has one).
    static func triggerTime(of pod: Pod) -> Int64? {
        pod.status.conditions.first { $0.type == "Ready" }?.lastTransitionTime.flatMap(Timestamp.parse)
    }

    /// The annotation's text for `seconds` (RFC 3339; Kubernetes times have second precision).
    static func format(_ seconds: Int64) -> String { Timestamp.format(epochSeconds: seconds) }
}
