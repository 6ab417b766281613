import APIMachinery
import Foundation
import NIOHTTP1
import Storage
import XCTest

@testable import APIServer

/// A Job's pods are found by its uid, as upstream generates the selector; the replacement policy is defaulted.
final class JobDefaultsTests: XCTestCase {
    func testTheSelectorAndTemplateLabelsAreGeneratedFromTheJobsUID() async throws {
        let server = APIServer(storage: MemoryStore(), configuration: APIServer.Configuration())
        try await server.bootstrap(advertiseAddress: "127.0.0.1", securePort: 6443)
        let admin = UserInfo(name: "admin", uid: "u-1", groups: ["system:masters", "system:authenticated"])
        let job: JSON = [
            "apiVersion": "batch/v1", "kind": "Job", "metadata": ["name": "pi"],
            "spec": [
                "template": [
                    "metadata": ["labels": ["app": "pi"]],
                    "spec": ["restartPolicy": "Never", "containers": [["name": "c", "image": "busybox"]]],
                ]
            ],
        ]
        let response = await server.respond(
            to: HTTPRequest(
                method: .POST, uri: "/apis/batch/v1/namespaces/default/jobs",
                headers: ["Content-Type": "application/json"], body: job.encoded(), user: admin,
                remoteAddress: "127.0.0.9"))
        XCTAssertEqual(response.status.code, 201)
        guard case .bytes(let bytes) = response.body else { return XCTFail("no body") }
        let created = try JSON.parse(bytes)
        let uid = try XCTUnwrap(created.uid)
        XCTAssertEqual(
            created["spec"]?["selector"], ["matchLabels": ["batch.kubernetes.io/controller-uid": .string(uid)]])
        let labels = created["spec"]?["template"]?["metadata"]?["labels"]
        XCTAssertEqual(labels?["app"], "pi")
        XCTAssertEqual(labels?["batch.kubernetes.io/controller-uid"]?.stringValue, uid)
        XCTAssertEqual(labels?["batch.kubernetes.io/job-name"], "pi")
        XCTAssertEqual(labels?["controller-uid"]?.stringValue, uid)
        XCTAssertEqual(labels?["job-name"], "pi")
        XCTAssertEqual(created["spec"]?["podReplacementPolicy"], "TerminatingOrFailed")
    }
}
