public import Client
import Foundation

/// A liveness or startup probe as the simulated runtime runs it: upstream's timing (first run after
/// `initialDelaySeconds`, then every `periodSeconds`; `failureThreshold` failures in a row kill the container),
/// and whether it passes, read from an exec probe's command as `CommandReader` reads a container's: `false`,
/// `exit 1` or a `sleep` longer than `timeoutSeconds` fail; anything else (HTTP, TCP, gRPC, commands the reader
/// cannot predict) passes.
public struct SimulatedProbe: Sendable, Hashable {
    public var initialDelay: Duration
    public var period: Duration
    public var failureThreshold: Int
    public var passes: Bool

    public init(
        initialDelay: Duration = .zero, period: Duration = .seconds(10), failureThreshold: Int = 3, passes: Bool
    ) {
        self.initialDelay = initialDelay
        self.period = period
        self.failureThreshold = failureThreshold
        self.passes = passes
    }

    /// The simulated form of `probe`, with upstream's defaults (period 10 s, timeout 1 s, threshold 3).
    public init(_ probe: Probe) {
        let timeout = Duration.seconds(Int64(max(probe.timeoutSeconds ?? 1, 1)))
        var passes = true
        if let command = probe.exec?.command {
            switch CommandReader.behaviour(command: command, args: []) {
            case .exits(let after, let code): passes = code == 0 && after <= timeout
            case .runsUntilStopped: passes = true
            }
        }
        self.init(
            initialDelay: .seconds(Int64(max(probe.initialDelaySeconds ?? 0, 0))),
            period: .seconds(Int64(max(probe.periodSeconds ?? 10, 1))),
            failureThreshold: Int(max(probe.failureThreshold ?? 3, 1)), passes: passes)
    }

    /// When the probe first passes for a container probed from `start`; nil when it never does.
    func firstSuccess(from start: Date) -> Date? {
        passes ? start.adding(initialDelay) : nil
    }

    /// When the kubelet kills a container probed from `start` after `failureThreshold` failures in a row; nil
    /// when the probe passes.
    func kill(from start: Date) -> Date? {
        guard !passes else { return nil }
        return start.adding(initialDelay + period * (failureThreshold - 1))
    }
}
