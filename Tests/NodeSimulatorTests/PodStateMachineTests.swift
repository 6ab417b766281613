import Client
import NodeSimulator
import XCTest

/// The pod state machine on `FakeTime`: every transition happens at an exact, asserted instant.
final class PodStateMachineTests: XCTestCase {
    let time = FakeTime()

    func container(_ name: String, _ command: [String] = [], readinessDelay: Int32? = nil, sidecar: Bool = false)
        -> Container
    {
        var container = Container(name: name, command: command, image: "busybox")
        if let readinessDelay { container.readinessProbe = Probe(initialDelaySeconds: readinessDelay) }
        if sidecar { container.restartPolicy = "Always" }
        return container
    }

    func machine(
        _ containers: [Container], initContainers: [Container] = [], policy: PodStateMachine.RestartPolicy = .always
    ) -> PodStateMachine {
        PodStateMachine(
            uid: "u1", podDescription: "p_default(u1)", restartPolicy: policy, initContainers: initContainers,
            containers: containers, now: time.wallNow)
    }

    func status(_ machine: PodStateMachine) -> PodStatus {
        machine.status(merging: PodStatus(), hostIP: "10.32.0.1", podIP: "10.64.0.2")
    }

    func condition(_ status: PodStatus, _ type: String) -> PodCondition? {
        status.conditions.first { $0.type == type }
    }

    func advance(_ machine: inout PodStateMachine, seconds: Int64) {
        time.advance(by: .seconds(seconds))
        machine.advance(to: time.wallNow)
    }

    func testInitContainersRunFirstInOrderThenTheAppContainers() {
        let start = time.wallNow
        var pod = machine(
            [container("app")],
            initContainers: [container("first", ["sleep", "2"]), container("second", ["sleep", "3"])])
        var current = status(pod)
        XCTAssertEqual(current.phase, "Pending")
        XCTAssertNotNil(current.initContainerStatuses[0].state?.running)
        XCTAssertEqual(current.initContainerStatuses[1].state?.waiting?.reason, "PodInitializing")
        XCTAssertEqual(current.containerStatuses[0].state?.waiting?.reason, "PodInitializing")
        XCTAssertEqual(condition(current, "Initialized")?.status, "False")
        XCTAssertEqual(condition(current, "Initialized")?.message, "containers with incomplete status: [first second]")
        XCTAssertEqual(condition(current, "PodReadyToStartContainers")?.status, "True")
        XCTAssertEqual(pod.nextDeadline, start.addingTimeInterval(2))

        advance(&pod, seconds: 2)
        current = status(pod)
        XCTAssertEqual(current.initContainerStatuses[0].state?.terminated?.reason, "Completed")
        XCTAssertEqual(current.initContainerStatuses[0].ready, true)
        XCTAssertNotNil(current.initContainerStatuses[1].state?.running)
        XCTAssertEqual(current.phase, "Pending")

        advance(&pod, seconds: 10)
        current = status(pod)
        XCTAssertEqual(current.phase, "Running")
        let initializedAt = PodStateMachineTests.timestamp(start.addingTimeInterval(5))
        XCTAssertEqual(condition(current, "Initialized")?.status, "True")
        XCTAssertEqual(condition(current, "Initialized")?.lastTransitionTime, initializedAt)
        XCTAssertEqual(condition(current, "Ready")?.lastTransitionTime, initializedAt)
        XCTAssertEqual(current.containerStatuses[0].state?.running?.startedAt, initializedAt)
        XCTAssertEqual(current.containerStatuses[0].ready, true)
        XCTAssertEqual(current.containerStatuses[0].started, true)
        XCTAssertEqual(current.containerStatuses[0].image, "docker.io/library/busybox:latest")
        XCTAssertTrue(current.containerStatuses[0].imageID?.hasPrefix("docker.io/library/busybox@sha256:") ?? false)
        XCTAssertTrue(current.containerStatuses[0].containerID?.hasPrefix("kubeswift://") ?? false)
        XCTAssertEqual(current.podIP, "10.64.0.2")
        XCTAssertEqual(current.hostIP, "10.32.0.1")
        XCTAssertEqual(current.startTime, PodStateMachineTests.timestamp(start))
        XCTAssertNil(pod.nextDeadline)
    }

    func testSleepThenSucceededUnderRestartPolicyNever() {
        var pod = machine([container("c", ["sleep", "1"])], policy: .never)
        XCTAssertEqual(status(pod).phase, "Running")
        advance(&pod, seconds: 1)
        let current = status(pod)
        XCTAssertEqual(current.phase, "Succeeded")
        XCTAssertEqual(current.containerStatuses[0].state?.terminated?.exitCode, 0)
        XCTAssertEqual(current.containerStatuses[0].state?.terminated?.reason, "Completed")
        XCTAssertEqual(condition(current, "Ready")?.status, "False")
        XCTAssertEqual(condition(current, "Ready")?.reason, "PodCompleted")
        XCTAssertEqual(condition(current, "PodReadyToStartContainers")?.status, "False")
        XCTAssertNil(pod.nextDeadline)
    }

    func testFalseFailsWithItsExitCodeUnderRestartPolicyNever() {
        let pod = machine(
            [container("ok", ["sleep", "0"]), container("bad", ["sh", "-c", "exit 3"])], policy: .never)
        let current = status(pod)
        XCTAssertEqual(current.phase, "Failed")
        XCTAssertEqual(current.containerStatuses.map(\.name), ["bad", "ok"])
        XCTAssertEqual(current.containerStatuses[0].state?.terminated?.exitCode, 3)
        XCTAssertEqual(current.containerStatuses[0].state?.terminated?.reason, "Error")
    }

    func testRestartPolicyAlwaysRestartsWithTheKubeletsCrashLoopBackOff() {
        var pod = machine([container("c", ["false"])], policy: .always)
        var delays: [String] = []
        var restarts: [Int32] = []
        for _ in 0..<8 {
            let current = status(pod)
            XCTAssertEqual(current.phase, "Running")
            let waiting = current.containerStatuses[0].state?.waiting
            XCTAssertEqual(waiting?.reason, "CrashLoopBackOff")
            XCTAssertEqual(current.containerStatuses[0].lastState?.terminated?.exitCode, 1)
            restarts.append(current.containerStatuses[0].restartCount ?? -1)
            delays.append(waiting?.message?.split(separator: " ")[1].description ?? "")
            guard let next = pod.nextDeadline else { return XCTFail("no restart scheduled") }
            time.advance(by: .seconds(Int64(next.timeIntervalSince(time.wallNow))))
            pod.advance(to: time.wallNow)
        }
        // The first restart is immediate; then 10 s doubling to 5 minutes.
        XCTAssertEqual(restarts, [1, 2, 3, 4, 5, 6, 7, 8])
        XCTAssertEqual(delays, ["10s", "20s", "40s", "1m20s", "2m40s", "5m0s", "5m0s", "5m0s"])
        XCTAssertEqual(
            status(pod).containerStatuses[0].state?.waiting?.message,
            "back-off 5m0s restarting failed container=c pod=p_default(u1)")
    }

    func testRestartPolicyOnFailureRestartsOnlyFailures() {
        var succeeding = machine([container("c", ["sleep", "1"])], policy: .onFailure)
        advance(&succeeding, seconds: 1)
        XCTAssertEqual(status(succeeding).phase, "Succeeded")
        XCTAssertEqual(status(succeeding).containerStatuses[0].restartCount, 0)

        var failing = machine([container("c", ["sh", "-c", "sleep 1; exit 2"])], policy: .onFailure)
        advance(&failing, seconds: 1)
        XCTAssertEqual(status(failing).phase, "Running")
        XCTAssertEqual(status(failing).containerStatuses[0].restartCount, 1)
        XCTAssertNotNil(status(failing).containerStatuses[0].state?.running)
    }

    func testReadinessWaitsForTheProbesInitialDelay() {
        let start = time.wallNow
        var pod = machine([container("web", readinessDelay: 5)])
        var current = status(pod)
        XCTAssertEqual(current.phase, "Running")
        XCTAssertEqual(current.containerStatuses[0].ready, false)
        XCTAssertEqual(condition(current, "ContainersReady")?.reason, "ContainersNotReady")
        XCTAssertEqual(condition(current, "Ready")?.message, "containers with unready status: [web]")
        XCTAssertEqual(pod.nextDeadline, start.addingTimeInterval(5))

        advance(&pod, seconds: 4)
        XCTAssertEqual(condition(status(pod), "Ready")?.status, "False")
        advance(&pod, seconds: 3)
        current = status(pod)
        XCTAssertEqual(current.containerStatuses[0].ready, true)
        XCTAssertEqual(condition(current, "Ready")?.status, "True")
        XCTAssertEqual(
            condition(current, "Ready")?.lastTransitionTime, PodStateMachineTests.timestamp(start.addingTimeInterval(5))
        )
        XCTAssertNil(pod.nextDeadline)
    }

    func testDeletionStopsEveryContainerForGood() {
        var pod = machine([container("web"), container("done", ["true"])], policy: .always)
        advance(&pod, seconds: 30)
        pod.stop(at: time.wallNow)
        let current = status(pod)
        XCTAssertEqual(current.phase, "Failed")
        XCTAssertEqual(current.containerStatuses.first { $0.name == "web" }?.state?.terminated?.exitCode, 143)
        XCTAssertNil(current.containerStatuses.first { $0.name == "done" }?.state?.running)
        XCTAssertNil(pod.nextDeadline)
        advance(&pod, seconds: 600)
        XCTAssertEqual(status(pod), current)

        var finished = machine([container("c", ["true"])], policy: .never)
        finished.stop(at: time.wallNow)
        XCTAssertEqual(status(finished).phase, "Succeeded")
    }

    func testAKilledContainerExitsWith137AndFollowsThePolicy() {
        var restarting = machine([container("web")], policy: .always)
        advance(&restarting, seconds: 5)
        XCTAssertTrue(restarting.kill(at: time.wallNow))
        var current = status(restarting)
        XCTAssertEqual(current.containerStatuses[0].restartCount, 1)
        XCTAssertEqual(current.containerStatuses[0].lastState?.terminated?.exitCode, 137)
        XCTAssertNotNil(current.containerStatuses[0].state?.running)
        XCTAssertNotEqual(
            current.containerStatuses[0].containerID, current.containerStatuses[0].lastState?.terminated?.containerID)

        var failing = machine([container("web")], policy: .never)
        XCTAssertFalse(failing.kill(container: "other", at: time.wallNow))
        XCTAssertTrue(failing.kill(container: "web", at: time.wallNow))
        current = status(failing)
        XCTAssertEqual(current.phase, "Failed")
        XCTAssertEqual(current.containerStatuses[0].state?.terminated?.exitCode, 137)
    }

    func testAFailedInitContainerFailsAPodThatNeverRestarts() {
        let pod = machine([container("app")], initContainers: [container("setup", ["false"])], policy: .never)
        let current = status(pod)
        XCTAssertEqual(current.phase, "Failed")
        XCTAssertEqual(current.initContainerStatuses[0].state?.terminated?.exitCode, 1)
        XCTAssertEqual(current.containerStatuses[0].state?.waiting?.reason, "PodInitializing")
        XCTAssertEqual(condition(current, "Initialized")?.status, "False")
    }

    func testSidecarsStartInOrderAndStopWhenTheAppContainersAreDone() {
        var pod = machine(
            [container("job", ["sleep", "3"])], initContainers: [container("proxy", sidecar: true)], policy: .never)
        XCTAssertNotNil(status(pod).containerStatuses[0].state?.running)
        XCTAssertEqual(condition(status(pod), "Initialized")?.status, "True")
        advance(&pod, seconds: 3)
        let current = status(pod)
        XCTAssertEqual(current.phase, "Succeeded")
        XCTAssertEqual(current.initContainerStatuses[0].state?.terminated?.exitCode, 0)
    }

    func testTheSchedulersConditionAndOthersAreKept() {
        let scheduled = PodCondition(type: "PodScheduled", status: "True", lastTransitionTime: "2020-01-01T00:00:00Z")
        let target = PodCondition(type: "DisruptionTarget", status: "True")
        let current = machine([container("c")]).status(
            merging: PodStatus(conditions: [scheduled, target], qosClass: "BestEffort"), hostIP: "h", podIP: "p")
        XCTAssertEqual(
            current.conditions.map { $0.type ?? "" },
            [
                "PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled",
                "DisruptionTarget",
            ])
        XCTAssertEqual(condition(current, "PodScheduled"), scheduled)
        XCTAssertEqual(current.qosClass, "BestEffort")
    }

    func testReadyWaitsForTheReadinessGates() {
        var pod = Pod(
            spec: PodSpec(containers: [container("web")], readinessGates: [PodReadinessGate(conditionType: "lb")]))
        pod.metadata.uid = "u2"
        let start = time.wallNow
        var machine = PodStateMachine(pod: pod, now: start)
        var current = machine.status(merging: PodStatus(), hostIP: "h", podIP: "p")
        XCTAssertEqual(condition(current, "ContainersReady")?.status, "True")
        XCTAssertEqual(condition(current, "Ready")?.status, "False")
        XCTAssertEqual(condition(current, "Ready")?.reason, "ReadinessGatesNotReady")
        XCTAssertEqual(
            condition(current, "Ready")?.message, #"corresponding condition of pod readiness gate "lb" does not exist."#
        )

        advance(&machine, seconds: 7)
        let gate = PodCondition(type: "lb", status: "True")
        current = machine.status(merging: PodStatus(conditions: current.conditions + [gate]), hostIP: "h", podIP: "p")
        XCTAssertEqual(condition(current, "Ready")?.status, "True")
        XCTAssertEqual(
            condition(current, "Ready")?.lastTransitionTime,
            PodStateMachineTests.timestamp(start.addingTimeInterval(7)))
        XCTAssertEqual(condition(current, "lb"), gate)
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}
