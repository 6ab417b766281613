import Crypto
public import Foundation

/// How one run of a container ended.
public struct Termination: Sendable, Hashable {
    public var exitCode: Int32
    /// `Completed` for exit code 0, else `Error`, as the container runtime reports it.
    public var reason: String
    public var startedAt: Date
    public var finishedAt: Date
    public var containerID: String
}

/// One container as the simulated runtime keeps it: its behaviour, its state and its restarts.
public struct SimulatedContainer: Sendable, Hashable {
    public enum State: Sendable, Hashable {
        /// Not started yet (`PodInitializing`) or waiting out a restart back-off (`CrashLoopBackOff`).
        case waiting(reason: String, message: String?)
        case running(since: Date, containerID: String)
        case terminated(Termination)
    }

    public let name: String
    /// The image as the runtime reports it (`docker.io/library/nginx:latest`).
    public let image: String
    public let behaviour: ContainerBehaviour
    /// How long after a start the readiness probe first passes (its initialDelaySeconds; zero without a probe).
    public let readinessDelay: Duration
    /// An init container with `restartPolicy: Always`: started in init order, then runs beside the app containers.
    public let isSidecar: Bool
    /// The startup probe: until it passes the container is not started, and neither liveness nor readiness run.
    public let startupProbe: SimulatedProbe?
    public let livenessProbe: SimulatedProbe?
    public internal(set) var state: State = .waiting(reason: "PodInitializing", message: nil)
    public internal(set) var lastTermination: Termination?
    public internal(set) var restartCount: Int32 = 0
    /// When the current back-off ends.
    var restartAt: Date?
    /// Back-offs served since the last long healthy run; the next one waits 10 s × 2^(step−1).
    var backoffStep = 0

    init(
        name: String, image: String, behaviour: ContainerBehaviour, readinessDelay: Duration, isSidecar: Bool,
        startupProbe: SimulatedProbe? = nil, livenessProbe: SimulatedProbe? = nil
    ) {
        self.name = name
        self.image = image
        self.behaviour = behaviour
        self.readinessDelay = readinessDelay
        self.isSidecar = isSidecar
        self.startupProbe = startupProbe
        self.livenessProbe = livenessProbe
    }

    /// When the running container ends, and with what code: by itself, or killed (137) after its startup or
    /// liveness probe failed `failureThreshold` times, whichever comes first.
    var exit: (at: Date, code: Int32)? {
        guard case .running(let since, _) = state else { return nil }
        var exit: (at: Date, code: Int32)?
        if case .exits(let after, let code) = behaviour { exit = (since.adding(after), code) }
        let probeKill: Date?
        if let startupProbe, !startupProbe.passes {
            probeKill = startupProbe.kill(from: since)
        } else {
            probeKill = startedAt.flatMap { livenessProbe?.kill(from: $0) }
        }
        if let probeKill, probeKill < exit?.at ?? .distantFuture { exit = (probeKill, 137) }
        return exit
    }

    /// When the running container counts as started: at once, or when its startup probe first passes.
    var startedAt: Date? {
        guard case .running(let since, _) = state else { return nil }
        guard let startupProbe else { return since }
        return startupProbe.firstSuccess(from: since)
    }

    /// When the running container's readiness probe first passes: past its delay, and once started.
    var readyAt: Date? {
        guard case .running(let since, _) = state, let startedAt else { return nil }
        return max(since.adding(readinessDelay), startedAt)
    }

    /// Whether the running container reports started at `now`.
    func isStarted(at now: Date) -> Bool {
        if let startedAt { return startedAt <= now }
        return false
    }

    var isRunning: Bool {
        if case .running = state { return true }
        return false
    }

    /// Whether the running container reports ready at `now`: past its readiness delay. (A completed init
    /// container's readiness is decided where statuses are written.)
    func isReady(at now: Date) -> Bool {
        if let readyAt { return readyAt <= now }
        return false
    }

    /// Whether a plain init container has finished successfully.
    var hasSucceeded: Bool {
        if case .terminated(let termination) = state { return termination.exitCode == 0 }
        return false
    }

    /// Starts a run at `now`.
    mutating func start(at now: Date, podUID: String) {
        state = .running(since: now, containerID: Self.containerID(podUID: podUID, name: name, run: restartCount))
        restartAt = nil
    }

    /// Ends the running run at `now` with `exitCode`; the termination, or nil if the container was not running.
    mutating func finish(at now: Date, exitCode: Int32) -> Termination? {
        guard case .running(let since, let containerID) = state else { return nil }
        let termination = Termination(
            exitCode: exitCode, reason: exitCode == 0 ? "Completed" : "Error", startedAt: since, finishedAt: now,
            containerID: containerID)
        state = .terminated(termination)
        return termination
    }

    /// A runtime-style container ID: stable for one run of one container of one pod.
    static func containerID(podUID: String, name: String, run: Int32) -> String {
        "kubeswift://" + hexDigest("\(podUID)/\(name)/\(run)")
    }

    /// The image name as containerd reports it: registry, repository and a tag.
    static func normalizedImage(_ image: String) -> String {
        var name = image
        let firstComponent = name.split(separator: "/").first.map(String.init) ?? name
        let hasRegistry =
            name.contains("/")
            && (firstComponent.contains(".") || firstComponent.contains(":") || firstComponent == "localhost")
        if !hasRegistry {
            name = "docker.io/" + (name.contains("/") ? name : "library/" + name)
        }
        let lastComponent = name.split(separator: "/").last.map(String.init) ?? name
        if !lastComponent.contains(":") && !lastComponent.contains("@") { name += ":latest" }
        return name
    }

    /// A fixed, made-up digest for an image, so imageID reads like a pulled image's.
    static func imageID(_ normalizedImage: String) -> String {
        if normalizedImage.contains("@") { return normalizedImage }
        let repository = normalizedImage.split(separator: ":").dropLast().joined(separator: ":")
        return "\(repository)@sha256:\(hexDigest(normalizedImage))"
    }

    static func hexDigest(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}

extension Date {
    /// This date moved on by `duration`.
    func adding(_ duration: Duration) -> Date {
        addingTimeInterval(duration.seconds)
    }
}

extension Duration {
    /// The duration in (fractional) seconds.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// Go's `time.Duration.String()` for whole seconds: `10s`, `1m20s`, `5m0s`.
    var goDescription: String {
        let total = components.seconds
        guard total >= 60 else { return "\(total)s" }
        let hours = total / 3_600
        let minutes = (total % 3_600) / 60
        let seconds = total % 60
        return hours > 0 ? "\(hours)h\(minutes)m\(seconds)s" : "\(minutes)m\(seconds)s"
    }
}
