extension PluginRegistry {
    /// Upstream's in-tree plugins that this scheduler implements, by name.
    public static let inTree = PluginRegistry(factories: [
        "PrioritySort": { _ in PrioritySort() },
        "SchedulingGates": { _ in SchedulingGates() },
        "NodeUnschedulable": { _ in NodeUnschedulable() },
        "NodeName": { _ in NodeName() },
        "TaintToleration": { _ in TaintToleration() },
        "NodeAffinity": { _ in NodeAffinity() },
        "NodePorts": { _ in NodePorts() },
        "NodeResourcesFit": { context throws(SchedulerConfigError) in try NodeResourcesFit(args: context.args) },
        "NodeResourcesBalancedAllocation": { context in NodeResourcesBalancedAllocation(args: context.args) },
        "DefaultBinder": { context in DefaultBinder(client: context.handle.client) },
        "ImageLocality": { _ in ImageLocality() },
        "VolumeRestrictions": { context in VolumeRestrictions(handle: context.handle) },
        "NodeVolumeLimits": { context in NodeVolumeLimits(handle: context.handle) },
        "VolumeBinding": { context in VolumeBinding(handle: context.handle) },
        "VolumeZone": { context in VolumeZone(handle: context.handle) },
        "PodTopologySpread": { context throws(SchedulerConfigError) in
            try PodTopologySpread(
                args: context.args, parallelizer: Parallelizer(parallelism: context.handle.parallelism))
        },
        "DefaultPreemption": { context throws(SchedulerConfigError) in
            try DefaultPreemption(args: context.args, handle: context.handle)
        },
        "InterPodAffinity": { context throws(SchedulerConfigError) in
            try InterPodAffinity(args: context.args, handle: context.handle)
        },
    ])
}
