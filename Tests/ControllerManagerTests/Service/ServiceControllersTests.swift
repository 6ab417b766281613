import APIMachinery
import Client
import Foundation
import XCTest

@testable import ControllerManager

/// The endpoints and endpointslice controllers against the in-process API server, with pods made running by
/// the test (there are no kubelets).
final class ServiceControllersTests: XCTestCase {
    func testAServiceGetsEndpointsAndASliceOfItsPodsAndLosesThemWithIt() async throws {
        let harness = try await ServicePlumbingHarness(prefix: "endpoints")
        let context = try harness.context()
        try await harness.run([EndpointsController(context: context), try EndpointSliceController(context: context)])
        defer { Task { await harness.stop() } }

        var node = Node()
        node.metadata.name = harness.namespace + "-node"
        node.metadata.labels = ["topology.kubernetes.io/zone": "zone-a"]
        _ = try await ResourceClient<Node>(client: harness.client).create(node)
        var service = Service()
        service.metadata.name = "web"
        service.spec.selector = ["app": "web"]
        service.spec.ports = [ServicePort(port: 80, name: "http", protocol: "TCP", targetPort: "http")]
        service = try await harness.resource(Service.self).create(service)
        for (index, name) in ["web-0", "web-1", "web-2"].enumerated() {
            try await harness.createPod(name, labels: ["app": "web"], node: node.metadata.name ?? "")
            try await harness.setRunning(name, ip: "10.200.0.\(index + 1)", ready: index < 2)
        }

        let endpoints = try await harness.eventually("Endpoints with 2 ready and 1 not ready address") {
            () -> Endpoints? in
            let endpoints = try? await harness.resource(Endpoints.self).get("web")
            let subset = endpoints?.subsets.first
            return subset?.addresses.count == 2 && subset?.notReadyAddresses.count == 1 ? endpoints : nil
        }
        let subset = try XCTUnwrap(endpoints.subsets.first)
        XCTAssertEqual(endpoints.subsets.count, 1)
        XCTAssertEqual(subset.addresses.map(\.ip), ["10.200.0.1", "10.200.0.2"])
        XCTAssertEqual(subset.notReadyAddresses.map(\.ip), ["10.200.0.3"])
        XCTAssertEqual(subset.ports, [EndpointPort(port: 8080, name: "http", protocol: "TCP")])
        XCTAssertEqual(subset.addresses.first?.targetRef?.kind, "Pod")
        XCTAssertEqual(subset.addresses.first?.targetRef?.name, "web-0")
        XCTAssertEqual(subset.addresses.first?.nodeName, node.metadata.name)
        XCTAssertNotNil(endpoints.metadata.annotations["endpoints.kubernetes.io/last-change-trigger-time"])
        XCTAssertNil(endpoints.metadata.labels["service.kubernetes.io/headless"], "the service has a cluster IP")

        let slice = try await harness.eventually("an EndpointSlice with 3 endpoints") { () -> EndpointSlice? in
            let page = try await harness.resource(EndpointSlice.self).list(
                labelSelector: "kubernetes.io/service-name=web")
            return page.items.count == 1 && page.items[0].endpoints.count == 3 ? page.items[0] : nil
        }
        XCTAssertTrue(slice.metadata.name?.hasPrefix("web-") == true)
        XCTAssertEqual(
            slice.metadata.labels["endpointslice.kubernetes.io/managed-by"], "endpointslice-controller.k8s.io")
        XCTAssertEqual(slice.metadata.ownerReferences.first?.uid, service.metadata.uid)
        XCTAssertEqual(slice.addressType, "IPv4")
        XCTAssertEqual(slice.ports, [DiscoveryV1EndpointPort(name: "http", port: 8080, protocol: "TCP")])
        let byPod = Dictionary(uniqueKeysWithValues: slice.endpoints.map { ($0.targetRef?.name ?? "", $0) })
        XCTAssertEqual(byPod["web-0"]?.conditions, EndpointConditions(ready: true, serving: true, terminating: false))
        XCTAssertEqual(byPod["web-2"]?.conditions, EndpointConditions(ready: false, serving: false, terminating: false))
        XCTAssertEqual(byPod["web-1"]?.zone, "zone-a")
        XCTAssertEqual(byPod["web-1"]?.nodeName, node.metadata.name)
        XCTAssertEqual(byPod["web-1"]?.addresses, ["10.200.0.2"])

        // A pod turning ready moves its address within the one Endpoints and rewrites the one slice.
        try await harness.setRunning("web-2", ip: "10.200.0.3", ready: true)
        _ = try await harness.eventually("all three addresses ready") { () -> Bool? in
            let endpoints = try? await harness.resource(Endpoints.self).get("web")
            let page = try await harness.resource(EndpointSlice.self).list(
                labelSelector: "kubernetes.io/service-name=web")
            let ready = page.items.flatMap(\.endpoints).filter { $0.conditions?.ready == true }.count
            return endpoints?.subsets.first?.addresses.count == 3 && page.items.count == 1 && ready == 3 ? true : nil
        }
        let slices = try await harness.resource(EndpointSlice.self).list(
            labelSelector: "kubernetes.io/service-name=web")
        XCTAssertEqual(slices.items.map(\.metadata.name), [slice.metadata.name], "the same slice was updated")

        // Once converged nothing is rewritten: what the server stores is what the controllers want.
        let settled = try await harness.resource(Endpoints.self).get("web").metadata.resourceVersion
        try await Task.sleep(for: .seconds(1))
        let later = try await harness.resource(Endpoints.self).get("web").metadata.resourceVersion
        XCTAssertEqual(later, settled)
        let settledSlices = try await harness.resource(EndpointSlice.self).list(
            labelSelector: "kubernetes.io/service-name=web")
        XCTAssertEqual(
            settledSlices.items.map(\.metadata.resourceVersion), slices.items.map(\.metadata.resourceVersion))

        try await harness.resource(Service.self).delete("web")
        _ = try await harness.eventually("the Endpoints deleted with the service") { () -> Bool? in
            do {
                _ = try await harness.resource(Endpoints.self).get("web")
                return nil
            } catch let error as StatusError where error.code == 404 {
                return true
            }
        }
        try? await ResourceClient<Node>(client: harness.client).delete(node.metadata.name ?? "")
    }

    func testAServiceWithoutSelectorKeepsItsOwnEndpointsMirroredAndAHeadlessOneIsLabelled() async throws {
        let harness = try await ServicePlumbingHarness(prefix: "endpoints-manual")
        let context = try harness.context()
        try await harness.run([
            EndpointsController(context: context), try EndpointSliceMirroringController(context: context),
        ])
        defer { Task { await harness.stop() } }

        var manual = Service()
        manual.metadata.name = "external"
        manual.spec.ports = [ServicePort(port: 5432, protocol: "TCP")]
        _ = try await harness.resource(Service.self).create(manual)
        var endpoints = Endpoints()
        endpoints.metadata.name = "external"
        endpoints.metadata.labels = ["tier": "db"]
        endpoints.subsets = [
            EndpointSubset(addresses: [EndpointAddress(ip: "192.0.2.10")], ports: [EndpointPort(port: 5432)])
        ]
        _ = try await harness.resource(Endpoints.self).create(endpoints)

        var headless = Service()
        headless.metadata.name = "db"
        headless.spec.clusterIP = "None"
        headless.spec.selector = ["app": "db"]
        headless.spec.ports = [ServicePort(port: 5432, protocol: "TCP")]
        _ = try await harness.resource(Service.self).create(headless)
        let created = try await harness.eventually("the headless service's Endpoints") { () -> Endpoints? in
            try? await harness.resource(Endpoints.self).get("db")
        }
        XCTAssertEqual(created.metadata.labels["service.kubernetes.io/headless"], "")
        XCTAssertEqual(created.subsets, [])

        // By the time the headless service's Endpoints exist, the manual ones have been seen and left alone.
        let kept = try await harness.resource(Endpoints.self).get("external")
        XCTAssertEqual(kept.subsets.first?.addresses.map(\.ip), ["192.0.2.10"])

        // The manual Endpoints are mirrored into a slice; the selector's are not.
        let mirror = try await harness.eventually("the mirrored slice") { () -> EndpointSlice? in
            let page = try await harness.resource(EndpointSlice.self).list(
                labelSelector: "kubernetes.io/service-name=external")
            return page.items.first
        }
        XCTAssertEqual(
            mirror.metadata.labels["endpointslice.kubernetes.io/managed-by"], "endpointslicemirroring-controller.k8s.io"
        )
        XCTAssertEqual(mirror.metadata.labels["tier"], "db")
        XCTAssertEqual(mirror.metadata.ownerReferences.first?.kind, "Endpoints")
        XCTAssertEqual(mirror.addressType, "IPv4")
        XCTAssertEqual(mirror.endpoints.map(\.addresses), [["192.0.2.10"]])
        XCTAssertEqual(mirror.endpoints.first?.conditions?.ready, true)
        XCTAssertEqual(mirror.ports.map(\.port), [5432])
        let selected = try await harness.resource(EndpointSlice.self).list(
            labelSelector:
                "kubernetes.io/service-name=db,endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io"
        )
        XCTAssertEqual(selected.items, [])

        // Opting out removes the mirror.
        var optedOut = try await harness.resource(Endpoints.self).get("external")
        optedOut.metadata.labels["endpointslice.kubernetes.io/skip-mirror"] = "true"
        _ = try await harness.resource(Endpoints.self).update(optedOut)
        _ = try await harness.eventually("the mirror removed") { () -> Bool? in
            let page = try await harness.resource(EndpointSlice.self).list(
                labelSelector: "kubernetes.io/service-name=external")
            return page.items.isEmpty ? true : nil
        }
    }
}
