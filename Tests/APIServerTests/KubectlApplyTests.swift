import Foundation
import XCTest

/// kubectl's client-side apply, label, annotate and set image, which send strategic merge patches.
final class KubectlApplyTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.30" }

    func deployment(image: String, replicas: Int, sidecarPort: Int?) -> String {
        var manifest = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web, namespace: default}
            spec:
              replicas: \(replicas)
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  containers:
                  - name: web
                    image: \(image)
                    env: [{name: MODE, value: fast}]
                  - name: sidecar
                    image: busybox:1.36
            """
        if let sidecarPort { manifest += "\n        ports: [{containerPort: \(sidecarPort)}]" }
        return manifest + "\n"
    }

    func testApplyCreatesLeavesUnchangedAndConfigures() throws {
        XCTAssertEqual(
            expectSuccess(
                try cluster.kubectl(
                    ["apply", "-f", "-"], input: deployment(image: "nginx:1.25", replicas: 1, sidecarPort: 9000))),
            "deployment.apps/web created\n")
        XCTAssertEqual(
            expectSuccess(
                try cluster.kubectl(
                    ["apply", "-f", "-"], input: deployment(image: "nginx:1.25", replicas: 1, sidecarPort: 9000))),
            "deployment.apps/web unchanged\n")
        XCTAssertEqual(
            expectSuccess(
                try cluster.kubectl(
                    ["apply", "-f", "-"], input: deployment(image: "nginx:1.26", replicas: 3, sidecarPort: nil))),
            "deployment.apps/web configured\n")
        let spec = expectSuccess(
            try cluster.kubectl([
                "get", "deployment", "web", "-o",
                "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].env[0].value} {.spec.template.spec.containers[1].image} [{.spec.template.spec.containers[1].ports}]",
            ]))
        XCTAssertEqual(spec, "3 nginx:1.26 fast busybox:1.36 []")
    }

    func testLabelAnnotateAndSetImage() throws {
        expectSuccess(
            try cluster.kubectl(
                ["create", "-f", "-"],
                input:
                    "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default}\nspec: {containers: [{name: a, image: busybox:1.35}, {name: b, image: busybox:1.35}]}\n"
            ))
        XCTAssertEqual(expectSuccess(try cluster.kubectl("label pod p tier=web")), "pod/p labeled\n")
        XCTAssertEqual(expectSuccess(try cluster.kubectl("annotate pod p note=hello")), "pod/p annotated\n")
        XCTAssertEqual(expectSuccess(try cluster.kubectl("label pod p tier-")), "pod/p unlabeled\n")
        XCTAssertEqual(expectSuccess(try cluster.kubectl("set image pod/p b=busybox:1.36")), "pod/p image updated\n")
        XCTAssertEqual(
            expectSuccess(
                try cluster.kubectl([
                    "get", "pod", "p", "-o",
                    "jsonpath={.metadata.labels.tier}|{.metadata.annotations.note}|{.spec.containers[*].image}",
                ])),
            "|hello|busybox:1.35 busybox:1.36")
    }
}
