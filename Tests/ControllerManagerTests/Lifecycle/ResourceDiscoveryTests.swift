import Client
import TestSupport
import XCTest

@testable import ControllerManager

/// Discovery as the lifecycle controllers read it: group versions parsed as upstream's, every served version
/// mapped for owner references, the preferred ones watched, and what the garbage collector leaves out.
final class ResourceDiscoveryTests: XCTestCase {
    func testGroupVersionsParseAsUpstreamReadsThem() {
        let cases: [(String, String?)] = [
            ("v1", "/v1"), ("apps/v1", "apps/v1"), ("", nil), ("a/b/c", nil), ("/v1", nil), ("apps/", nil),
        ]
        for (text, expected) in cases {
            let parsed = ResourceDiscovery.parse(text).map { "\($0.group)/\($0.version)" }
            XCTAssertEqual(parsed, expected, text)
        }
    }

    func testFailedGroupsReadAsClientGosError() {
        var result = DiscoveryResult()
        XCTAssertNil(result.failureMessage)
        result.failedGroups = [
            "metrics.k8s.io/v1beta1": "the server is currently unable to handle the request", "a/v1": "boom",
        ]
        XCTAssertEqual(
            result.failureMessage,
            "unable to retrieve the complete list of server APIs: a/v1: boom, metrics.k8s.io/v1beta1: the server is currently unable to handle the request"
        )
    }

    func testTheServersResourcesMapOwnerReferencesAndChooseWhatTheCollectorWatches() async throws {
        let client = try await LifecycleHarness.fastClient()
        let result = try await ResourceDiscovery.discover(client: client)
        await client.shutdown()
        XCTAssertEqual(result.failedGroups, [:])

        let pods = result.all.first { $0.descriptor.resource == "pods" && $0.descriptor.group.isEmpty }
        XCTAssertEqual(pods?.descriptor.namespaced, true)
        XCTAssertEqual(pods?.supports(["delete", "list", "watch", "deletecollection"]), true)
        XCTAssertFalse(result.all.contains { $0.descriptor.resource.contains("/") }, "subresources are left out")
        XCTAssertEqual(result.resource(apiVersion: "apps/v1", kind: "Deployment")?.resource, "deployments")
        XCTAssertEqual(result.resource(apiVersion: "v1", kind: "Namespace")?.namespaced, false)
        XCTAssertNil(result.resource(apiVersion: "apps/v2", kind: "Deployment"))

        // A group serving two versions: both map references, only the preferred one is watched.
        let autoscaling = Set(result.all.filter { $0.descriptor.group == "autoscaling" }.map(\.descriptor.version))
        let preferred = Set(result.preferred.filter { $0.descriptor.group == "autoscaling" }.map(\.descriptor.version))
        XCTAssertGreaterThan(autoscaling.count, 1)
        XCTAssertEqual(preferred.count, 1)

        let watched = GarbageCollectorController.monitoredResources(result)
        XCTAssertTrue(watched.contains { $0.resource == "configmaps" })
        XCTAssertTrue(watched.contains { $0.resource == "namespaces" })
        XCTAssertFalse(watched.contains { $0.resource == "events" }, "events are ignored in both groups")
        XCTAssertFalse(watched.contains { $0.resource == "tokenreviews" }, "create-only resources cannot be watched")
    }
}
