import APIMachinery
public import Client
import Foundation

extension PodStateMachine {
    /// The status the kubelet would report: `current` (conditions others own, qosClass, nominatedNodeName kept)
    /// with the phase, addresses, start time, container statuses and the kubelet's conditions of this machine.
    public func status(merging current: PodStatus, hostIP: String, podIP: String) -> PodStatus {
        var status = current
        status.phase = phase.rawValue
        // Upstream's reason and message for a pod that ran past its activeDeadlineSeconds.
        status.reason = deadlineExceeded ? "DeadlineExceeded" : nil
        status.message = deadlineExceeded ? "Pod was active on the node longer than the specified deadline" : nil
        status.hostIP = hostIP
        status.hostIPs = [HostIP(ip: hostIP)]
        status.podIP = podIP
        status.podIPs = [PodIP(ip: podIP)]
        status.startTime = Self.timestamp(startTime)
        status.initContainerStatuses = initContainers.map { containerStatus($0, isInit: true) }
        // The kubelet reports app containers sorted by name, init containers in spec order.
        status.containerStatuses = containers.map { containerStatus($0, isInit: false) }.sorted {
            ($0.name ?? "") < ($1.name ?? "")
        }
        status.conditions = conditionsMerging(current.conditions)
        return status
    }

    private func conditionsMerging(_ existing: [PodCondition]) -> [PodCondition] {
        let owned = Set(PodConditionType.all)
        var result: [PodCondition] = []
        for type in PodConditionType.all {
            // The scheduler's PodScheduled stands as written; the kubelet only fills it in when absent.
            if type == PodConditionType.podScheduled, let scheduled = existing.first(where: { $0.type == type }) {
                result.append(scheduled)
                continue
            }
            guard let state = conditions[type] else { continue }
            var condition = PodCondition(
                type: type, status: state.status ? "True" : "False", lastTransitionTime: Self.timestamp(state.since))
            if !state.status { (condition.reason, condition.message) = falseReason(type) }
            if type == PodConditionType.ready, state.status, let gate = unreadyGate(existing) {
                condition.status = "False"
                (condition.reason, condition.message) = ("ReadinessGatesNotReady", gate)
            }
            if type == PodConditionType.ready, !readinessGates.isEmpty {
                // Gates change outside the machine, so Ready's transition is when this status first differs.
                let previous = existing.first { $0.type == type }
                condition.lastTransitionTime =
                    previous?.status == condition.status ? previous?.lastTransitionTime : Self.timestamp(now)
            }
            result.append(condition)
        }
        result.append(contentsOf: existing.filter { !owned.contains($0.type ?? "") })
        return result
    }

    /// Upstream's message for the first readiness gate whose condition is missing or not True; nil when all
    /// are True.
    private func unreadyGate(_ existing: [PodCondition]) -> String? {
        for gate in readinessGates {
            guard let condition = existing.first(where: { $0.type == gate }) else {
                return "corresponding condition of pod readiness gate \"\(gate)\" does not exist."
            }
            if condition.status != "True" {
                return "the status of pod readiness gate \"\(gate)\" is not \"True\", but \(condition.status ?? "")"
            }
        }
        return nil
    }

    /// Upstream's reason and message for a kubelet condition that is False.
    private func falseReason(_ type: String) -> (String?, String?) {
        switch type {
        case PodConditionType.initialized:
            let incomplete = initContainers.filter { !$0.isSidecar && !$0.hasSucceeded }.map(\.name)
            return (
                "ContainersNotInitialized", "containers with incomplete status: [\(incomplete.joined(separator: " "))]"
            )
        case PodConditionType.containersReady, PodConditionType.ready:
            if phase.isTerminal { return (phase == .succeeded ? "PodCompleted" : "PodFailed", nil) }
            let unready = (initContainers.filter(\.isSidecar) + containers).filter { !$0.isReady(at: now) }.map(\.name)
            return ("ContainersNotReady", "containers with unready status: [\(unready.joined(separator: " "))]")
        default:
            return (nil, nil)
        }
    }

    private func containerStatus(_ container: SimulatedContainer, isInit: Bool) -> ContainerStatus {
        var status = ContainerStatus(
            name: container.name, ready: false, restartCount: container.restartCount, image: container.image,
            imageID: SimulatedContainer.imageID(container.image), started: false)
        status.lastState = ContainerState()
        if let last = container.lastTermination { status.lastState = ContainerState(terminated: Self.terminated(last)) }
        switch container.state {
        case .waiting(let reason, let message):
            status.state = ContainerState(waiting: ContainerStateWaiting(message: message, reason: reason))
            status.containerID = container.lastTermination?.containerID
            // A container not yet pulled has no image ID.
            if container.lastTermination == nil { status.imageID = "" }
        case .running(let since, let containerID):
            status.state = ContainerState(running: ContainerStateRunning(startedAt: Self.timestamp(since)))
            status.containerID = containerID
            status.started = container.isStarted(at: now)
            status.ready = container.isReady(at: now)
        case .terminated(let termination):
            status.state = ContainerState(terminated: Self.terminated(termination))
            status.containerID = termination.containerID
            // A completed init container counts as ready, as upstream reports it.
            status.ready = isInit && !container.isSidecar && termination.exitCode == 0
        }
        return status
    }

    private static func terminated(_ termination: Termination) -> ContainerStateTerminated {
        ContainerStateTerminated(
            exitCode: termination.exitCode, containerID: termination.containerID,
            finishedAt: timestamp(termination.finishedAt), reason: termination.reason,
            startedAt: timestamp(termination.startedAt))
    }

    /// RFC 3339 in UTC to the second, as `metav1.Time` is written.
    static func timestamp(_ date: Date) -> String {
        Timestamp.format(epochSeconds: Int64(date.timeIntervalSince1970.rounded(.down)))
    }
}
