import APIMachinery
import Foundation
import NIOConcurrencyHelpers
import Storage
import XCTest

@testable import APIServer

/// The APIService controller in-process, its resync driven by a test clock: local APIServices registered
/// (a custom resource group's removed when its definition goes), and a service-backed one's condition moving
/// with what exists, seen at the next resync when no watch event brings it sooner.
final class AggregationControllerTests: XCTestCase {
    /// A clock whose sleepers wake only when the test says so.
    final class ManualClock: Sendable {
        private let sleepers = NIOLockedValueBox<[CheckedContinuation<Void, Never>]>([])

        func sleep(_: Duration) async throws {
            await withCheckedContinuation { continuation in sleepers.withLockedValue { $0.append(continuation) } }
            try Task.checkCancellation()
        }

        var sleeping: Int { sleepers.withLockedValue { $0.count } }

        func fire() {
            let due = sleepers.withLockedValue { sleepers in
                defer { sleepers = [] }
                return sleepers
            }
            for sleeper in due { sleeper.resume() }
        }
    }

    /// Polls `condition` until it holds; each pass yields to the controller's tasks.
    func waitFor(_ what: String, _ condition: () async throws -> Bool) async throws {
        for _ in 0..<500 {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        XCTFail("never happened: \(what)")
    }

    func testConditionsFollowTheClusterAtEachResyncAndCustomGroupsComeAndGo() async throws {
        let server = APIServer(storage: MemoryStore(), configuration: APIServer.Configuration())
        try await server.bootstrap(advertiseAddress: "127.0.0.1", securePort: 6443)
        let apiServices = try XCTUnwrap(server.store(group: "apiregistration.k8s.io", resource: "apiservices"))
        let services = try XCTUnwrap(server.store(resource: "services"))
        let endpoints = try XCTUnwrap(server.store(resource: "endpoints"))
        let definitions = try XCTUnwrap(
            server.store(group: "apiextensions.k8s.io", resource: "customresourcedefinitions"))
        let clock = ManualClock()
        // No watches: only the start and the clock bring syncs, so each change waits for a resync.
        let controller = APIServiceController(
            apiServices: apiServices,
            availability: APIServiceAvailability(
                services: services, endpoints: endpoints, transport: nil, aggregatorRouting: false),
            aggregator: server.aggregator, storage: server.storage, watchedPrefixes: [],
            builtInGroupVersions: [GroupVersion(group: "", version: "v1"), GroupVersion(group: "apps", version: "v1")],
            customResourceDefinitions: definitions, sleep: clock.sleep)
        _ = try await apiServices.create(
            namespace: nil,
            object: [
                "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
                "metadata": ["name": "v1.remote.example.com"],
                "spec": [
                    "group": "remote.example.com", "version": "v1", "groupPriorityMinimum": 100,
                    "versionPriority": 10, "service": ["namespace": "default", "name": "remote"],
                ],
            ], options: WriteOptions())
        let running = Task { await controller.run() }
        defer {
            running.cancel()
            clock.fire()
        }
        func condition(_ name: String) async -> String? {
            guard let object = try? await apiServices.get(namespace: nil, name: name) else { return nil }
            let view = APIServiceView(object)
            return [view.available, view.availableReason].compactMap { $0 }.joined(separator: " ")
        }
        try await waitFor("the first sync") {
            await condition("v1.remote.example.com") == "False ServiceNotFound" && clock.sleeping == 1
        }
        let local = await condition("v1.")
        XCTAssertEqual(local, "True Local")
        let apps = try await apiServices.get(namespace: nil, name: "v1.apps")
        XCTAssertEqual(apps["spec"]?["groupPriorityMinimum"], 17800)
        XCTAssertEqual(apps.labels[APIServices.managedLabel], "onstart")
        XCTAssertNil(server.aggregator.remote(GroupVersion(group: "remote.example.com", version: "v1"))?.backend)

        _ = try await services.create(
            namespace: "default",
            object: [
                "apiVersion": "v1", "kind": "Service", "metadata": ["name": "remote", "namespace": "default"],
                "spec": ["ports": [["name": "https", "port": 443]]],
            ], options: WriteOptions())
        _ = try await definitions.create(namespace: nil, object: Self.definition, options: WriteOptions())
        // Nothing watches: the condition stands until the clock brings the resync.
        let before = await condition("v1.remote.example.com")
        XCTAssertEqual(before, "False ServiceNotFound")
        clock.fire()
        try await waitFor("the resync sees the service, not its endpoints") {
            await condition("v1.remote.example.com") == "False EndpointsNotFound" && clock.sleeping == 1
        }
        let custom = try await apiServices.get(namespace: nil, name: "v1.things.example.com")
        XCTAssertEqual(custom["spec"]?["groupPriorityMinimum"], 1000)
        XCTAssertEqual(custom["spec"]?["versionPriority"], 100)
        XCTAssertEqual(custom.labels[APIServices.managedLabel], "true")

        _ = try await definitions.delete(
            namespace: nil, name: "things.things.example.com", options: DeleteOptions(), write: WriteOptions())
        try await waitFor("the definition is gone") {
            (try? await definitions.get(namespace: nil, name: "things.things.example.com")) == nil
        }
        clock.fire()
        try await waitFor("its APIService goes with it") {
            (try? await apiServices.get(namespace: nil, name: "v1.things.example.com")) == nil
        }
    }

    static let definition: JSON = [
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": ["name": "things.things.example.com"],
        "spec": [
            "group": "things.example.com", "scope": "Namespaced",
            "names": ["plural": "things", "singular": "thing", "kind": "Thing", "listKind": "ThingList"],
            "versions": [
                [
                    "name": "v1", "served": true, "storage": true,
                    "schema": ["openAPIV3Schema": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]],
                ]
            ],
        ],
    ]
}
