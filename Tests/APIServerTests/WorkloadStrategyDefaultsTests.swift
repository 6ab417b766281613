import APIMachinery
import Foundation
import NIOHTTP1
import Storage
import XCTest

@testable import APIServer

/// Update strategies are defaulted field by field as upstream's SetDefaults_Deployment/DaemonSet/StatefulSet, so
/// the `strategy: {}` that `kubectl create deployment` sends is filled in, not kept empty.
final class WorkloadStrategyDefaultsTests: XCTestCase {
    private let deployment: JSONObject = ["maxUnavailable": "25%", "maxSurge": "25%"]

    func testDeploymentStrategyDefaults() {
        let cases: [(given: JSON?, expected: JSON)] = [
            (nil, ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": "25%", "maxSurge": "25%"]]),
            ([:], ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": "25%", "maxSurge": "25%"]]),
            (
                ["type": "RollingUpdate", "rollingUpdate": ["maxSurge": 0]],
                ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": "25%", "maxSurge": 0]]
            ),
            (["type": "Recreate"], ["type": "Recreate"]),
        ]
        for (given, expected) in cases {
            var spec: JSON = [:]
            if let given { spec["strategy"] = given }
            WorkloadStrategy.defaultUpdateStrategy(&spec, field: "strategy", rollingUpdate: deployment)
            XCTAssertEqual(spec["strategy"], expected, "given \(String(describing: given))")
        }
    }

    func testStatefulSetMakesTheRollingUpdateBlockOnlyForAnEmptyType() {
        var empty: JSON = ["updateStrategy": [:]]
        WorkloadStrategy.defaultUpdateStrategy(
            &empty, field: "updateStrategy", rollingUpdate: ["partition": 0], onlyIfTypeWasEmpty: true)
        XCTAssertEqual(empty["updateStrategy"], ["type": "RollingUpdate", "rollingUpdate": ["partition": 0]])
        var explicit: JSON = ["updateStrategy": ["type": "RollingUpdate"]]
        WorkloadStrategy.defaultUpdateStrategy(
            &explicit, field: "updateStrategy", rollingUpdate: ["partition": 0], onlyIfTypeWasEmpty: true)
        XCTAssertEqual(explicit["updateStrategy"], ["type": "RollingUpdate"])
        var onDelete: JSON = ["updateStrategy": ["type": "OnDelete"]]
        WorkloadStrategy.defaultUpdateStrategy(
            &onDelete, field: "updateStrategy", rollingUpdate: ["maxUnavailable": 1, "maxSurge": 0])
        XCTAssertEqual(onDelete["updateStrategy"], ["type": "OnDelete"])
    }

    func testADeploymentCreatedWithAnEmptyStrategyIsStoredWithUpstreamsDefaults() async throws {
        let server = APIServer(storage: MemoryStore(), configuration: APIServer.Configuration())
        try await server.bootstrap(advertiseAddress: "127.0.0.1", securePort: 6443)
        let admin = UserInfo(name: "admin", uid: "u-1", groups: ["system:masters", "system:authenticated"])
        // The body `kubectl create deployment web --image=nginx` sends.
        let body: JSON = [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web", "labels": ["app": "web"]],
            "spec": [
                "replicas": 1, "selector": ["matchLabels": ["app": "web"]], "strategy": [:],
                "template": [
                    "metadata": ["labels": ["app": "web"]],
                    "spec": ["containers": [["name": "nginx", "image": "nginx", "resources": [:]]]],
                ],
            ],
        ]
        let response = await server.respond(
            to: HTTPRequest(
                method: .POST, uri: "/apis/apps/v1/namespaces/default/deployments",
                headers: ["Content-Type": "application/json"], body: body.encoded(), user: admin,
                remoteAddress: "127.0.0.9"))
        XCTAssertEqual(response.status.code, 201)
        guard case .bytes(let bytes) = response.body else { return XCTFail("no body") }
        XCTAssertEqual(
            try JSON.parse(bytes)["spec"]?["strategy"],
            ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": "25%", "maxSurge": "25%"]])
    }
}
