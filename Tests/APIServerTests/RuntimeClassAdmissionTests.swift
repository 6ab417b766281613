import APIMachinery
import Foundation
import TestSupport
import XCTest

@testable import APIServer

/// The RuntimeClass admission plugin: upstream's toleration merge and overhead comparison, and through kubectl
/// over TLS a pod given its class's overhead and scheduling, and upstream's refusals.
final class RuntimeClassAdmissionTests: XCTestCase {
    static let fixture = Task { () throws -> KubectlTestServer in
        var configuration = APIServer.Configuration()
        configuration.admission = AdmissionChain(plugins: [RuntimeClassAdmission()])
        let server = try await KubectlTestServer(address: "127.0.0.147", configuration: configuration)
        let created = try server.kubectl(
            ["create", "-f", "-"],
            input: """
                apiVersion: node.k8s.io/v1
                kind: RuntimeClass
                metadata: {name: gvisor}
                handler: runsc
                overhead:
                  podFixed: {cpu: 250m, memory: 120Mi}
                scheduling:
                  nodeSelector: {sandbox: "true"}
                  tolerations:
                  - {key: sandbox, operator: Exists, effect: NoSchedule}
                  - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute}
                """)
        guard created.status == 0 else { throw TestClusterError(created.stderr) }
        return server
    }

    func testTolerationsMergeKeepsOnlyWhatIsNotCovered() {
        let exists: JSON = ["key": "a", "operator": "Exists"]
        let equal: JSON = ["key": "a", "operator": "Equal", "value": "v", "effect": "NoSchedule"]
        let everything: JSON = ["operator": "Exists"]
        let bounded: JSON = ["key": "b", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60]
        let longer: JSON = ["key": "b", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300]
        XCTAssertEqual(RuntimeClassAdmission.mergeTolerations([equal], [exists]), [exists])
        XCTAssertEqual(RuntimeClassAdmission.mergeTolerations([exists, exists], []), [exists])
        XCTAssertEqual(RuntimeClassAdmission.mergeTolerations([equal, bounded], [everything]), [everything])
        XCTAssertEqual(RuntimeClassAdmission.mergeTolerations([bounded], [longer]), [longer])
        XCTAssertEqual(RuntimeClassAdmission.mergeTolerations([longer], [equal]), [longer, equal])
    }

    func testOverheadsCompareByQuantity() {
        XCTAssertTrue(RuntimeClassAdmission.sameResources(["cpu": "0.25"], ["cpu": "250m"]))
        XCTAssertFalse(RuntimeClassAdmission.sameResources(["cpu": "250m"], ["cpu": "250m", "memory": "1Mi"]))
        XCTAssertFalse(RuntimeClassAdmission.sameResources(["cpu": "1"], ["cpu": "250m"]))
    }

    func testAPodWithARuntimeClassGetsItsOverheadAndScheduling() async throws {
        let server = try await Self.fixture.value
        let run = try server.kubectl([
            "run", "sandboxed", "--image=nginx", "--overrides",
            #"{"spec":{"runtimeClassName":"gvisor","nodeSelector":{"zone":"a"},"#
                + #""tolerations":[{"key":"sandbox","operator":"Equal","value":"x","effect":"NoSchedule"}]}}"#,
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        let output = try server.kubectl(["get", "pod", "sandboxed", "-n", "default", "-o", "json"])
        let pod = try JSON.parse(Array(output.stdout.utf8))
        XCTAssertEqual(pod["spec"]?["overhead"], ["cpu": "250m", "memory": "120Mi"])
        XCTAssertEqual(pod["spec"]?["nodeSelector"], ["zone": "a", "sandbox": "true"])
        XCTAssertEqual(
            pod["spec"]?["tolerations"],
            [
                ["key": "sandbox", "operator": "Exists", "effect": "NoSchedule"],
                ["key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"],
            ])
    }

    func testUpstreamsRefusals() async throws {
        let server = try await Self.fixture.value
        func refusal(_ name: String, _ overrides: String) throws -> String {
            let run = try server.kubectl(["run", name, "--image=nginx", "--overrides", overrides])
            XCTAssertNotEqual(run.status, 0, "\(name) was admitted")
            return run.stderr
        }
        XCTAssertTrue(
            try refusal("lost", #"{"spec":{"runtimeClassName":"nope"}}"#)
                .contains(#"pods "lost" is forbidden: pod rejected: RuntimeClass "nope" not found"#))
        XCTAssertTrue(
            try refusal("greedy", #"{"spec":{"runtimeClassName":"gvisor","overhead":{"cpu":"1"}}}"#)
                .contains(
                    #"pods "greedy" is forbidden: pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead"#
                ))
        XCTAssertTrue(
            try refusal("elsewhere", #"{"spec":{"runtimeClassName":"gvisor","nodeSelector":{"sandbox":"no"}}}"#)
                .contains(
                    #"pods "elsewhere" is forbidden: conflict: runtimeClass.scheduling.nodeSelector[sandbox] = true; pod.spec.nodeSelector[sandbox] = no"#
                ))
        XCTAssertTrue(
            try refusal("classless", #"{"spec":{"overhead":{"cpu":"1"}}}"#)
                .contains(
                    #"pods "classless" is forbidden: pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead"#
                ))
        let same = try server.kubectl([
            "run", "matching", "--image=nginx", "--overrides",
            #"{"spec":{"runtimeClassName":"gvisor","overhead":{"cpu":"0.25","memory":"120Mi"}}}"#,
        ])
        XCTAssertEqual(same.status, 0, "an equal overhead is accepted: \(same.stderr)")
    }
}
