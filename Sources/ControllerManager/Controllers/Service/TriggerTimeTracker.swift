import APIMachinery
public import Client
import NIOConcurrencyHelpers

/// Upstream's `TriggerTimeTracker`: for each service, when the earliest change not yet reflected in its
/// Endpoints (or EndpointSlices) happened, for the `endpoints.kubernetes.io/last-change-trigger-time`
/// annotation. A change is a pod whose Ready transition time moved (or a pod seen for the first time), or the
/// service itself when first seen (its creation time).
public final class TriggerTimeTracker: Sendable {
    private struct State {
        var serviceTime: Int64?
        var podTimes: [String: Int64] = [:]
    }

    private let states = NIOLockedValueBox<[ObjectKey: State]>([:])

    public init() {}

    /// The earliest unrecorded change behind `service` given its current `pods`, in seconds since the epoch;
    /// nil when nothing changed since the last call. The pods' times are remembered for the next call.
    public func lastChangeTriggerTime(service: Service, pods: [Pod]) -> Int64? {
        let serviceTime = service.metadata.creationTimestamp.flatMap(Timestamp.parse)
        var podTimes: [String: Int64] = [:]
        for pod in pods {
            guard let name = pod.metadata.name, let time = Self.triggerTime(of: pod) else { continue }
            podTimes[name] = time
        }
        return states.withLockedValue { states in
            let previous = states[service.key]
            var earliest: Int64?
            func consider(_ time: Int64) { earliest = min(earliest ?? time, time) }
            if let serviceTime, previous?.serviceTime != serviceTime { consider(serviceTime) }
            for (name, time) in podTimes where previous?.podTimes[name] != time { consider(time) }
            states[service.key] = State(serviceTime: serviceTime, podTimes: podTimes)
            return earliest
        }
    }

    /// Forgets a deleted service.
    public func deleteService(_ key: ObjectKey) {
        _ = states.withLockedValue { $0.removeValue(forKey: key) }
    }

    /// When the pod last changed in a way endpoints reflect: its Ready condition's transition, else its creation.
    static func triggerTime(of pod: Pod) -> Int64? {
        let ready = pod.status.conditions.first { $0.type == "Ready" }?.lastTransitionTime
        return (ready ?? pod.metadata.creationTimestamp).flatMap(Timestamp.parse)
    }

    /// The annotation's text for `seconds` (RFC 3339; Kubernetes times have second precision).
    static func format(_ seconds: Int64) -> String { Timestamp.format(epochSeconds: seconds) }
}
