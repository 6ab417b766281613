import APIMachinery
import Client
import TestSupport
import XCTest

@testable import ControllerManager

/// The garbage collector against the in-process API server: background, foreground and orphan propagation,
/// several owners, and an owner reference into another namespace.
final class GarbageCollectorControllerTests: XCTestCase {
    private var harness: LifecycleHarness?

    override func tearDown() async throws {
        await harness?.stop()
        harness = nil
    }

    private func startCollector() async throws -> RESTClient {
        let harness = try await LifecycleHarness.start { GarbageCollectorController(context: $0) }
        self.harness = harness
        return harness.client
    }

    private func ownedBy(_ owners: ConfigMap..., blocking: Bool? = nil) -> [OwnerReference] {
        owners.map {
            OwnerReference(
                apiVersion: "v1", kind: "ConfigMap", name: $0.metadata.name, uid: $0.metadata.uid,
                blockOwnerDeletion: blocking)
        }
    }

    private func configMap(_ name: String, owners: [OwnerReference] = [], finalizers: [String] = []) -> ConfigMap {
        ConfigMap(metadata: ObjectMeta(finalizers: finalizers, name: name, ownerReferences: owners))
    }

    func testADependentWhoseOwnerIsDeletedGoesInTheBackground() async throws {
        let client = try await startCollector()
        let namespace = uniqueNamespace("gc-background")
        try await client.createNamespace(namespace)
        let configMaps = ResourceClient<ConfigMap>(client: client, namespace: namespace)
        let owner = try await configMaps.create(configMap("owner"))
        let kept = try await configMaps.create(configMap("kept"))
        _ = try await configMaps.create(configMap("dependent", owners: ownedBy(owner)))
        _ = try await configMaps.create(configMap("kept-dependent", owners: ownedBy(kept)))

        try await configMaps.delete("owner")
        let gone = try await LifecycleHarness.eventually {
            try await LifecycleHarness.find(configMaps, "dependent") == nil ? true : nil
        }
        XCTAssertEqual(gone, true, "the dependent of a deleted owner is collected")
        let survivor = try await LifecycleHarness.find(configMaps, "kept-dependent")
        XCTAssertNotNil(survivor, "a dependent whose owner exists stays")
    }

    func testAnOwnerCreatedAfterItsDependentIsNotMistakenForAbsent() async throws {
        let client = try await startCollector()
        let namespace = uniqueNamespace("gc-late-owner")
        try await client.createNamespace(namespace)
        let configMaps = ResourceClient<ConfigMap>(client: client, namespace: namespace)
        // The owner exists on the server; the dependent names it correctly and must stay.
        let owner = try await configMaps.create(configMap("owner"))
        _ = try await configMaps.create(configMap("dependent", owners: ownedBy(owner)))
        // A dependent naming a uid that never existed is collected.
        let ghost = OwnerReference(apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: "no-such-uid")
        _ = try await configMaps.create(configMap("orphaned", owners: [ghost]))
        let collected = try await LifecycleHarness.eventually {
            try await LifecycleHarness.find(configMaps, "orphaned") == nil ? true : nil
        }
        XCTAssertEqual(collected, true, "an owner reference whose uid does not match the live object is dangling")
        let dependent = try await LifecycleHarness.find(configMaps, "dependent")
        XCTAssertNotNil(dependent)
    }

    func testForegroundDeletionRemovesTheDependentBeforeTheOwner() async throws {
        let client = try await startCollector()
        let namespace = uniqueNamespace("gc-foreground")
        try await client.createNamespace(namespace)
        let configMaps = ResourceClient<ConfigMap>(client: client, namespace: namespace)
        // The finalizer the API server adds for propagationPolicy=Foreground, set here directly.
        let owner = try await configMaps.create(configMap("owner", finalizers: [GCFinalizer.deleteDependents]))
        // The dependent holds its own finalizer, so the test decides when it finally goes.
        _ = try await configMaps.create(
            configMap("dependent", owners: ownedBy(owner, blocking: true), finalizers: ["example.com/hold"]))

        try await configMaps.delete("owner")
        let dependentDeleting = try await LifecycleHarness.eventually {
            try await LifecycleHarness.find(configMaps, "dependent")?.metadata.deletionTimestamp
        }
        XCTAssertNotNil(dependentDeleting, "the collector deletes the blocking dependent first")
        let waitingOwner = try await LifecycleHarness.find(configMaps, "owner")
        XCTAssertEqual(
            waitingOwner?.metadata.finalizers, [GCFinalizer.deleteDependents],
            "the owner waits while a blocking dependent exists")

        _ = try await configMaps.patch("dependent", ["metadata": ["finalizers": nil]])
        let ownerGone = try await LifecycleHarness.eventually {
            try await LifecycleHarness.find(configMaps, "owner") == nil ? true : nil
        }
        XCTAssertEqual(ownerGone, true, "the foreground finalizer goes once the dependent is gone")
    }

    func testOrphanDeletionLeavesTheDependentWithoutItsOwnerReference() async throws {
        let client = try await startCollector()
        let namespace = uniqueNamespace("gc-orphan")
        try await client.createNamespace(namespace)
        let configMaps = ResourceClient<ConfigMap>(client: client, namespace: namespace)
        let owner = try await configMaps.create(configMap("owner", finalizers: [GCFinalizer.orphanDependents]))
        let other = try await configMaps.create(configMap("other"))
        _ = try await configMaps.create(configMap("dependent", owners: ownedBy(owner, other)))

        try await configMaps.delete("owner")
        let ownerGone = try await LifecycleHarness.eventually {
            try await LifecycleHarness.find(configMaps, "owner") == nil ? true : nil
        }
        XCTAssertEqual(ownerGone, true, "the orphan finalizer is removed after the dependents are released")
        let dependent = try await LifecycleHarness.find(configMaps, "dependent")
        XCTAssertEqual(dependent?.metadata.ownerReferences.map(\.name), ["other"])
    }

    func testADependentWithTwoOwnersSurvivesWhileOneRemains() async throws {
        let client = try await startCollector()
        let namespace = uniqueNamespace("gc-two-owners")
        try await client.createNamespace(namespace)
        let configMaps = ResourceClient<ConfigMap>(client: client, namespace: namespace)
        let first = try await configMaps.create(configMap("first"))
        let second = try await configMaps.create(configMap("second"))
        _ = try await configMaps.create(configMap("dependent", owners: ownedBy(first, second)))

        try await configMaps.delete("first")
        let references = try await LifecycleHarness.eventually { () -> [String]? in
            let names = try await LifecycleHarness.find(configMaps, "dependent")?.metadata.ownerReferences.compactMap(
                \.name)
            return names == ["second"] ? names : nil
        }
        XCTAssertEqual(references, ["second"], "the reference to the deleted owner is removed, the dependent stays")

        try await configMaps.delete("second")
        let gone = try await LifecycleHarness.eventually {
            try await LifecycleHarness.find(configMaps, "dependent") == nil ? true : nil
        }
        XCTAssertEqual(gone, true, "the last owner's deletion collects it")
    }

    func testAnOwnerReferenceIntoAnotherNamespaceIsReportedAndCollected() async throws {
        let client = try await startCollector()
        let ownerNamespace = uniqueNamespace("gc-owner-ns")
        let dependentNamespace = uniqueNamespace("gc-dependent-ns")
        try await client.createNamespace(ownerNamespace)
        try await client.createNamespace(dependentNamespace)
        let owner = try await ResourceClient<ConfigMap>(client: client, namespace: ownerNamespace).create(
            configMap("owner"))
        let configMaps = ResourceClient<ConfigMap>(client: client, namespace: dependentNamespace)
        _ = try await configMaps.create(configMap("dependent", owners: ownedBy(owner)))

        // Owner references carry no namespace: the owner is looked for in the dependent's, where it is absent.
        let gone = try await LifecycleHarness.eventually {
            try await LifecycleHarness.find(configMaps, "dependent") == nil ? true : nil
        }
        XCTAssertEqual(gone, true)
        let note = try await LifecycleHarness.eventually { () -> String? in
            let events = try await client.getJSON(
                path: "/apis/events.k8s.io/v1/namespaces/\(dependentNamespace)/events")
            return events["items"]?.arrayValue?.first { $0["reason"]?.stringValue == "OwnerRefInvalidNamespace" }?[
                "note"]?.stringValue
        }
        XCTAssertEqual(
            note,
            "ownerRef [v1/ConfigMap, namespace: \(dependentNamespace), name: owner, uid: \(owner.metadata.uid ?? "")] does not exist in namespace \"\(dependentNamespace)\""
        )
    }

    func testAKindTheSharedInformersCacheIsReadFromThemNotCopiedAgain() async throws {
        // A controller asked for ConfigMaps first, as the workload controllers ask for pods.
        var collector: GarbageCollectorController?
        let harness = try await LifecycleHarness.start { context in
            _ = context.informers.informer(for: ConfigMap.self)
            let made = GarbageCollectorController(context: context)
            collector = made
            return made
        }
        self.harness = harness
        let gc = try XCTUnwrap(collector)
        let monitored = try await LifecycleHarness.eventually {
            gc.monitors.resources.contains(ConfigMap.resource) ? true : nil
        }
        XCTAssertEqual(monitored, true)
        XCTAssertTrue(gc.monitors.isShared(ConfigMap.resource), "no metadata informer of its own for ConfigMaps")
        XCTAssertFalse(gc.monitors.isShared(Secret.resource), "a kind nobody cached gets a metadata informer")

        // The graph fed from the shared informer still collects.
        let client = harness.client
        let namespace = uniqueNamespace("gc-shared")
        try await client.createNamespace(namespace)
        let configMaps = ResourceClient<ConfigMap>(client: client, namespace: namespace)
        let owner = try await configMaps.create(configMap("owner"))
        _ = try await configMaps.create(configMap("dependent", owners: ownedBy(owner)))
        let linked = try await LifecycleHarness.eventually {
            gc.graph.withLockedValue { $0[UID(owner.metadata.uid ?? "")]?.dependents.count == 1 ? true : nil }
        }
        XCTAssertEqual(linked, true, "the dependent reached the graph through the shared informer")
        try await configMaps.delete("owner")
        let gone = try await LifecycleHarness.eventually {
            try await LifecycleHarness.find(configMaps, "dependent") == nil ? true : nil
        }
        XCTAssertEqual(gone, true)
    }
}
