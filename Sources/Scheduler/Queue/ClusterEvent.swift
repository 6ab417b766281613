/// A change in the cluster that may make an unschedulable pod schedulable; plugins say which of these can
/// undo their rejections, so the queue retries only the pods such a change can help.
public enum ClusterEvent: String, Sendable, Hashable, CaseIterable {
    case nodeAdd
    case nodeUpdate
    case assignedPodAdd
    case assignedPodUpdate
    case assignedPodDelete
    case persistentVolumeChange
    case persistentVolumeClaimChange
    case storageClassChange
    case csiNodeChange
}

extension SchedulerPlugin {
    /// The events that can make a pod this plugin rejected fit (upstream's `EventsToRegister`); every
    /// event unless a plugin says otherwise.
    public var clusterEvents: Set<ClusterEvent> { Set(ClusterEvent.allCases) }
}
