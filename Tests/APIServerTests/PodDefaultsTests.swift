import APIMachinery
import XCTest

@testable import APIServer

/// upstream's pod defaulting that admission depends on (requests from limits).
final class PodDefaultsTests: XCTestCase {
    func testRequestsDefaultToLimitsOnPodsOnly() throws {
        var pod: JSON = [
            "spec": [
                "containers": [
                    [
                        "name": "app", "image": "nginx:1.27",
                        "resources": ["limits": ["cpu": "500m", "memory": "128Mi"], "requests": ["cpu": "100m"]],
                    ],
                    ["name": "sidecar", "image": "busybox:1.36"],
                ],
                "initContainers": [["name": "init", "image": "busybox:1.36", "resources": ["limits": ["cpu": "1"]]]],
            ]
        ]
        PodStrategy().applyDefaults(&pod)
        let containers = try XCTUnwrap(pod["spec"]?["containers"]?.arrayValue)
        XCTAssertEqual(containers[0]["resources"]?["requests"], ["cpu": "100m", "memory": "128Mi"])
        XCTAssertEqual(containers[1]["resources"], .object(JSONObject()))
        XCTAssertEqual(
            pod["spec"]?["initContainers"]?.arrayValue?.first?["resources"]?["requests"], ["cpu": "1"])

        // A Deployment's pod template keeps what its author wrote.
        var template: JSON = ["containers": [["name": "app", "image": "nginx", "resources": ["limits": ["cpu": "1"]]]]]
        PodSpecRules.applyDefaults(&template)
        XCTAssertNil(template["containers"]?.arrayValue?.first?["resources"]?["requests"])
    }
}
