public import Client
import Foundation
public import Logging
import NIOConcurrencyHelpers

/// The scheduling loop: takes pods from the queue one at a time, decides their node against the cache,
/// assumes them there and binds them asynchronously, so the next pod is decided while the binding is in
/// flight (upstream's `scheduleOne`). Informer handlers (`Scheduler+Handlers.swift`) feed queue and cache.
public final class Scheduler: Sendable {
    /// Profiles by `schedulerName`; pods naming any other scheduler are left alone.
    let profiles: [String: Profile]
    public let queue: SchedulingQueue
    public let cache: SchedulerCache
    let algorithm: SchedulingAlgorithm
    let client: RESTClient
    let recorder: EventRecorder?
    let time: any TimeSource
    let logger: Logger
    /// The loop's own snapshot, updated from the cache with only the nodes that changed; only the loop touches it.
    private let loopSnapshot = NIOLockedValueBox(Snapshot(nodes: []))
    /// Where the next search over the nodes starts; only the loop touches it.
    private let nextStartIndex = NIOLockedValueBox(0)
    /// Whether this process may act (leader election's fence); always true without election.
    private let mayAct = NIOLockedValueBox(Fence { true })
    /// Counters for `/metrics` and the bench.
    let counters = NIOLockedValueBox(Counters())

    /// What the scheduler has done so far.
    public struct Counters: Sendable {
        public var attempts = 0
        public var scheduled = 0
        public var unschedulable = 0
        public var errors = 0
        public var bindings = 0
        public var bindingErrors = 0
    }

    public init(
        profiles: [Profile], client: RESTClient, recorder: EventRecorder?,
        percentageOfNodesToScore: Int = 0, parallelism: Int = 16, time: any TimeSource = SystemTime(),
        logger: Logger = Logger(label: "kube-scheduler")
    ) {
        var byName: [String: Profile] = [:]
        for profile in profiles { byName[profile.schedulerName] = profile }
        self.profiles = byName
        // Upstream requires every profile to sort the queue the same way, so the first one's sort serves all.
        queue = SchedulingQueue(profile: profiles[0], time: time)
        cache = SchedulerCache(time: time)
        algorithm = SchedulingAlgorithm(
            percentageOfNodesToScore: percentageOfNodesToScore, parallelism: parallelism)
        self.client = client
        self.recorder = recorder
        self.time = time
        self.logger = logger
    }

    public var statistics: Counters { counters.withLockedValue { $0 } }

    /// Makes every scheduling cycle and binding first ask `check` whether this process still leads, so a
    /// leader that was frozen past its lease never binds after a standby took over.
    public func fence(_ check: @escaping @Sendable () -> Bool) {
        mayAct.withLockedValue { $0 = Fence(check: check) }
    }

    /// Whether the fence lets this process act now.
    var mayActNow: Bool { mayAct.withLockedValue { $0 }.check() }

    /// Whether this scheduler is responsible for `pod`.
    func responsible(for pod: Pod) -> Bool {
        profiles[pod.spec.schedulerName ?? "default-scheduler"] != nil
    }

    /// Schedules until the task is cancelled; the queue's flushes and the cache's expiry run beside it.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.queue.runFlushes() }
            group.addTask { await self.expireAssumedPods() }
            group.addTask {
                while !Task.isCancelled, let pod = await self.queue.pop() {
                    await self.scheduleOne(pod)
                }
            }
            await withTaskCancellationHandler {
                await group.next()
            } onCancel: {
                self.queue.close()
            }
            group.cancelAll()
        }
    }

    private func expireAssumedPods() async {
        while !Task.isCancelled {
            do { try await time.sleep(for: .seconds(1)) } catch { return }
            for uid in cache.expireAssumedPods() {
                logger.warning(
                    "Assumed pod's binding was never confirmed; it no longer counts on its node",
                    metadata: ["uid": "\(uid)"])
                queue.move(.assignedPodDelete)
            }
        }
    }

    /// One pod's scheduling cycle; binding continues on its own task.
    func scheduleOne(_ queued: QueuedPodInfo) async {
        let podInfo = queued.podInfo
        let pod = podInfo.pod
        guard let profile = profiles[pod.spec.schedulerName ?? "default-scheduler"],
            pod.metadata.deletionTimestamp == nil, !cache.isAssumed(uid: podInfo.uid)
        else {
            queue.done(uid: podInfo.uid)
            return
        }
        guard mayActNow else {
            // Leadership is ending; the loop is about to be cancelled. Leave the pod for the next leader.
            queue.requeueAfterError(queued)
            try? await time.sleep(for: .milliseconds(100))
            return
        }
        counters.withLockedValue { $0.attempts += 1 }
        let cycle = queue.schedulingCycle
        let state = CycleState()
        let snapshot = loopSnapshot.withLockedValue { snapshot in
            cache.updateSnapshot(&snapshot)
            return snapshot
        }
        let outcome = nextStartIndex.withLockedValue { start in
            algorithm.schedule(pod: podInfo, profile: profile, snapshot: snapshot, state: state, startIndex: &start)
        }
        // Binding keeps the cycle state; it must not keep the nodes alive, or the next update would copy them all.
        state.remove(AllNodes.self)
        switch outcome {
        case .scheduled(let node, _, _):
            assumeAndBind(queued, node: node, profile: profile, state: state)
        case .unschedulable(var fitError):
            var nominated: String?
            if profile.hasPostFilter {
                let result = await profile.runPostFilter(
                    state: state, pod: podInfo, diagnosis: fitError.diagnosis, snapshot: snapshot)
                nominated = result.nominatedNodeName
                if let message = result.status.reasons.first, !result.status.isSuccess {
                    fitError.postFilterMessage = message
                }
            }
            counters.withLockedValue { $0.unschedulable += 1 }
            // An empty nomination clears an earlier one, as upstream.
            if let nominated, !nominated.isEmpty {
                queue.nominate(podInfo, node: nominated)
            } else if nominated != nil {
                queue.clearNomination(uid: podInfo.uid)
            }
            await recordFailure(
                pod: pod, reason: "Unschedulable", message: fitError.description, nominatedNode: nominated)
            queue.requeueUnschedulable(queued, cycle: cycle, rejectedBy: fitError.diagnosis.unschedulablePlugins)
        case .failed(let status):
            counters.withLockedValue { $0.errors += 1 }
            logger.error("Error scheduling pod", metadata: ["pod": "\(podInfo.key)", "err": "\(status)"])
            await recordFailure(pod: pod, reason: "SchedulerError", message: status.description, nominatedNode: nil)
            queue.requeueAfterError(queued)
        }
    }
}

/// The leadership check behind `Scheduler.fence`. A struct, not a bare closure in the lock box: a generic box
/// holding a function type re-wraps it in a reabstraction thunk on every `inout` access, so each read would
/// grow the closure (and the time to call it) without bound.
struct Fence: Sendable {
    let check: @Sendable () -> Bool
}
