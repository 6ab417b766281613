import Foundation
import TestSupport
import XCTest

/// kubectl 1.32 against a real kube-apiserver over TLS with client certificates: output and error texts
/// are compared with what upstream prints.
final class KubectlEndToEndTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.21" }

    func namespace(_ name: String) throws {
        expectSuccess(try cluster.kubectl(["create", "namespace", name, "--validate=false"]))
    }

    func testBootstrapNamespacesAndKubernetesService() throws {
        let namespaces = expectSuccess(try cluster.kubectl("get namespaces -o jsonpath={.items[*].metadata.name}"))
        XCTAssertEqual(namespaces, "default kube-node-lease kube-public kube-system")
        let service = expectSuccess(try cluster.kubectl("get service kubernetes -o jsonpath={.spec.clusterIP}"))
        XCTAssertEqual(service, "10.254.0.1")
        let endpoints = expectSuccess(
            try cluster.kubectl("get endpoints kubernetes -o jsonpath={.subsets[0].addresses[0].ip}"))
        XCTAssertEqual(endpoints, "127.0.0.21")
    }

    func testCreateGetDescribeDeleteSeveralKinds() throws {
        try namespace("e2e-kinds")
        let manifest = """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: settings, namespace: e2e-kinds, labels: {app: web}}
            data: {mode: fast, level: "3"}
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: creds, namespace: e2e-kinds}
            stringData: {password: hunter2}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web, namespace: e2e-kinds, labels: {app: web}}
            spec:
              replicas: 2
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  containers: [{name: nginx, image: "nginx:1.25", ports: [{containerPort: 80}]}]
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: box, namespace: e2e-kinds, labels: {app: web, tier: tools}}
            spec:
              containers: [{name: c, image: busybox}]
            """
        let created = expectSuccess(try cluster.kubectl(["create", "-f", "-"], input: manifest))
        XCTAssertEqual(
            created, "configmap/settings created\nsecret/creds created\ndeployment.apps/web created\npod/box created\n")

        let configMaps = expectSuccess(try cluster.kubectl("get configmaps settings -n e2e-kinds"))
        XCTAssertTrue(configMaps.hasPrefix("NAME       DATA   AGE\nsettings   2      "), configMaps)
        let deployments = expectSuccess(try cluster.kubectl("get deploy -n e2e-kinds -o wide"))
        let header = deployments.split(separator: "\n").first.map(String.init) ?? ""
        XCTAssertEqual(
            header.split(separator: " ", omittingEmptySubsequences: true),
            ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"])
        XCTAssertTrue(deployments.contains("nginx:1.25"), deployments)
        let pods = expectSuccess(try cluster.kubectl("get pods -n e2e-kinds"))
        XCTAssertTrue(
            pods.hasPrefix("NAME   READY   STATUS    RESTARTS   AGE\nbox    0/1     Pending   0          "), pods)

        // Defaults applied by the server, visible in -o json.
        let json =
            try JSONSerialization.jsonObject(
                with: Data(expectSuccess(try cluster.kubectl("get deployment web -n e2e-kinds -o json")).utf8))
            as? [String: Any]
        let spec = json?["spec"] as? [String: Any]
        XCTAssertEqual(spec?["revisionHistoryLimit"] as? Int, 10)
        XCTAssertEqual((spec?["strategy"] as? [String: Any])?["type"] as? String, "RollingUpdate")
        XCTAssertEqual((json?["metadata"] as? [String: Any])?["generation"] as? Int, 1)
        let secret = expectSuccess(
            try cluster.kubectl("get secret creds -n e2e-kinds -o jsonpath={.type}/{.data.password}"))
        XCTAssertEqual(secret, "Opaque/aHVudGVyMg==")
        let yaml = expectSuccess(try cluster.kubectl("get pod box -n e2e-kinds -o yaml"))
        XCTAssertTrue(yaml.contains("restartPolicy: Always"), yaml)
        XCTAssertTrue(yaml.contains("dnsPolicy: ClusterFirst"), yaml)
        XCTAssertTrue(yaml.contains("terminationGracePeriodSeconds: 30"), yaml)
        XCTAssertTrue(yaml.contains("imagePullPolicy: Always"), yaml)

        let described = expectSuccess(try cluster.kubectl("describe configmap settings -n e2e-kinds"))
        XCTAssertTrue(described.contains("Name:         settings"), described)
        XCTAssertTrue(described.contains("Labels:       app=web"), described)

        XCTAssertEqual(
            expectSuccess(try cluster.kubectl("get pods -n e2e-kinds -l tier=tools -o name")), "pod/box\n")
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl("get pods -n e2e-kinds -l tier!=tools -o name")), "")
        XCTAssertEqual(
            expectSuccess(
                try cluster.kubectl([
                    "get", "pods", "-n", "e2e-kinds", "--field-selector", "status.phase=Pending", "-o", "name",
                ])),
            "pod/box\n")
        expectFailure(
            try cluster.kubectl(["get", "pods", "-n", "e2e-kinds", "--field-selector", "spec.bogus=x"]),
            "Error from server (BadRequest): Unable to find \"/v1, Resource=pods\" that match label selector \"\", field selector \"spec.bogus=x\": field label not supported: spec.bogus"
        )

        XCTAssertEqual(
            expectSuccess(try cluster.kubectl("delete configmap settings -n e2e-kinds")),
            "configmap \"settings\" deleted\n")
        expectFailure(
            try cluster.kubectl("get configmap settings -n e2e-kinds"),
            "Error from server (NotFound): configmaps \"settings\" not found")
    }

    func testErrorMessagesMatchUpstream() throws {
        try namespace("e2e-errors")
        let configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dup, namespace: e2e-errors}\n"
        expectSuccess(try cluster.kubectl(["create", "-f", "-"], input: configMap))
        expectFailure(
            try cluster.kubectl(["create", "-f", "-"], input: configMap),
            "Error from server (AlreadyExists): error when creating \"STDIN\": configmaps \"dup\" already exists")
        expectFailure(
            try cluster.kubectl("get deployment nope -n e2e-errors"),
            "Error from server (NotFound): deployments.apps \"nope\" not found")
        expectFailure(
            try cluster.kubectl(
                ["create", "-f", "-"],
                input: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name, namespace: e2e-errors}\n"),
            "The ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        )
        expectFailure(
            try cluster.kubectl(
                ["create", "-f", "-"],
                input:
                    "apiVersion: v1\nkind: Pod\nmetadata: {name: empty, namespace: e2e-errors}\nspec: {containers: []}\n"
            ),
            "The Pod \"empty\" is invalid: spec.containers: Required value")
        expectFailure(
            try cluster.kubectl(
                "get configmaps -n e2e-missing-namespace-does-not-matter -o name --field-selector metadata.name=x,bad"),
            "Error from server (BadRequest): Unable to find \"/v1, Resource=configmaps\" that match label selector \"\", field selector \"metadata.name=x,bad\": invalid selector: 'metadata.name=x,bad'; can't understand 'bad'"
        )
        expectFailure(
            try cluster.kubectl("delete namespace kube-system"),
            "Error from server (Forbidden): namespaces \"kube-system\" is forbidden: this namespace may not be deleted")
    }

    func testReplaceWithStaleResourceVersionConflicts() throws {
        try namespace("e2e-replace")
        expectSuccess(
            try cluster.kubectl([
                "create", "configmap", "c", "-n", "e2e-replace", "--from-literal=a=1", "--dry-run=client", "-o", "yaml",
            ]))
        expectSuccess(
            try cluster.kubectl(
                ["create", "-f", "-"],
                input:
                    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: e2e-replace}\ndata: {a: \"1\"}\n"))
        let stale = expectSuccess(try cluster.kubectl("get configmap c -n e2e-replace -o yaml"))
        expectSuccess(
            try cluster.kubectl([
                "patch", "configmap", "c", "-n", "e2e-replace", "--type=merge", "-p", #"{"data":{"a":"2"}}"#,
            ]))
        expectFailure(
            try cluster.kubectl(["replace", "-f", "-"], input: stale),
            "Error from server (Conflict): error when replacing \"STDIN\": Operation cannot be fulfilled on configmaps \"c\": the object has been modified; please apply your changes to the latest version and try again"
        )
        XCTAssertEqual(expectSuccess(try cluster.kubectl("get configmap c -n e2e-replace -o jsonpath={.data.a}")), "2")
    }

    func testPatchTypes() throws {
        try namespace("e2e-patch")
        expectSuccess(
            try cluster.kubectl(
                ["create", "-f", "-"],
                input:
                    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: p, namespace: e2e-patch}\ndata: {a: \"1\", b: \"2\"}\n"
            ))
        XCTAssertEqual(
            expectSuccess(
                try cluster.kubectl([
                    "patch", "configmap", "p", "-n", "e2e-patch", "--type=merge", "-p", #"{"data":{"b":null,"c":"3"}}"#,
                ])),
            "configmap/p patched\n")
        XCTAssertEqual(
            expectSuccess(
                try cluster.kubectl([
                    "patch", "configmap", "p", "-n", "e2e-patch", "--type=json", "-p",
                    #"[{"op":"replace","path":"/data/a","value":"9"}]"#,
                ])),
            "configmap/p patched\n")
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl(["get", "configmap", "p", "-n", "e2e-patch", "-o", "jsonpath={.data}"])),
            #"{"a":"9","c":"3"}"#)
        // Leases are created by PUT when missing, but a PATCH of a missing one is 404, as upstream.
        expectFailure(
            try cluster.kubectl(["patch", "lease", "nope", "-n", "e2e-patch", "--type=merge", "-p", "{}"]),
            "Error from server (NotFound): leases.coordination.k8s.io \"nope\" not found")
        let failed = try cluster.kubectl([
            "patch", "configmap", "p", "-n", "e2e-patch", "--type=json", "-p", #"[{"op":"remove","path":"/data/zzz"}]"#,
        ])
        XCTAssertNotEqual(failed.status, 0)
        XCTAssertTrue(failed.stderr.contains("missing path"), failed.stderr)
    }

    func testWatchSeesAddedModifiedDeleted() throws {
        try namespace("e2e-watch")
        let cluster = try cluster
        let watcher = Process()
        watcher.executableURL = URL(fileURLWithPath: TestCluster.kubectlPath)
        watcher.arguments = [
            "--kubeconfig=\(cluster.kubeconfig)", "get", "configmaps", "-n", "e2e-watch", "-w", "--output-watch-events",
            "--request-timeout=20s",
        ]
        let output = Pipe()
        watcher.standardOutput = output
        try watcher.run()
        Thread.sleep(forTimeInterval: 1.0)
        expectSuccess(
            try cluster.kubectl(
                ["create", "-f", "-"],
                input: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: w, namespace: e2e-watch}\n"))
        expectSuccess(
            try cluster.kubectl([
                "patch", "configmap", "w", "-n", "e2e-watch", "--type=merge", "-p", #"{"data":{"x":"1"}}"#,
            ]))
        expectSuccess(try cluster.kubectl("delete configmap w -n e2e-watch"))
        Thread.sleep(forTimeInterval: 1.0)
        watcher.terminate()
        watcher.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        // Every namespace also gets kube-root-ca.crt, possibly while the watch runs.
        let events = text.split(separator: "\n").map {
            $0.split(separator: " ", omittingEmptySubsequences: true).prefix(3).joined(separator: " ")
        }.filter { !$0.contains("kube-root-ca.crt") }
        XCTAssertEqual(events, ["EVENT NAME DATA", "ADDED w 0", "MODIFIED w 1", "DELETED w 1"], text)
    }

    func testChunkedListsAndDryRun() throws {
        try namespace("e2e-chunks")
        var manifest = ""
        for index in 0..<7 {
            manifest += "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c\(index), namespace: e2e-chunks}\n"
        }
        expectSuccess(try cluster.kubectl(["create", "-f", "-"], input: manifest))
        let names = expectSuccess(try cluster.kubectl("get configmaps -n e2e-chunks --chunk-size=2 -o name"))
        XCTAssertEqual(names, (0..<7).map { "configmap/c\($0)\n" }.joined() + "configmap/kube-root-ca.crt\n")
        XCTAssertEqual(
            expectSuccess(
                try cluster.kubectl(
                    ["create", "-f", "-", "--dry-run=server"],
                    input: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dry, namespace: e2e-chunks}\n")),
            "configmap/dry created (server dry run)\n")
        expectFailure(
            try cluster.kubectl("get configmap dry -n e2e-chunks"),
            "Error from server (NotFound): configmaps \"dry\" not found")
        // kubectl sends a delete's dryRun in the DeleteOptions body, not the query.
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl("delete configmap c0 -n e2e-chunks --dry-run=server")),
            "configmap \"c0\" deleted (server dry run)\n")
        expectSuccess(try cluster.kubectl("get configmap c0 -n e2e-chunks"))
    }

    func testAPIResourcesAndExplain() throws {
        let resources = expectSuccess(try cluster.kubectl("api-resources"))
        XCTAssertTrue(
            resources.contains(
                "deployments                       deploy       apps/v1                        true         Deployment")
                || resources.contains("deploy"), resources)
        for line in [
            "pods", "services", "leases", "clusterrolebindings", "endpointslices", "poddisruptionbudgets", "cronjobs",
        ] {
            XCTAssertTrue(resources.split(separator: "\n").contains { $0.hasPrefix(line + " ") }, line)
        }
        let explained = expectSuccess(try cluster.kubectl("explain pods.spec.containers"))
        XCTAssertTrue(explained.contains("KIND:       Pod"), explained)
        XCTAssertTrue(explained.contains("FIELD: containers <[]Container>"), explained)
        XCTAssertTrue(
            explained.contains("image\t<string>") || explained.contains("image <string>")
                || explained.contains("image"), explained)
    }

    func testStrictFieldValidationRejectsUnknownFields() throws {
        try namespace("e2e-fields")
        expectFailure(
            try cluster.kubectl(
                ["create", "-f", "-"],
                input: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: f, namespace: e2e-fields}\nbogus: 1\n"),
            "Error from server (BadRequest): error when creating \"STDIN\": ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"bogus\""
        )
        expectSuccess(
            try cluster.kubectl(
                ["create", "-f", "-", "--validate=false"],
                input: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: f, namespace: e2e-fields}\nbogus: 1\n"))
        XCTAssertEqual(expectSuccess(try cluster.kubectl("get configmap f -n e2e-fields -o jsonpath={.bogus}")), "")
    }

    /// kubectl validates the items of a `kind: List` against `/openapi/v2`, which it reads only in gnostic protobuf.
    func testListItemsAreCreatedAndValidatedAgainstTheOpenAPIV2Document() throws {
        try namespace("e2e-list")
        let list = """
            apiVersion: v1
            kind: List
            items:
            - {apiVersion: v1, kind: ConfigMap, metadata: {name: one, namespace: e2e-list}, data: {x: "1"}}
            - {apiVersion: v1, kind: ConfigMap, metadata: {name: two, namespace: e2e-list}}
            """
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl(["create", "-f", "-"], input: list)),
            "configmap/one created\nconfigmap/two created\n")
        expectFailure(
            try cluster.kubectl(
                ["create", "-f", "-"],
                input: "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, "
                    + "metadata: {name: three, namespace: e2e-list}, datax: {}}\n"),
            "error: error validating \"STDIN\": error validating data: ValidationError(ConfigMap): unknown field "
                + "\"datax\" in io.k8s.api.core.v1.ConfigMap; if you choose to ignore these errors, turn validation off "
                + "with --validate=false")
    }

    func testScaleSubresource() throws {
        try namespace("e2e-scale")
        expectSuccess(
            try cluster.kubectl(
                ["create", "deployment", "web", "-n", "e2e-scale", "--image=nginx:1.25", "--replicas=1"]))
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl("scale deployment web -n e2e-scale --replicas=4")),
            "deployment.apps/web scaled\n")
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl("get deployment web -n e2e-scale -o jsonpath={.spec.replicas}")), "4")
        let scale = expectSuccess(
            try cluster.kubectl(["get", "--raw", "/apis/apps/v1/namespaces/e2e-scale/deployments/web/scale"]))
        XCTAssertTrue(scale.contains(#""kind":"Scale""#) && scale.contains(#""selector":"app=web""#), scale)
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl("get deployment web -n e2e-scale -o jsonpath={.metadata.generation}")),
            "2")
    }
}
