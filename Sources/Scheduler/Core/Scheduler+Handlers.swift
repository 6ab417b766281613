public import Client

extension Scheduler {
    /// Feeds the cache and the queue from the informers, as upstream's `addAllEventHandlers`: pods bound to
    /// a node go to the cache, pending pods this scheduler is responsible for go to the queue, and node,
    /// pod and volume changes move the unschedulable pods they could help. Returns the pod and node handlers'
    /// registrations: scheduling starts once they have handled the informers' first lists.
    @discardableResult
    public func addEventHandlers(
        pods: SharedIndexInformer<Pod>, nodes: SharedIndexInformer<Node>,
        persistentVolumeClaims: SharedIndexInformer<PersistentVolumeClaim>? = nil,
        persistentVolumes: SharedIndexInformer<PersistentVolume>? = nil,
        storageClasses: SharedIndexInformer<StorageClass>? = nil, csiNodes: SharedIndexInformer<CSINode>? = nil
    ) -> [HandlerRegistration] {
        let podRegistration = pods.addEventHandler(
            ResourceEventHandler(
                onAdd: { pod, _ in self.podAdded(pod) },
                onUpdate: { old, new in self.podUpdated(old: old, new: new) },
                onDelete: { event in self.podDeleted(event.object) }))
        let nodeRegistration = nodes.addEventHandler(
            ResourceEventHandler(
                onAdd: { node, _ in
                    self.cache.addOrUpdate(node: node)
                    self.queue.move(.nodeAdd)
                },
                onUpdate: { old, new in
                    self.cache.addOrUpdate(node: new)
                    if Self.schedulingRelevantChange(old, new) { self.queue.move(.nodeUpdate) }
                },
                onDelete: { event in self.cache.remove(nodeNamed: event.object.metadata.name ?? "") }))
        func moving<T>(_ informer: SharedIndexInformer<T>?, _ event: ClusterEvent) {
            _ = informer?.addEventHandler(
                ResourceEventHandler(
                    onAdd: { _, _ in self.queue.move(event) }, onUpdate: { _, _ in self.queue.move(event) },
                    onDelete: { _ in self.queue.move(event) }))
        }
        moving(persistentVolumeClaims, .persistentVolumeClaimChange)
        moving(persistentVolumes, .persistentVolumeChange)
        moving(storageClasses, .storageClassChange)
        moving(csiNodes, .csiNodeChange)
        return [podRegistration, nodeRegistration]
    }

    private static func isAssigned(_ pod: Pod) -> Bool { !(pod.spec.nodeName ?? "").isEmpty }

    /// Succeeded and failed pods hold nothing on their node.
    private static func isTerminal(_ pod: Pod) -> Bool {
        pod.status.phase == "Succeeded" || pod.status.phase == "Failed"
    }

    func podAdded(_ pod: Pod) {
        let info = PodInfo(pod)
        if Self.isAssigned(pod) {
            queue.delete(uid: info.uid)
            guard !Self.isTerminal(pod) else { return }
            cache.addOrUpdate(boundPod: info)
            queue.move(.assignedPodAdd)
        } else if responsible(for: pod) && pod.metadata.deletionTimestamp == nil {
            queue.add(info)
        }
    }

    func podUpdated(old: Pod, new: Pod) {
        let info = PodInfo(new)
        if Self.isAssigned(new) {
            if !Self.isAssigned(old) { queue.delete(uid: info.uid) }
            if Self.isTerminal(new) {
                cache.remove(podUID: info.uid)
                queue.move(.assignedPodDelete)
            } else {
                cache.addOrUpdate(boundPod: info)
                queue.move(Self.isAssigned(old) ? .assignedPodUpdate : .assignedPodAdd)
            }
        } else if responsible(for: new) {
            if new.metadata.deletionTimestamp != nil {
                queue.delete(uid: info.uid)
            } else {
                queue.update(info)
            }
        }
    }

    func podDeleted(_ pod: Pod) {
        let uid = pod.metadata.uid ?? ""
        queue.delete(uid: uid)
        if Self.isAssigned(pod) || cache.isAssumed(uid: uid) {
            cache.remove(podUID: uid)
            queue.move(.assignedPodDelete)
        }
    }

    /// Heartbeats change a node's status every few seconds; only what scheduling reads moves pods.
    static func schedulingRelevantChange(_ old: Node, _ new: Node) -> Bool {
        old.status.allocatable != new.status.allocatable || old.metadata.labels != new.metadata.labels
            || old.spec.taints != new.spec.taints || old.spec.unschedulable != new.spec.unschedulable
            || old.status.conditions.map { [$0.type, $0.status] } != new.status.conditions.map { [$0.type, $0.status] }
    }
}
