import Foundation
import TestSupport
import XCTest

/// The pages in a real browser: Debian's headless Chromium loads them through `kubectl proxy` from a real
/// `kube-apiserver --enable-swagger-ui=true --authorization-mode=Node,RBAC`, and what it renders must show what
/// the cluster holds, follow changes without a reload, and show a user only what RBAC lets them read.
/// Screenshots of both pages are left in `screenshotDirectory` for people to look at.
final class SwaggerUIBrowserTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.98" }
    override class var extraFlags: [String] { ["--enable-swagger-ui=true", "--authorization-mode=Node,RBAC"] }

    static let screenshotDirectory = FileManager.default.temporaryDirectory.appendingPathComponent(
        "kubeswift-swagger-ui-screenshots")

    override class func clusterStarted(_ cluster: TestCluster) throws {
        let now = ISO8601DateFormatter().string(from: Date())
        let renewTime = now.replacingOccurrences(of: "Z", with: ".000000Z")
        // A stream of objects, not a List: kubectl validates each kind against /openapi/v3 (a List needs v2's protobuf).
        let objects = [
            #"{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}"#,
            #"{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "vault"}}"#,
            #"{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-a"}}"#,
            #"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "prices", "namespace": "shop"}}"#,
            #"""
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"},
             "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
               "template": {"metadata": {"labels": {"app": "web"}},
                 "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}
            """#,
            #"""
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop"},
             "spec": {"containers": [{"name": "web", "image": "nginx"}]}}
            """#,
            #"""
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "hidden-1", "namespace": "vault"},
             "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
            """#,
            """
            {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "web-1.backoff", "namespace": "shop"},
             "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "shop"}, "type": "Warning",
             "reason": "BackOff", "message": "Back-off restarting failed container web", "count": 4,
             "firstTimestamp": "\(now)", "lastTimestamp": "\(now)"}
            """,
            """
            {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": "kube-scheduler", "namespace": "kube-system"},
             "spec": {"holderIdentity": "master-1_3f2a", "leaseDurationSeconds": 3600, "renewTime": "\(renewTime)"}}
            """,
            #"""
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
             "metadata": {"name": "pod-reader", "namespace": "shop"},
             "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]}
            """#,
            #"""
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
             "metadata": {"name": "jane-pod-reader", "namespace": "shop"},
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
             "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "jane"}]}
            """#,
        ].joined(separator: "\n")
        let created = try cluster.kubectl(["create", "-f", "-"], input: objects)
        guard created.status == 0 else { throw TestClusterError("creating the objects failed: \(created.stderr)") }
        try setNodeReady(cluster, "True")
    }

    static func setNodeReady(_ cluster: TestCluster, _ status: String) throws {
        let now = ISO8601DateFormatter().string(from: Date())
        let patch = """
            {"status": {"conditions": [
              {"type": "Ready", "status": "\(status)", "reason": "KubeletReady", "lastHeartbeatTime": "\(now)",
               "lastTransitionTime": "\(now)"},
              {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory",
               "lastHeartbeatTime": "\(now)", "lastTransitionTime": "\(now)"}],
             "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
             "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"}}}
            """
        let patched = try cluster.kubectl(
            ["patch", "node", "node-a", "--subresource=status", "--type=merge", "-p", patch])
        guard patched.status == 0 else { throw TestClusterError("patching node-a failed: \(patched.stderr)") }
    }

    func profile() throws -> URL {
        let directory = try cluster.directory.appendingPathComponent("chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    func screenshotFile(_ name: String) throws -> URL {
        try FileManager.default.createDirectory(at: Self.screenshotDirectory, withIntermediateDirectories: true)
        return Self.screenshotDirectory.appendingPathComponent(name)
    }

    override func setUpWithError() throws {
        try XCTSkipUnless(HeadlessChromium.isInstalled, "chromium is not installed (apt-get install -y chromium)")
        // clusterStarted's errors are only logged by the base class: make a failed setup fail here.
        let prepared = try cluster.kubectl(["get", "rolebinding", "jane-pod-reader", "-n", "shop", "-o", "name"])
        XCTAssertEqual(prepared.status, 0, "the test objects were not created: \(prepared.stderr)")
    }

    func testTheExplorerListsDiscoveryAndShowsADeepLinkedSchema() throws {
        let cluster = try cluster
        let proxy = try KubectlProxy(kubeconfig: cluster.kubeconfig, address: cluster.address)
        let profile = try profile()
        let dom = try HeadlessChromium.dumpDOM(proxy.url("/swagger-ui/#/apis/apps/v1/deployments"), profile: profile)
        // The sidebar comes from discovery: core and named groups, their resources and kinds.
        XCTAssertTrue(dom.contains("data-group-version=\"apps/v1\""), dom)
        XCTAssertTrue(dom.contains("<a href=\"#/apis/apps/v1/deployments\" class=\"selected\">deployments</a>"), dom)
        XCTAssertTrue(dom.contains("<a href=\"#/api/v1/configmaps\">configmaps</a>"))
        XCTAssertTrue(dom.contains("<a href=\"#/apis/coordination.k8s.io/v1/leases\">leases</a>"))
        XCTAssertTrue(dom.contains("server v1.32.0-kubeswift"))
        // The deep-linked resource: its facts and its schema from /openapi/v3/apis/apps/v1, spec opened lazily.
        XCTAssertTrue(dom.contains("apps/v1 · Deployment"), dom)
        XCTAssertTrue(dom.contains("io.k8s.api.apps.v1.Deployment"), dom)
        XCTAssertTrue(dom.contains("<span class=\"field\">spec</span><span class=\"type\">DeploymentSpec</span>"), dom)
        XCTAssertTrue(dom.contains("<span class=\"field\">metadata</span><span class=\"type\">ObjectMeta</span>"))
        XCTAssertFalse(dom.contains("Discovery failed"))
        try chromiumScreenshot(proxy.url("/swagger-ui/#/apis/apps/v1/deployments"), to: screenshotFile("explorer.png"))
    }

    /// The command-line screenshot, as a person would take it of a page that settles.
    func chromiumScreenshot(_ url: String, to file: URL) throws {
        let output = try TestCluster.run(
            HeadlessChromium.path,
            HeadlessChromium.commonArguments(profile: try profile()) + [
                "--screenshot=\(file.path)", "--virtual-time-budget=10000", url,
            ])
        XCTAssertEqual(output.status, 0, output.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: file.path))
    }

    func testTheExplorerTriesListGetAndWatchWithTheUsersCredentials() throws {
        let cluster = try cluster
        let proxy = try KubectlProxy(kubeconfig: cluster.kubeconfig, address: cluster.address)
        let page = try ChromiumPage(url: proxy.url("/swagger-ui/#/api/v1/configmaps"), profile: profile())
        try page.waitForText("#detail", containing: ["Try it", "Schema"])

        try page.evaluate("(document.getElementById('try-namespace').value = 'shop')")
        try page.evaluate("document.getElementById('try-run').click()")
        let list = try page.waitForText("#try-output", containing: ["200 OK", "\"prices\""])
        XCTAssertTrue(list.contains("GET /api/v1/namespaces/shop/configmaps?limit=50"), list)

        try page.evaluate("(document.getElementById('try-verb').value = 'get')")
        try page.evaluate("(document.getElementById('try-name').value = 'nope')")
        try page.evaluate("document.getElementById('try-run').click()")
        try page.waitForText("#try-output", containing: ["404 Not Found", "configmaps \\\"nope\\\" not found"])

        try page.evaluate("(document.getElementById('try-verb').value = 'watch')")
        try page.evaluate("(document.querySelector('input[name=seconds]').value = '2')")
        try page.evaluate("document.getElementById('try-run').click()")
        let watch = try page.waitForText("#try-output", containing: ["ADDED shop/prices", "Watch ended after"])
        XCTAssertTrue(watch.contains("GET /api/v1/namespaces/shop/configmaps?watch=1&timeoutSeconds=2"), watch)
    }

    func testTheOverviewShowsTheClusterAndFollowsANodeFailureAndARollout() throws {
        let cluster = try cluster
        let proxy = try KubectlProxy(kubeconfig: cluster.kubeconfig, address: cluster.address)
        let page = try ChromiumPage(url: proxy.url("/ui/"), profile: profile())
        try page.waitForText("#nodes", containing: ["node-a", "Ready", "MemoryPressure=False", "8Gi", "live"])
        try page.waitForText("#namespaces", containing: ["shop", "vault", "kube-system"])
        try page.waitForText("[data-workload='Deployment/shop/web']", containing: ["0/3", "progressing"])
        try page.waitForText("#pods", containing: ["web-1", "hidden-1", "Pending: 2"])
        try page.waitForText(
            "#events", containing: ["BackOff", "Back-off restarting failed container web", "pod/web-1"])
        try page.waitForText(
            "#control-plane", containing: ["kube-scheduler", "master-1_3f2a", "kube-controller-manager", "no leader"])
        try page.waitForText("[data-check='etcd']", containing: ["ok"])

        // A node failure and a rollout arrive by watch, with no reload.
        try Self.setNodeReady(cluster, "False")
        try page.waitForText("[data-node='node-a']", containing: ["NotReady", "Ready=False"])
        try page.waitForText("#summary-nodes", containing: ["0/1"])
        let rolledOut = try cluster.kubectl([
            "patch", "deployment", "web", "-n", "shop", "--subresource=status", "--type=merge", "-p",
            #"{"status": {"replicas": 3, "readyReplicas": 3, "updatedReplicas": 3, "availableReplicas": 3}}"#,
        ])
        XCTAssertEqual(rolledOut.status, 0, rolledOut.stderr)
        try page.waitForText("[data-workload='Deployment/shop/web']", containing: ["3/3", "ready"])
        try Self.setNodeReady(cluster, "True")
        try page.waitForText("[data-node='node-a']", containing: ["Ready=True"])
        try page.screenshot(to: screenshotFile("overview.png"))
    }

    func testAUserWhoMayReadOnlyPodsInOneNamespaceSeesOnlyThose() throws {
        let cluster = try cluster
        let kubeconfig = try cluster.kubeconfig(forUser: "jane")
        // The RBAC cache follows storage by watch: wait until the binding counts.
        var allowed = ""
        for _ in 0..<100 where allowed != "yes" {
            allowed = try TestCluster.run(
                TestCluster.kubectlPath, ["--kubeconfig=\(kubeconfig)", "auth", "can-i", "list", "pods", "-n", "shop"]
            ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            if allowed != "yes" { Thread.sleep(forTimeInterval: 0.05) }
        }
        XCTAssertEqual(allowed, "yes")
        let proxy = try KubectlProxy(kubeconfig: kubeconfig, address: cluster.address)
        let page = try ChromiumPage(url: proxy.url("/ui/?namespace=shop"), profile: profile())
        try page.waitForText("#pods", containing: ["web-1", "live"])
        try page.waitForText("#nodes", containing: [#"User "jane" cannot list resource "nodes""#])
        try page.waitForText("#workloads", containing: ["deployments.apps is forbidden"])
        let text = try page.evaluate("document.body.innerText")
        XCTAssertFalse(text.contains("node-a"), text)
        XCTAssertFalse(text.contains("hidden-1"), text)
        XCTAssertFalse(text.contains("master-1_3f2a"), text)
        // The page's own files were served to jane, an authenticated user with no rule for them.
        XCTAssertEqual(try page.evaluate("document.title"), "KubeSwift cluster overview")
        // Across all namespaces jane is refused, and told how to narrow the page.
        let everywhere = try ChromiumPage(url: proxy.url("/ui/"), profile: profile())
        try everywhere.waitForText(
            "#pods", containing: [#"User "jane" cannot list resource "pods""#, "name a namespace above"])
    }
}
