import APIMachinery
import XCTest

@testable import APIServer

/// Upstream's defaults the corpus's manifests do not reach: each case is one `SetDefaults_*` rule.
final class DefaultingCorpusEdgeCaseTests: XCTestCase {
    func testAJobGivenParallelismAloneKeepsNoCompletions() {
        var job: JSON = [
            "spec": ["parallelism": 3, "template": ["spec": ["containers": [["name": "c", "image": "x"]]]]]
        ]
        WorkloadStrategy(kind: .job).applyDefaults(&job)
        XCTAssertNil(job[path: "spec", "completions"])
        XCTAssertEqual(job[path: "spec", "parallelism"], 3)
        var plain: JSON = ["spec": ["template": ["spec": ["containers": [["name": "c", "image": "x"]]]]]]
        WorkloadStrategy(kind: .job).applyDefaults(&plain)
        XCTAssertEqual(plain[path: "spec", "completions"], 1)
        XCTAssertEqual(plain[path: "spec", "parallelism"], 1)
    }

    func testOnlyAnUnlabelledJobTakesItsTemplatesLabels() {
        var labelled: JSON = [
            "metadata": ["name": "pi", "labels": ["team": "a"]],
            "spec": [
                "template": [
                    "metadata": ["labels": ["app": "pi"]], "spec": ["containers": [["name": "c", "image": "x"]]],
                ]
            ],
        ]
        WorkloadStrategy(kind: .job).applyDefaults(&labelled)
        XCTAssertEqual(labelled[path: "metadata", "labels"], ["team": "a"])
    }

    func testHandlersVolumesAndHostPortsAreDefaultedAsUpstreamDoes() throws {
        var pod: JSON = [
            "spec": [
                "hostNetwork": true,
                "containers": [
                    [
                        "name": "c", "image": "x:1", "ports": [["containerPort": 8080]],
                        "livenessProbe": ["grpc": ["port": 9000], "periodSeconds": 0],
                        "lifecycle": ["postStart": ["httpGet": ["port": 80]]],
                    ]
                ],
                "volumes": [
                    ["name": "scratch"], ["name": "disk", "azureDisk": ["diskName": "d", "diskURI": "u"]],
                    [
                        "name": "claim",
                        "ephemeral": ["volumeClaimTemplate": ["spec": ["accessModes": ["ReadWriteOnce"]]]],
                    ],
                ],
            ]
        ]
        PodStrategy().applyDefaults(&pod)
        let container = try XCTUnwrap(pod[path: "spec", "containers"]?.arrayValue?.first)
        XCTAssertEqual(container["ports"]?.arrayValue?.first?["hostPort"], 8080)
        XCTAssertEqual(container[path: "livenessProbe", "grpc", "service"], "")
        XCTAssertEqual(container[path: "livenessProbe", "periodSeconds"], 10)
        XCTAssertEqual(
            container[path: "lifecycle", "postStart", "httpGet"], ["port": 80, "path": "/", "scheme": "HTTP"])
        let volumes = try XCTUnwrap(pod[path: "spec", "volumes"]?.arrayValue)
        XCTAssertEqual(volumes[0], ["name": "scratch", "emptyDir": [:]])
        XCTAssertEqual(volumes[1][path: "azureDisk", "cachingMode"], "ReadWrite")
        XCTAssertEqual(volumes[1][path: "azureDisk", "kind"], "Shared")
        XCTAssertEqual(volumes[2][path: "ephemeral", "volumeClaimTemplate", "spec", "volumeMode"], "Filesystem")

        // A template is not a pod: no service links, no host ports.
        var template: JSON = [
            "hostNetwork": true, "containers": [["name": "c", "image": "x", "ports": [["containerPort": 1]]]],
        ]
        PodSpecRules.applyDefaults(&template)
        XCTAssertNil(template["enableServiceLinks"])
        XCTAssertNil(template["containers"]?.arrayValue?.first?["ports"]?.arrayValue?.first?["hostPort"])
    }
}
