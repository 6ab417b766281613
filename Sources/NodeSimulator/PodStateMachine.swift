public import Client
public import Foundation

/// A pod's life on a simulated node as a pure value: init containers in order, then the app containers, each
/// following its `ContainerBehaviour`, the restart policy with the kubelet's crash-loop back-off, readiness
/// delays, kills and the stop on deletion. Time moves only through `advance(to:)`, so any clock drives it.
public struct PodStateMachine: Sendable, Hashable {
    public enum RestartPolicy: String, Sendable {
        case always = "Always"
        case onFailure = "OnFailure"
        case never = "Never"
    }

    public enum Phase: String, Sendable {
        case pending = "Pending"
        case running = "Running"
        case succeeded = "Succeeded"
        case failed = "Failed"

        var isTerminal: Bool { self == .succeeded || self == .failed }
    }

    /// The kubelet's back-off before restarting a container: 10 s doubling to 5 minutes (the first restart after
    /// a fresh start is immediate).
    public static let initialBackoff = Duration.seconds(10)
    public static let maximumBackoff = Duration.seconds(300)
    /// A run this long resets the back-off, as upstream's `2 × maximum`.
    static let backoffReset = Duration.seconds(600)

    public let uid: String
    /// `name_namespace(uid)`, as the kubelet names a pod in messages.
    public let podDescription: String
    public let restartPolicy: RestartPolicy
    public private(set) var initContainers: [SimulatedContainer]
    public private(set) var containers: [SimulatedContainer]
    public let startTime: Date
    /// The init container now starting or running; `initContainers.count` once the pod is initialized.
    public private(set) var nextInit = 0
    /// An init container failed under `restartPolicy: Never`.
    public private(set) var initFailed = false
    /// The pod was deleted: its containers were stopped and nothing starts again.
    public private(set) var stopped = false
    /// `activeDeadlineSeconds`: how long after its start the pod may run.
    public let activeDeadline: Duration?
    /// The pod ran past its active deadline: its containers were killed and it failed.
    public private(set) var deadlineExceeded = false
    /// The time up to which events were applied.
    public private(set) var now: Date
    /// The kubelet's pod conditions by type, with when each last changed.
    public private(set) var conditions: [String: ConditionState] = [:]

    /// One pod condition's status and when it last changed.
    public struct ConditionState: Sendable, Hashable {
        public var status: Bool
        public var since: Date
    }

    /// The condition types of the pod's readiness gates, which `Ready` also waits for.
    public private(set) var readinessGates: [String] = []

    /// A machine for `pod`, whose sandbox is ready at `now`.
    public init(pod: Pod, now: Date) {
        let name = pod.metadata.name ?? ""
        let namespace = pod.metadata.namespace ?? ""
        self.init(
            uid: pod.metadata.uid ?? "", podDescription: "\(name)_\(namespace)(\(pod.metadata.uid ?? ""))",
            restartPolicy: RestartPolicy(rawValue: pod.spec.restartPolicy ?? "") ?? .always,
            initContainers: pod.spec.initContainers, containers: pod.spec.containers,
            activeDeadline: pod.spec.activeDeadlineSeconds.map { .seconds(max($0, 0)) }, now: now)
        readinessGates = pod.spec.readinessGates.compactMap(\.conditionType)
    }

    public init(
        uid: String, podDescription: String, restartPolicy: RestartPolicy, initContainers: [Container],
        containers: [Container], activeDeadline: Duration? = nil, now: Date
    ) {
        func simulated(_ container: Container, sidecar: Bool) -> SimulatedContainer {
            SimulatedContainer(
                name: container.name ?? "", image: SimulatedContainer.normalizedImage(container.image ?? ""),
                behaviour: CommandReader.behaviour(command: container.command, args: container.args),
                readinessDelay: .seconds(Int64(container.readinessProbe?.initialDelaySeconds ?? 0)),
                isSidecar: sidecar, startupProbe: container.startupProbe.map(SimulatedProbe.init),
                livenessProbe: container.livenessProbe.map(SimulatedProbe.init))
        }
        self.uid = uid
        self.podDescription = podDescription
        self.restartPolicy = restartPolicy
        self.activeDeadline = activeDeadline
        self.initContainers = initContainers.map { simulated($0, sidecar: $0.restartPolicy == "Always") }
        self.containers = containers.map { simulated($0, sidecar: false) }
        self.startTime = now
        self.now = now
        startNextInit(at: now)
        // A container that exits at once (`true`, `exit 3`) has done so by the time anyone looks.
        advance(to: now)
    }

    /// Whether every plain init container completed (sidecars started).
    public var isInitialized: Bool { nextInit >= initContainers.count }

    /// The pod's phase, by upstream's `getPhase` rules.
    public var phase: Phase {
        if initFailed || deadlineExceeded { return .failed }
        if stopped {
            let allSucceeded = containers.allSatisfy {
                if case .terminated(let termination) = $0.state { return termination.exitCode == 0 }
                return false
            }
            return allSucceeded ? .succeeded : .failed
        }
        guard isInitialized else { return .pending }
        var active = 0
        var notStarted = 0
        var failed = 0
        for container in containers {
            switch container.state {
            case .running: active += 1
            case .waiting: if container.lastTermination == nil { notStarted += 1 } else { active += 1 }
            case .terminated(let termination): if termination.exitCode != 0 { failed += 1 }
            }
        }
        if notStarted > 0 { return .pending }
        if active > 0 || restartPolicy == .always { return .running }
        return failed > 0 ? .failed : .succeeded
    }

    /// When the next change happens by itself (an exit, a restart, readiness); nil when none will.
    public var nextDeadline: Date? {
        guard !stopped, !phase.isTerminal else { return nil }
        var times: [Date] = []
        for container in initContainers + containers {
            if let exit = container.exit { times.append(exit.at) }
            if let restartAt = container.restartAt { times.append(restartAt) }
            if let readyAt = container.readyAt, readyAt > now { times.append(readyAt) }
            if let startedAt = container.startedAt, startedAt > now { times.append(startedAt) }
        }
        if let activeDeadline { times.append(startTime.adding(activeDeadline)) }
        return times.min()
    }

    /// Applies every change due up to `target`, each at its own time, so transition times are exact.
    public mutating func advance(to target: Date) {
        while let next = nextDeadline, next <= target {
            now = max(now, next)
            apply(at: now)
            updateConditions(at: now)
        }
        now = max(now, target)
        updateConditions(at: now)
    }

    /// Kills the container `name` (the first running one when nil) at `time`: it exits with 137 and the restart
    /// policy applies. False when no such container was running.
    @discardableResult
    public mutating func kill(container name: String? = nil, at time: Date) -> Bool {
        advance(to: time)
        guard !stopped else { return false }
        if let index = containers.firstIndex(where: { $0.isRunning && (name == nil || $0.name == name) }) {
            exit(app: index, code: 137, at: now)
        } else if let index = initContainers.firstIndex(where: { $0.isRunning && (name == nil || $0.name == name) }) {
            exit(initContainer: index, code: 137, at: now)
        } else {
            return false
        }
        settle(at: now)
        updateConditions(at: now)
        return true
    }

    /// Stops the pod for its deletion at `time`: running containers exit as on SIGTERM (143) and none restarts.
    public mutating func stop(at time: Date) {
        advance(to: time)
        guard !stopped else { return }
        for index in containers.indices where containers[index].isRunning {
            _ = containers[index].finish(at: now, exitCode: 143)
        }
        for index in initContainers.indices {
            if initContainers[index].isRunning { _ = initContainers[index].finish(at: now, exitCode: 143) }
            initContainers[index].restartAt = nil
        }
        for index in containers.indices { containers[index].restartAt = nil }
        stopped = true
        updateConditions(at: now)
    }

    /// Applies the exits and restarts due at `time`.
    private mutating func apply(at time: Date) {
        if let activeDeadline, time >= startTime.adding(activeDeadline) {
            exceedDeadline(at: time)
            return
        }
        for index in initContainers.indices {
            if let exit = initContainers[index].exit, exit.at <= time {
                self.exit(initContainer: index, code: exit.code, at: time)
            } else if let restartAt = initContainers[index].restartAt, restartAt <= time {
                restart(&initContainers[index], at: time)
            }
        }
        for index in containers.indices {
            if let exit = containers[index].exit, exit.at <= time {
                self.exit(app: index, code: exit.code, at: time)
            } else if let restartAt = containers[index].restartAt, restartAt <= time {
                restart(&containers[index], at: time)
            }
        }
        settle(at: time)
    }

    /// The kubelet's active deadline: every running container is killed (137), nothing restarts, the pod fails.
    private mutating func exceedDeadline(at time: Date) {
        for index in initContainers.indices {
            if initContainers[index].isRunning { _ = initContainers[index].finish(at: time, exitCode: 137) }
            initContainers[index].restartAt = nil
        }
        for index in containers.indices {
            if containers[index].isRunning { _ = containers[index].finish(at: time, exitCode: 137) }
            containers[index].restartAt = nil
        }
        deadlineExceeded = true
    }

    private mutating func exit(initContainer index: Int, code: Int32, at time: Date) {
        guard let termination = initContainers[index].finish(at: time, exitCode: code) else { return }
        if initContainers[index].isSidecar {
            scheduleRestart(&initContainers[index], after: termination, at: time)
        } else if code == 0 {
            if index == nextInit {
                nextInit += 1
                startNextInit(at: time)
            }
        } else if restartPolicy == .never {
            initFailed = true
        } else {
            scheduleRestart(&initContainers[index], after: termination, at: time)
        }
    }

    private mutating func exit(app index: Int, code: Int32, at time: Date) {
        guard let termination = containers[index].finish(at: time, exitCode: code) else { return }
        if restartPolicy == .always || (restartPolicy == .onFailure && code != 0) {
            scheduleRestart(&containers[index], after: termination, at: time)
        }
    }

    /// Starts init containers from `nextInit` on: a sidecar starts and the next follows at once; a plain one
    /// starts and is waited for. With every init container done, the app containers start.
    private mutating func startNextInit(at time: Date) {
        while nextInit < initContainers.count {
            initContainers[nextInit].start(at: time, podUID: uid)
            guard initContainers[nextInit].isSidecar else { return }
            nextInit += 1
        }
        for index in containers.indices { containers[index].start(at: time, podUID: uid) }
    }

    /// The kubelet's restart: at once after a fresh run, else after a back-off of 10 s doubling to 5 minutes,
    /// waiting in `CrashLoopBackOff`.
    private func scheduleRestart(_ container: inout SimulatedContainer, after termination: Termination, at time: Date) {
        if termination.finishedAt.timeIntervalSince(termination.startedAt) >= Self.backoffReset.seconds {
            container.backoffStep = 0
        }
        container.lastTermination = termination
        let delay = Self.backoff(step: container.backoffStep)
        container.backoffStep += 1
        if delay == .zero {
            restart(&container, at: time)
        } else {
            let message =
                "back-off \(delay.goDescription) restarting failed container=\(container.name) pod=\(podDescription)"
            container.state = .waiting(reason: "CrashLoopBackOff", message: message)
            container.restartAt = time.adding(delay)
        }
    }

    private func restart(_ container: inout SimulatedContainer, at time: Date) {
        container.restartCount += 1
        container.start(at: time, podUID: uid)
    }

    /// The wait before the restart that follows `step` earlier back-offs: none, then 10 s, 20 s, … up to 5 minutes.
    static func backoff(step: Int) -> Duration {
        guard step > 0 else { return .zero }
        let seconds = Self.initialBackoff.components.seconds << min(step - 1, 16)
        return .seconds(min(seconds, Self.maximumBackoff.components.seconds))
    }

    /// Once the app containers are done for good, sidecars stop too, as upstream's.
    private mutating func settle(at time: Date) {
        guard phase.isTerminal else { return }
        for index in initContainers.indices where initContainers[index].isSidecar {
            if initContainers[index].isRunning { _ = initContainers[index].finish(at: time, exitCode: 0) }
            initContainers[index].restartAt = nil
        }
    }

    private mutating func updateConditions(at time: Date) {
        let terminal = phase.isTerminal
        let ready =
            !terminal && isInitialized && containers.allSatisfy { $0.isReady(at: time) }
            && initContainers.allSatisfy { !$0.isSidecar || $0.isReady(at: time) }
        set(PodConditionType.podScheduled, true, at: time)
        set(PodConditionType.readyToStartContainers, !terminal, at: time)
        set(PodConditionType.initialized, isInitialized, at: time)
        set(PodConditionType.containersReady, ready, at: time)
        set(PodConditionType.ready, ready, at: time)
    }

    private mutating func set(_ type: String, _ status: Bool, at time: Date) {
        if conditions[type]?.status != status { conditions[type] = ConditionState(status: status, since: time) }
    }
}

/// The pod condition types the kubelet owns.
public enum PodConditionType {
    public static let podScheduled = "PodScheduled"
    public static let readyToStartContainers = "PodReadyToStartContainers"
    public static let initialized = "Initialized"
    public static let containersReady = "ContainersReady"
    public static let ready = "Ready"
    /// In the order the kubelet writes them.
    public static let all = [readyToStartContainers, initialized, ready, containersReady, podScheduled]
}
