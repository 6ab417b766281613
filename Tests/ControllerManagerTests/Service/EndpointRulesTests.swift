import APIMachinery
import Client
import XCTest

@testable import ControllerManager

/// Builders for the pure endpoint logic's inputs.
enum EndpointFixtures {
    static func pod(
        _ name: String, ip: String? = "10.0.0.1", ready: Bool = true, phase: String = "Running",
        restartPolicy: String = "Always", deleting: Bool = false,
        ports: [ContainerPort] = [
            ContainerPort(containerPort: 8080, name: "http")
        ], node: String = "node-a", hostname: String? = nil, subdomain: String? = nil
    ) -> Pod {
        var pod = Pod()
        pod.metadata.name = name
        pod.metadata.namespace = "ns"
        pod.metadata.uid = "uid-\(name)"
        pod.metadata.labels = ["app": "web"]
        if deleting { pod.metadata.deletionTimestamp = "2024-01-01T00:00:00Z" }
        pod.spec.containers = [Container(name: "main", ports: ports)]
        pod.spec.restartPolicy = restartPolicy
        pod.spec.nodeName = node
        pod.spec.hostname = hostname
        pod.spec.subdomain = subdomain
        pod.status.phase = phase
        if let ip { pod.status.podIPs = [PodIP(ip: ip)] }
        pod.status.conditions = [PodCondition(type: "Ready", status: ready ? "True" : "False")]
        return pod
    }

    static func service(
        ports: [ServicePort] = [ServicePort(port: 80, name: "http", protocol: "TCP", targetPort: "http")],
        clusterIP: String = "10.254.0.10", publishNotReady: Bool = false
    ) -> Service {
        var service = Service()
        service.metadata.name = "web"
        service.metadata.namespace = "ns"
        service.metadata.uid = "uid-web"
        service.metadata.labels = ["team": "a"]
        service.spec.selector = ["app": "web"]
        service.spec.ports = ports
        service.spec.clusterIP = clusterIP
        service.spec.ipFamilies = ["IPv4"]
        service.spec.publishNotReadyAddresses = publishNotReady
        return service
    }
}

final class PodEndpointRulesTests: XCTestCase {
    func testPortsResolveByNumberOrByNameAndProtocol() {
        let pod = EndpointFixtures.pod(
            "a",
            ports: [
                ContainerPort(containerPort: 8080, name: "http"),
                ContainerPort(containerPort: 5353, name: "dns", protocol: "UDP"),
            ])
        let cases: [(ServicePort, Int32?)] = [
            (ServicePort(port: 80, protocol: "TCP", targetPort: 9090), 9090),
            (ServicePort(port: 80, protocol: "TCP", targetPort: "http"), 8080),
            (ServicePort(port: 53, protocol: "UDP", targetPort: "dns"), 5353),
            (ServicePort(port: 53, protocol: "TCP", targetPort: "dns"), nil),
            (ServicePort(port: 80, protocol: "TCP", targetPort: "missing"), nil),
            (ServicePort(port: 80, protocol: "TCP"), 80),
        ]
        for (servicePort, expected) in cases {
            XCTAssertEqual(PodEndpointRules.findPort(pod, servicePort), expected, "\(servicePort.targetPort as Any)")
        }
    }

    func testANamedPortOfASidecarInitContainerCounts() {
        var pod = EndpointFixtures.pod("a", ports: [])
        pod.spec.initContainers = [
            Container(
                name: "proxy", ports: [ContainerPort(containerPort: 15001, name: "mesh")], restartPolicy: "Always"),
            Container(name: "setup", ports: [ContainerPort(containerPort: 1, name: "init")]),
        ]
        XCTAssertEqual(PodEndpointRules.findPort(pod, ServicePort(port: 1, targetPort: "mesh")), 15001)
        XCTAssertNil(PodEndpointRules.findPort(pod, ServicePort(port: 1, targetPort: "init")))
    }

    func testWhichPodsBelongInEndpoints() {
        let cases: [(Pod, Bool, Bool)] = [
            (EndpointFixtures.pod("running"), false, true),
            (EndpointFixtures.pod("no-ip", ip: nil), false, false),
            (EndpointFixtures.pod("deleting", deleting: true), false, false),
            (EndpointFixtures.pod("deleting", deleting: true), true, true),
            (EndpointFixtures.pod("done", phase: "Succeeded", restartPolicy: "Never"), false, false),
            (EndpointFixtures.pod("failed", phase: "Failed", restartPolicy: "Never"), false, false),
            (EndpointFixtures.pod("failed", phase: "Failed", restartPolicy: "OnFailure"), false, true),
            (EndpointFixtures.pod("done", phase: "Succeeded", restartPolicy: "OnFailure"), false, false),
            (EndpointFixtures.pod("done", phase: "Succeeded", restartPolicy: "Always"), false, true),
        ]
        for (pod, includeTerminating, expected) in cases {
            XCTAssertEqual(
                PodEndpointRules.shouldBeInEndpoints(pod, includeTerminating: includeTerminating), expected,
                "\(pod.metadata.name ?? "") includeTerminating=\(includeTerminating)")
        }
    }
}

final class EndpointSubsetsTests: XCTestCase {
    func testReadyPodsAreAddressesAndOthersNotReadyOnesUnlessPublished() throws {
        let pods = [
            EndpointFixtures.pod("b", ip: "10.0.0.2"), EndpointFixtures.pod("a", ip: "10.0.0.1"),
            EndpointFixtures.pod("c", ip: "10.0.0.3", ready: false),
            EndpointFixtures.pod("gone", ip: "10.0.0.4", deleting: true),
        ]
        let subsets = EndpointSubsets.desired(for: EndpointFixtures.service(), pods: pods)
        XCTAssertEqual(subsets.count, 1)
        let subset = try XCTUnwrap(subsets.first)
        XCTAssertEqual(subset.addresses.map(\.ip), ["10.0.0.1", "10.0.0.2"])
        XCTAssertEqual(subset.notReadyAddresses.map(\.ip), ["10.0.0.3"])
        XCTAssertEqual(subset.ports, [EndpointPort(port: 8080, name: "http", protocol: "TCP")])
        XCTAssertEqual(subset.addresses.first?.targetRef?.name, "a")
        XCTAssertEqual(subset.addresses.first?.nodeName, "node-a")

        let published = EndpointSubsets.desired(for: EndpointFixtures.service(publishNotReady: true), pods: pods)
        XCTAssertEqual(published.first?.addresses.map(\.ip), ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"])
        XCTAssertEqual(published.first?.notReadyAddresses, [])
    }

    func testPodsOfferingDifferentPortsGetDifferentSubsets() {
        let service = EndpointFixtures.service(ports: [
            ServicePort(port: 80, name: "http", protocol: "TCP", targetPort: "http"),
            ServicePort(port: 81, name: "admin", protocol: "TCP", targetPort: "admin"),
        ])
        let pods = [
            EndpointFixtures.pod(
                "both", ip: "10.0.0.1",
                ports: [
                    ContainerPort(containerPort: 8080, name: "http"), ContainerPort(containerPort: 9000, name: "admin"),
                ]),
            EndpointFixtures.pod("web-only", ip: "10.0.0.2"),
        ]
        let subsets = EndpointSubsets.desired(for: service, pods: pods)
        XCTAssertEqual(subsets.count, 2)
        let byAddresses = Dictionary(uniqueKeysWithValues: subsets.map { ($0.addresses.map { $0.ip ?? "" }, $0.ports) })
        XCTAssertEqual(byAddresses[["10.0.0.1", "10.0.0.2"]]?.map(\.name), ["http"])
        XCTAssertEqual(byAddresses[["10.0.0.1"]]?.map(\.name), ["admin"])
    }

    func testHeadlessServiceWithoutPortsPublishesAddressesAndHostnames() {
        let service = EndpointFixtures.service(ports: [], clusterIP: "None")
        let pods = [EndpointFixtures.pod("a", hostname: "a", subdomain: "web")]
        let subsets = EndpointSubsets.desired(for: service, pods: pods)
        XCTAssertEqual(subsets.count, 1)
        XCTAssertEqual(subsets.first?.ports, [])
        XCTAssertEqual(subsets.first?.addresses.first?.hostname, "a")
        XCTAssertEqual(EndpointSubsets.desired(for: EndpointFixtures.service(ports: []), pods: pods), [])
    }

    func testAnAddressReadyForAPortInOneSubsetIsReady() {
        let address = EndpointAddress(ip: "10.0.0.1", targetRef: ObjectReference(uid: "u"))
        let port = EndpointPort(port: 80)
        let repacked = EndpointSubsets.repack([
            EndpointSubset(notReadyAddresses: [address], ports: [port]),
            EndpointSubset(addresses: [address], ports: [port]),
        ])
        XCTAssertEqual(repacked, [EndpointSubset(addresses: [address], ports: [port])])
    }

    func testTruncationKeepsReadyAddressesFirstAndSharesProportionally() {
        func addresses(_ prefix: String, _ count: Int) -> [EndpointAddress] {
            (0..<count).map { EndpointAddress(ip: "\(prefix).\($0)") }
        }
        var small = [EndpointSubset(addresses: addresses("a", 3), notReadyAddresses: addresses("b", 2))]
        XCTAssertFalse(EndpointSubsets.truncate(&small, maxCapacity: 5))

        var notReadyCut = [
            EndpointSubset(addresses: addresses("a", 4), notReadyAddresses: addresses("b", 4)),
            EndpointSubset(addresses: addresses("c", 2), notReadyAddresses: addresses("d", 4)),
        ]
        XCTAssertTrue(EndpointSubsets.truncate(&notReadyCut, maxCapacity: 10))
        XCTAssertEqual(notReadyCut.map(\.addresses.count), [4, 2], "ready addresses all stay")
        XCTAssertEqual(notReadyCut.map(\.notReadyAddresses.count), [2, 2], "the 4 left shared by proportion")

        var readyCut = [
            EndpointSubset(addresses: addresses("a", 9), notReadyAddresses: addresses("b", 4)),
            EndpointSubset(addresses: addresses("c", 3)),
        ]
        XCTAssertTrue(EndpointSubsets.truncate(&readyCut, maxCapacity: 10))
        XCTAssertEqual(readyCut.map(\.addresses.count), [8, 2])
        XCTAssertEqual(readyCut.map(\.notReadyAddresses.count), [0, 0])
    }
}

final class TriggerTimeTrackerTests: XCTestCase {
    private func pod(_ name: String, readySince: String?) -> Pod {
        var pod = EndpointFixtures.pod(name)
        pod.status.conditions =
            readySince.map { [PodCondition(type: "Ready", status: "True", lastTransitionTime: $0)] } ?? []
        return pod
    }

    func testTheEarliestUnpublishedChangeIsReportedUntilASyncRecordsIt() {
        let tracker = TriggerTimeTracker()
        var service = EndpointFixtures.service()
        service.metadata.creationTimestamp = "2024-01-01T00:00:00Z"
        let created = Timestamp.parse("2024-01-01T00:00:00Z")
        let first = tracker.observe(service: service, pods: [pod("a", readySince: nil)])
        XCTAssertEqual(first.time, created, "a service seen for the first time counts from its creation")
        XCTAssertEqual(tracker.observe(service: service, pods: []).time, created, "not recorded: reported again")
        tracker.record(first)
        XCTAssertNil(tracker.observe(service: service, pods: [pod("a", readySince: nil)]).time)

        let ready = tracker.observe(
            service: service,
            pods: [pod("a", readySince: "2024-01-01T00:01:00Z"), pod("b", readySince: "2024-01-01T00:00:30Z")])
        XCTAssertEqual(ready.time, Timestamp.parse("2024-01-01T00:00:30Z"), "the earliest of the changes")
        tracker.record(ready)
        XCTAssertNil(
            tracker.observe(
                service: service,
                pods: [pod("a", readySince: "2024-01-01T00:01:00Z"), pod("b", readySince: "2024-01-01T00:00:30Z")]
            ).time)
    }
}
