import APIMachinery
import Client
import Logging
import TestSupport
import XCTest

@testable import ControllerManager

/// The namespace controller against the in-process API server: a deletion pass empties a namespace of pods,
/// ConfigMaps, Secrets, Deployments and Leases, reports what a finalizer holds back in the namespace's
/// conditions, and a terminating namespace disappears.
final class NamespaceControllerTests: XCTestCase {
    private var harness: LifecycleHarness?

    override func tearDown() async throws {
        await harness?.stop()
        harness = nil
    }

    /// A namespace with two pods, three ConfigMaps (one held by a finalizer), a Secret, a Deployment and a Lease.
    private func populate(_ namespace: String, client: RESTClient) async throws {
        try await client.createNamespace(namespace)
        // Pods need the namespace's default service account, which the API server creates.
        let accounts = ResourceClient<ServiceAccount>(client: client, namespace: namespace)
        let account = try await LifecycleHarness.eventually { try await LifecycleHarness.find(accounts, "default") }
        XCTAssertNotNil(account)
        for name in ["web-1", "web-2"] {
            _ = try await client.postJSON(
                path: "/api/v1/namespaces/\(namespace)/pods",
                [
                    "apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name)],
                    "spec": ["containers": [["name": "web", "image": "nginx"]]],
                ])
        }
        let configMaps = ResourceClient<ConfigMap>(client: client, namespace: namespace)
        for name in ["settings", "flags"] {
            _ = try await configMaps.create(ConfigMap(metadata: ObjectMeta(name: name)))
        }
        _ = try await configMaps.create(ConfigMap(metadata: ObjectMeta(finalizers: ["example.com/hold"], name: "held")))
        _ = try await ResourceClient<Secret>(client: client, namespace: namespace).create(
            Secret(metadata: ObjectMeta(name: "token")))
        _ = try await client.postJSON(
            path: "/apis/apps/v1/namespaces/\(namespace)/deployments",
            [
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"],
                "spec": [
                    "selector": ["matchLabels": ["app": "web"]],
                    "template": [
                        "metadata": ["labels": ["app": "web"]],
                        "spec": ["containers": [["name": "web", "image": "nginx"]]],
                    ],
                ],
            ])
        _ = try await client.postJSON(
            path: "/apis/coordination.k8s.io/v1/namespaces/\(namespace)/leases",
            ["apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": ["name": "lock"]])
    }

    private func names(_ path: String, client: RESTClient) async throws -> [String] {
        try await client.getJSON(path: path)["items"]?.arrayValue?.compactMap(\.name).sorted() ?? []
    }

    private func condition(_ namespace: Namespace, _ type: String) -> String {
        let condition = namespace.status.conditions.first { $0.type == type }
        return "\(condition?.status ?? "") \(condition?.reason ?? ""): \(condition?.message ?? "")"
    }

    func testADeletionPassEmptiesTheNamespaceAndReportsWhatAFinalizerHolds() async throws {
        let client = try await LifecycleHarness.fastClient()
        defer { Task { await client.shutdown() } }
        let name = uniqueNamespace("ns-pass")
        try await populate(name, client: client)
        let namespaces = ResourceClient<Namespace>(client: client)
        // Terminating, so the API server's stand-in stops putting its default account and CA ConfigMap back.
        var namespace = try await namespaces.get(name)
        namespace.status.phase = "Terminating"
        namespace = try await namespaces.updateStatus(namespace)

        let logger = Logger(label: "lifecycle-tests") { _ in SwiftLogNoOpLogHandler() }
        let deleter = NamespacedResourcesDeleter(client: client, time: SystemTime(), logger: logger)
        let estimate = try await deleter.deleteAllContent(namespace)
        XCTAssertEqual(estimate, NamespacedResourcesDeleter.finalizerEstimateSeconds, "a finalizer holds content back")

        for path in [
            "/api/v1/namespaces/\(name)/pods", "/api/v1/namespaces/\(name)/secrets",
            "/api/v1/namespaces/\(name)/serviceaccounts", "/apis/apps/v1/namespaces/\(name)/deployments",
            "/apis/coordination.k8s.io/v1/namespaces/\(name)/leases",
        ] {
            let left = try await names(path, client: client)
            XCTAssertEqual(left, [], path)
        }
        let configMaps = ResourceClient<ConfigMap>(client: client, namespace: name)
        let held = try await LifecycleHarness.find(configMaps, "held")
        XCTAssertNotNil(held?.metadata.deletionTimestamp, "the held ConfigMap is deleting, waiting for its finalizer")
        let remaining = try await configMaps.list().items.map { $0.metadata.name ?? "" }
        XCTAssertEqual(remaining, ["held"])

        namespace = try await namespaces.get(name)
        XCTAssertEqual(
            condition(namespace, "NamespaceContentRemaining"),
            "True SomeResourcesRemain: Some resources are remaining: configmaps. has 1 resource instances")
        XCTAssertEqual(
            condition(namespace, "NamespaceFinalizersRemaining"),
            "True SomeFinalizersRemain: Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances"
        )
        XCTAssertEqual(
            condition(namespace, "NamespaceDeletionDiscoveryFailure"),
            "False ResourcesDiscovered: All resources successfully discovered")
        XCTAssertEqual(
            condition(namespace, "NamespaceDeletionContentFailure"),
            "False ContentDeleted: All content successfully deleted, may be waiting on finalization")

        // Its finalizer released, the last ConfigMap goes and the next pass finds the namespace empty.
        _ = try await configMaps.patch("held", ["metadata": ["finalizers": nil]])
        let emptied = try await deleter.deleteAllContent(namespace)
        XCTAssertEqual(emptied, 0)
        namespace = try await namespaces.get(name)
        XCTAssertEqual(
            condition(namespace, "NamespaceContentRemaining"), "False ContentRemoved: All content successfully removed")
        XCTAssertEqual(
            condition(namespace, "NamespaceFinalizersRemaining"),
            "False ContentHasNoFinalizers: All content-preserving finalizers finished")
    }

    func testATerminatingNamespaceIsEmptiedAndDisappears() async throws {
        let harness = try await LifecycleHarness.start {
            NamespaceController(context: $0, syncPeriod: .seconds(300), deletionGracePeriod: .zero)
        }
        self.harness = harness
        let client = harness.client
        let name = uniqueNamespace("ns-delete")
        try await populate(name, client: client)
        _ = try await ResourceClient<ConfigMap>(client: client, namespace: name).patch(
            "held", ["metadata": ["finalizers": nil]])

        _ = try await client.deleteJSON(path: "/api/v1/namespaces/\(name)")
        let namespaces = ResourceClient<Namespace>(client: client)
        let gone = try await LifecycleHarness.eventually {
            try await LifecycleHarness.find(namespaces, name) == nil ? true : nil
        }
        XCTAssertEqual(gone, true)
        let pods = try await names("/api/v1/namespaces/\(name)/pods", client: client)
        let configMaps = try await names("/api/v1/namespaces/\(name)/configmaps", client: client)
        XCTAssertEqual(pods + configMaps, [])
    }
}
