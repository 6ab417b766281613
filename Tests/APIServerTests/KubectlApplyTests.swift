import TestSupport
import Foundation
import XCTest

/// kubectl's client-side apply, label, annotate, set image, diff, edit, scale and rollout restart (strategic merge
/// and merge patches), and `kubectl apply --server-side` with field managers and conflicts.
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

    func workload(_ name: String, replicas: Int) -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: \(name), namespace: default}
        spec:
          replicas: \(replicas)
          selector: {matchLabels: {app: \(name)}}
          template:
            metadata: {labels: {app: \(name)}}
            spec:
              containers: [{name: main, image: nginx:1.25}]

        """
    }

    func testServerSideApplyConflictsThenForceWins() throws {
        XCTAssertEqual(
            expectSuccess(
                try cluster.kubectl(
                    ["apply", "--server-side", "--field-manager=alpha", "-f", "-"], input: workload("ssa", replicas: 2))
            ),
            "deployment.apps/ssa serverside-applied\n")
        XCTAssertEqual(
            expectSuccess(
                try cluster.kubectl(
                    ["apply", "--server-side", "--field-manager=alpha", "-f", "-"], input: workload("ssa", replicas: 2))
            ),
            "deployment.apps/ssa serverside-applied\n")
        let conflict = try cluster.kubectl(
            ["apply", "--server-side", "--field-manager=beta", "-f", "-"], input: workload("ssa", replicas: 5))
        XCTAssertNotEqual(conflict.status, 0)
        XCTAssertTrue(
            conflict.stderr.hasPrefix(
                "error: Apply failed with 1 conflict: conflict with \"alpha\": .spec.replicas\n"
                    + "Please review the fields above--they currently have other managers."),
            conflict.stderr)
        XCTAssertEqual(
            expectSuccess(
                try cluster.kubectl(
                    ["apply", "--server-side", "--field-manager=beta", "--force-conflicts", "-f", "-"],
                    input: workload("ssa", replicas: 5))),
            "deployment.apps/ssa serverside-applied\n")
        XCTAssertEqual(
            expectSuccess(
                try cluster.kubectl([
                    "get", "deployment", "ssa", "-o",
                    "jsonpath={.spec.replicas} {.metadata.managedFields[*].manager} {.metadata.managedFields[*].operation}",
                ])),
            "5 alpha beta Apply Apply")
    }

    func testDiffEditScaleAndRolloutRestart() throws {
        expectSuccess(try cluster.kubectl(["apply", "-f", "-"], input: workload("ops", replicas: 1)))

        let unchanged = try cluster.kubectl(["diff", "-f", "-"], input: workload("ops", replicas: 1))
        XCTAssertEqual(unchanged.status, 0, unchanged.stderr)
        XCTAssertEqual(unchanged.stdout, "")
        let diff = try cluster.kubectl(["diff", "-f", "-"], input: workload("ops", replicas: 4))
        XCTAssertEqual(diff.status, 1, diff.stderr)
        XCTAssertTrue(diff.stdout.contains("-  replicas: 1\n+  replicas: 4\n"), diff.stdout)
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl(["get", "deployment", "ops", "-o", "jsonpath={.spec.replicas}"])), "1",
            "diff is a dry run")

        let editor = try cluster.directory.appendingPathComponent("editor.sh")
        try "#!/bin/sh\nsed -i 's/image: nginx:1.25/image: nginx:1.27/' \"$1\"\n".write(
            to: editor, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: editor.path)
        XCTAssertEqual(
            expectSuccess(
                try cluster.kubectl(["edit", "deployment", "ops"], environment: ["EDITOR": editor.path])),
            "deployment.apps/ops edited\n")

        XCTAssertEqual(
            expectSuccess(try cluster.kubectl("scale deployment ops --replicas=3")), "deployment.apps/ops scaled\n")
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl("rollout restart deployment ops")), "deployment.apps/ops restarted\n")
        let state = expectSuccess(
            try cluster.kubectl([
                "get", "deployment", "ops", "-o",
                "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image} {.spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}",
            ]))
        let parts = state.split(separator: " ")
        XCTAssertEqual(parts.prefix(2).joined(separator: " "), "3 nginx:1.27", state)
        XCTAssertEqual(parts.count, 3, state)
        XCTAssertTrue(parts.last?.hasPrefix("20") == true, "restartedAt is a timestamp: \(state)")

        let managers = expectSuccess(
            try cluster.kubectl([
                "get", "deployment", "ops", "-o",
                "jsonpath={range .metadata.managedFields[*]}{.manager}/{.operation}/{.subresource};{end}",
            ]))
        for manager in ["kubectl-client-side-apply/Update/", "kubectl-edit/Update/", "kubectl-rollout/Update/"] {
            XCTAssertTrue(managers.contains(manager), "\(manager) in \(managers)")
        }
        XCTAssertTrue(managers.contains("/Update/scale"), managers)
    }

    func testClientSideToServerSideApplyMigratesOwnership() throws {
        func configMap(_ data: String) -> String {
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: mig, namespace: default}\ndata: {\(data)}\n"
        }
        expectSuccess(try cluster.kubectl(["apply", "-f", "-"], input: configMap("one: '1', two: '2'")))
        XCTAssertEqual(
            expectSuccess(
                try cluster.kubectl(["apply", "--server-side", "-f", "-"], input: configMap("one: '1', two: '2'"))),
            "configmap/mig serverside-applied\n")
        // kubectl moved the client-side apply manager's fields to its own Apply entries.
        XCTAssertEqual(
            expectSuccess(
                try cluster.kubectl([
                    "get", "configmap", "mig", "-o",
                    "jsonpath={range .metadata.managedFields[*]}{.manager}/{.operation};{end}",
                ])),
            "kubectl/Apply;kubectl-last-applied/Apply;")
        expectSuccess(
            try cluster.kubectl(["apply", "--server-side", "-f", "-"], input: configMap("one: '1', three: '3'")))
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl(["get", "configmap", "mig", "-o", "jsonpath={.data}"])),
            #"{"one":"1","three":"3"}"#)
    }
}
