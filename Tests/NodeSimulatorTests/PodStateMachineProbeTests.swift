import Client
import NodeSimulator
import XCTest

/// Liveness and startup probes and `activeDeadlineSeconds` in the pod state machine, on `FakeTime`.
final class PodStateMachineProbeTests: XCTestCase {
    let time = FakeTime()

    func probe(_ command: [String], delay: Int32 = 0, period: Int32? = nil, threshold: Int32? = nil) -> Probe {
        var probe = Probe(initialDelaySeconds: delay)
        probe.exec = ExecAction(command: command)
        probe.periodSeconds = period
        probe.failureThreshold = threshold
        return probe
    }

    func machine(
        liveness: Probe? = nil, startup: Probe? = nil, readinessDelay: Int32? = nil,
        policy: PodStateMachine.RestartPolicy = .always, deadline: Duration? = nil
    ) -> PodStateMachine {
        var container = Container(name: "app", image: "nginx")
        container.livenessProbe = liveness
        container.startupProbe = startup
        if let readinessDelay { container.readinessProbe = Probe(initialDelaySeconds: readinessDelay) }
        return PodStateMachine(
            uid: "u1", podDescription: "p_default(u1)", restartPolicy: policy, initContainers: [],
            containers: [container], activeDeadline: deadline, now: time.wallNow)
    }

    func status(_ machine: PodStateMachine) -> ContainerStatus? {
        machine.status(merging: PodStatus(), hostIP: "10.32.0.1", podIP: "10.64.0.2").containerStatuses.first
    }

    func advance(_ machine: inout PodStateMachine, seconds: Int64) {
        time.advance(by: .seconds(seconds))
        machine.advance(to: time.wallNow)
    }

    func testProbesReadTheirCommandAsContainersDo() {
        XCTAssertFalse(SimulatedProbe(probe(["false"])).passes)
        XCTAssertFalse(SimulatedProbe(probe(["sh", "-c", "exit 1"])).passes)
        XCTAssertFalse(SimulatedProbe(probe(["sleep", "5"])).passes, "slower than the 1 s timeout")
        XCTAssertTrue(SimulatedProbe(probe(["cat", "/tmp/healthy"])).passes)
        XCTAssertTrue(SimulatedProbe(probe(["/bin/check"])).passes, "a command the reader cannot predict passes")
        XCTAssertTrue(SimulatedProbe(Probe(initialDelaySeconds: 3)).passes, "an HTTP or TCP probe passes")
        let defaults = SimulatedProbe(probe(["false"], delay: 4))
        XCTAssertEqual(defaults.initialDelay, .seconds(4))
        XCTAssertEqual(defaults.period, .seconds(10))
        XCTAssertEqual(defaults.failureThreshold, 3)
    }

    func testAFailingLivenessProbeRestartsTheContainerAfterItsThresholdWithBackoff() {
        let start = time.wallNow
        var pod = machine(liveness: probe(["false"], delay: 5, period: 2, threshold: 3))
        XCTAssertEqual(status(pod)?.ready, true)
        // Failures at 5, 7 and 9 s: the third kills the container, which restarts at once.
        XCTAssertEqual(pod.nextDeadline, start.addingTimeInterval(9))
        advance(&pod, seconds: 8)
        XCTAssertEqual(status(pod)?.restartCount, 0)
        advance(&pod, seconds: 1)
        var current = status(pod)
        XCTAssertEqual(current?.restartCount, 1)
        XCTAssertEqual(current?.lastState?.terminated?.exitCode, 137)
        XCTAssertNotNil(current?.state?.running)
        // The next run fails the same way, and its restart waits out the back-off.
        advance(&pod, seconds: 9)
        current = status(pod)
        XCTAssertEqual(current?.state?.waiting?.reason, "CrashLoopBackOff")
        XCTAssertEqual(pod.nextDeadline, time.wallNow.addingTimeInterval(10))
        advance(&pod, seconds: 10)
        XCTAssertEqual(status(pod)?.restartCount, 2)

        var never = machine(liveness: probe(["false"], period: 1, threshold: 1), policy: .never)
        advance(&never, seconds: 1)
        XCTAssertEqual(never.phase, .failed)
        XCTAssertEqual(status(never)?.state?.terminated?.exitCode, 137)
    }

    func testAStartupProbeHoldsStartedReadinessAndLivenessUntilItPasses() {
        let start = time.wallNow
        var pod = machine(
            liveness: probe(["false"], period: 1, threshold: 2), startup: probe(["true"], delay: 6), readinessDelay: 2)
        XCTAssertEqual(status(pod)?.started, false)
        XCTAssertEqual(status(pod)?.ready, false)
        XCTAssertEqual(pod.nextDeadline, start.addingTimeInterval(6))
        advance(&pod, seconds: 6)
        XCTAssertEqual(status(pod)?.started, true)
        XCTAssertEqual(status(pod)?.ready, true, "readiness waits for the start, not just its own delay")
        // Liveness runs from the start on: two failures, at 6 and 7 s.
        XCTAssertEqual(pod.nextDeadline, start.addingTimeInterval(7))
        advance(&pod, seconds: 1)
        XCTAssertEqual(status(pod)?.restartCount, 1)
        XCTAssertEqual(status(pod)?.started, false)

        var failing = machine(startup: probe(["false"], delay: 1, period: 3, threshold: 2))
        advance(&failing, seconds: 3)
        XCTAssertEqual(status(failing)?.restartCount, 0)
        advance(&failing, seconds: 1)
        XCTAssertEqual(status(failing)?.restartCount, 1, "killed after failures at 1 and 4 s")
        XCTAssertEqual(status(failing)?.lastState?.terminated?.exitCode, 137)
    }

    func testAPodPastItsActiveDeadlineFailsWithUpstreamsReason() {
        let start = time.wallNow
        var pod = machine(deadline: .seconds(30))
        XCTAssertEqual(pod.nextDeadline, start.addingTimeInterval(30))
        advance(&pod, seconds: 29)
        XCTAssertEqual(pod.phase, .running)
        advance(&pod, seconds: 1)
        let current = pod.status(merging: PodStatus(), hostIP: "10.32.0.1", podIP: "10.64.0.2")
        XCTAssertEqual(current.phase, "Failed")
        XCTAssertEqual(current.reason, "DeadlineExceeded")
        XCTAssertEqual(current.message, "Pod was active on the node longer than the specified deadline")
        XCTAssertEqual(current.containerStatuses.first?.state?.terminated?.exitCode, 137)
        XCTAssertEqual(current.conditions.first { $0.type == "Ready" }?.reason, "PodFailed")
        XCTAssertNil(pod.nextDeadline)
        advance(&pod, seconds: 600)
        XCTAssertEqual(pod.phase, .failed, "nothing restarts after the deadline")
    }
}
