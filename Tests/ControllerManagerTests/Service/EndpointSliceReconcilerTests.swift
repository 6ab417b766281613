import Client
import Foundation
import XCTest

@testable import ControllerManager

final class EndpointSliceReconcilerTests: XCTestCase {
    private let service = EndpointFixtures.service()

    private func node(_ name: String) -> Node? {
        var node = Node()
        node.metadata.name = name
        node.metadata.labels = ["topology.kubernetes.io/zone": "zone-1"]
        return name.isEmpty || name == "missing" ? nil : node
    }

    private func pods(_ count: Int, from start: Int = 0) -> [Pod] {
        (start..<(start + count)).map { EndpointFixtures.pod("p\($0)", ip: "10.0.\($0 / 250).\($0 % 250 + 1)") }
    }

    /// The slices as the server would hold them after `plan` is applied to `existing`.
    private func apply(_ plan: EndpointSliceReconciler.Plan, to existing: [EndpointSlice]) -> [EndpointSlice] {
        var slices = existing.filter { old in !plan.delete.contains { $0.metadata.name == old.metadata.name } }
        for updated in plan.update {
            slices.removeAll { $0.metadata.name == updated.metadata.name }
            slices.append(updated)
        }
        for (index, created) in plan.create.enumerated() {
            var slice = created
            slice.metadata.name = "web-\(existing.count + index)-\(UUID().uuidString.prefix(5))"
            slice.metadata.uid = UUID().uuidString
            slices.append(slice)
        }
        return slices
    }

    func testEndpointsArePackedIntoSlicesOfAtMostTheMaximum() throws {
        let reconciler = EndpointSliceReconciler(maxEndpointsPerSlice: 10)
        let (plan, skipped) = reconciler.plan(service: service, pods: pods(25), node: node, existing: [])
        XCTAssertEqual(skipped, [])
        XCTAssertEqual(plan.create.map(\.endpoints.count), [10, 10, 5])
        let slice = try XCTUnwrap(plan.create.first)
        XCTAssertEqual(slice.addressType, "IPv4")
        XCTAssertEqual(slice.metadata.generateName, "web-")
        XCTAssertEqual(
            slice.metadata.labels,
            [
                "team": "a", "kubernetes.io/service-name": "web",
                "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
            ])
        XCTAssertEqual(slice.metadata.ownerReferences.first?.uid, "uid-web")
        XCTAssertEqual(slice.metadata.ownerReferences.first?.controller, true)
        XCTAssertEqual(slice.ports, [DiscoveryV1EndpointPort(name: "http", port: 8080, protocol: "TCP")])
        let endpoint = try XCTUnwrap(slice.endpoints.first)
        XCTAssertEqual(endpoint.conditions, EndpointConditions(ready: true, serving: true, terminating: false))
        XCTAssertEqual(endpoint.zone, "zone-1")
        XCTAssertEqual(endpoint.nodeName, "node-a")
        XCTAssertNil(endpoint.hints, "topology hints are off")
    }

    func testConditionsOfNotReadyAndTerminatingPods() {
        let pods = [
            EndpointFixtures.pod("not-ready", ip: "10.0.0.1", ready: false),
            EndpointFixtures.pod("terminating", ip: "10.0.0.2", deleting: true),
        ]
        let reconciler = EndpointSliceReconciler(maxEndpointsPerSlice: 100)
        let conditions = Dictionary(
            uniqueKeysWithValues: reconciler.plan(service: service, pods: pods, node: node, existing: []).plan.create
                .flatMap(\.endpoints).map { ($0.targetRef?.name ?? "", $0.conditions) })
        XCTAssertEqual(conditions["not-ready"], EndpointConditions(ready: false, serving: false, terminating: false))
        XCTAssertEqual(conditions["terminating"], EndpointConditions(ready: false, serving: true, terminating: true))
    }

    func testASteadyStateNeedsNoWrites() {
        let reconciler = EndpointSliceReconciler(maxEndpointsPerSlice: 10)
        let slices = apply(reconciler.plan(service: service, pods: pods(25), node: node, existing: []).plan, to: [])
        XCTAssertTrue(reconciler.plan(service: service, pods: pods(25), node: node, existing: slices).plan.isEmpty)
    }

    func testOneChangedPodRewritesOnlyItsSlice() throws {
        let reconciler = EndpointSliceReconciler(maxEndpointsPerSlice: 10)
        var current = pods(25)
        let slices = apply(reconciler.plan(service: service, pods: current, node: node, existing: []).plan, to: [])
        current[3].status.conditions = [PodCondition(type: "Ready", status: "False")]
        let plan = reconciler.plan(service: service, pods: current, node: node, existing: slices).plan
        XCTAssertEqual(plan.create.count + plan.delete.count, 0)
        XCTAssertEqual(plan.update.count, 1)
        let updated = try XCTUnwrap(plan.update.first)
        XCTAssertEqual(
            updated.endpoints.count, slices.first { $0.metadata.name == updated.metadata.name }?.endpoints.count)
        XCTAssertEqual(updated.endpoints.first { $0.targetRef?.name == "p3" }?.conditions?.ready, false)
    }

    func testNewEndpointsFillTheFullestSliceWithRoomBeforeANewOne() {
        let reconciler = EndpointSliceReconciler(maxEndpointsPerSlice: 10)
        let slices = apply(reconciler.plan(service: service, pods: pods(15), node: node, existing: []).plan, to: [])
        XCTAssertEqual(slices.map(\.endpoints.count).sorted(), [5, 10])
        let plan = reconciler.plan(service: service, pods: pods(18), node: node, existing: slices).plan
        XCTAssertEqual(plan.create, [])
        XCTAssertEqual(plan.update.map(\.endpoints.count), [8])
    }

    func testAnEmptiedSliceIsReusedRatherThanDeletedAndCreated() {
        let reconciler = EndpointSliceReconciler(maxEndpointsPerSlice: 5)
        let slices = apply(reconciler.plan(service: service, pods: pods(5), node: node, existing: []).plan, to: [])
        let plan = reconciler.plan(service: service, pods: pods(5, from: 100), node: node, existing: slices).plan
        XCTAssertEqual(plan.create, [])
        XCTAssertEqual(plan.delete, [])
        XCTAssertEqual(plan.update.map(\.metadata.name), slices.map(\.metadata.name))
        XCTAssertEqual(
            plan.update.first?.endpoints.map { $0.targetRef?.name ?? "" }, ["p100", "p101", "p102", "p103", "p104"])
    }

    func testAServiceWithoutEndpointsKeepsOnePlaceholderSlice() {
        let reconciler = EndpointSliceReconciler(maxEndpointsPerSlice: 5)
        let first = reconciler.plan(service: service, pods: [], node: node, existing: []).plan
        XCTAssertEqual(first.create.count, 1)
        XCTAssertEqual(first.create.first?.endpoints, [])
        XCTAssertEqual(first.create.first?.ports, [])
        let slices = apply(first, to: [])
        XCTAssertTrue(reconciler.plan(service: service, pods: [], node: node, existing: slices).plan.isEmpty)
    }

    func testPodsOnUnknownNodesAreSkippedAndReported() {
        let reconciler = EndpointSliceReconciler(maxEndpointsPerSlice: 5)
        let pods = [EndpointFixtures.pod("lost", node: "missing"), EndpointFixtures.pod("fine", ip: "10.0.0.2")]
        let (plan, skipped) = reconciler.plan(service: service, pods: pods, node: node, existing: [])
        XCTAssertEqual(skipped, ["lost"])
        XCTAssertEqual(plan.create.flatMap(\.endpoints).map { $0.targetRef?.name ?? "" }, ["fine"])
    }

    func testSlicesOfAnotherOwnerOrFamilyAreDeletedAndAnOwnedStaleSliceIsRewritten() {
        var stranger = EndpointSlice(addressType: "IPv4")
        stranger.metadata.name = "web-old"
        stranger.metadata.ownerReferences = [OwnerReference(apiVersion: "v1", kind: "Service", name: "web", uid: "old")]
        var ipv6 = EndpointSlice(addressType: "IPv6")
        ipv6.metadata.name = "web-v6"
        ipv6.metadata.ownerReferences = [OwnerReference(controller: service)]
        var stalePorts = EndpointSlice(addressType: "IPv4", ports: [DiscoveryV1EndpointPort(name: "x", port: 9999)])
        stalePorts.metadata.name = "web-ports"
        stalePorts.metadata.ownerReferences = [OwnerReference(controller: service)]
        let reconciler = EndpointSliceReconciler(maxEndpointsPerSlice: 5)
        let plan = reconciler.plan(
            service: service, pods: pods(1), node: node, existing: [stranger, ipv6, stalePorts]
        ).plan
        XCTAssertEqual(plan.delete.map { $0.metadata.name ?? "" }.sorted(), ["web-old", "web-v6"])
        XCTAssertEqual(plan.create, [])
        XCTAssertEqual(plan.update.map(\.metadata.name), ["web-ports"], "an owned slice is rewritten, not recreated")
        XCTAssertEqual(plan.update.first?.ports, [DiscoveryV1EndpointPort(name: "http", port: 8080, protocol: "TCP")])
    }

    func testAHeadlessServicesSlicesCarryTheHeadlessLabel() {
        let headless = EndpointFixtures.service(clusterIP: "None")
        let reconciler = EndpointSliceReconciler(maxEndpointsPerSlice: 5)
        let labels = reconciler.plan(service: headless, pods: pods(1), node: node, existing: []).plan.create.first?
            .metadata.labels
        XCTAssertEqual(labels?["service.kubernetes.io/headless"], "")
        XCTAssertNil(EndpointSliceReconciler.labels(for: service)["service.kubernetes.io/headless"])
    }
}

final class EndpointSliceMirroringTests: XCTestCase {
    private func endpoints(_ subsets: [EndpointSubset]) -> Endpoints {
        var endpoints = Endpoints(subsets: subsets)
        endpoints.metadata.name = "external"
        endpoints.metadata.namespace = "ns"
        endpoints.metadata.uid = "uid-ep"
        endpoints.metadata.labels = ["tier": "db"]
        endpoints.metadata.annotations = [
            "note": "kept", "endpoints.kubernetes.io/last-change-trigger-time": "2024-01-01T00:00:00Z",
        ]
        return endpoints
    }

    func testSubsetsBecomeOneSlicePerFamilyAndPortSetCutToTheMaximum() throws {
        let mirroring = EndpointSliceMirroring(maxEndpointsPerSubset: 2)
        let source = endpoints([
            EndpointSubset(
                addresses: [EndpointAddress(ip: "10.0.0.1"), EndpointAddress(ip: "fd00::1")],
                notReadyAddresses: [EndpointAddress(ip: "10.0.0.2"), EndpointAddress(ip: "not-an-ip")],
                ports: [EndpointPort(port: 5432, name: "pg")]),
            EndpointSubset(addresses: [EndpointAddress(ip: "10.0.0.3")], ports: [EndpointPort(port: 5432, name: "pg")]),
        ])
        let plan = mirroring.plan(source, existing: [])
        XCTAssertEqual(plan.create.map(\.addressType), ["IPv4", "IPv6"])
        let v4 = try XCTUnwrap(plan.create.first)
        XCTAssertEqual(v4.endpoints.map(\.addresses), [["10.0.0.1"], ["10.0.0.3"]], "2 per subset, ready first")
        XCTAssertEqual(v4.ports, [DiscoveryV1EndpointPort(name: "pg", port: 5432, protocol: "TCP")])
        XCTAssertEqual(v4.metadata.labels["tier"], "db")
        XCTAssertEqual(v4.metadata.labels["kubernetes.io/service-name"], "external")
        XCTAssertEqual(v4.metadata.annotations, ["note": "kept"])
        XCTAssertEqual(v4.metadata.ownerReferences.first?.uid, "uid-ep")
        XCTAssertEqual(v4.metadata.generateName, "external-")

        var applied = plan.create
        for index in applied.indices { applied[index].metadata.name = "external-\(index)" }
        XCTAssertTrue(mirroring.plan(source, existing: applied).isEmpty, "a faithful mirror is left alone")
    }

    func testOptOutAndLeaderRecordsAreNotMirrored() {
        var source = endpoints([])
        XCTAssertTrue(EndpointSliceMirroring.shouldMirror(source))
        source.metadata.labels["endpointslice.kubernetes.io/skip-mirror"] = "true"
        XCTAssertFalse(EndpointSliceMirroring.shouldMirror(source))
        var leader = endpoints([])
        leader.metadata.annotations["control-plane.alpha.kubernetes.io/leader"] = "{}"
        XCTAssertFalse(EndpointSliceMirroring.shouldMirror(leader))
    }
}
