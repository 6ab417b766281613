import APIMachinery
import APIServer
import XCTest

@testable import Client

/// The generated models: realistic manifests survive a round trip, unknown fields are kept, errors name
/// the field, and the conveniences behave as upstream's.
final class ModelTests: XCTestCase {
    private func json(_ text: String) throws -> JSON { try JSON.parse(text) }

    /// Decodes `text` as `T`, checks the JSON comes back equal (object key order aside) and that a second
    /// decode gives an equal model.
    @discardableResult
    private func assertRoundTrip<T: JSONModel>(
        _ type: T.Type, _ text: String, file: StaticString = #filePath, line: UInt = #line
    ) throws -> T {
        let input = try json(text)
        let model = try T(json: input)
        XCTAssertEqual(model.toJSON(), input, file: file, line: line)
        XCTAssertEqual(try T(json: model.toJSON()), model, file: file, line: line)
        return model
    }

    private func assertError<T: JSONModel>(
        _ type: T.Type, _ text: String, path: String, message: String, file: StaticString = #filePath,
        line: UInt = #line
    ) throws {
        let input = try json(text)
        do {
            _ = try T(json: input)
            XCTFail("decoded without error", file: file, line: line)
        } catch {
            XCTAssertEqual(error, ModelError(path: path, message: message), file: file, line: line)
        }
    }

    func testPodWithProbesVolumesResourcesAffinityAndTolerationsRoundTrips() throws {
        let pod = try assertRoundTrip(Pod.self, ModelFixtures.pod)
        XCTAssertEqual(pod.metadata.name, "web-7d4b9c")
        XCTAssertEqual(pod.metadata.labels["app"], "web")
        XCTAssertEqual(pod.metadata.ownerReferences.first?.controller, true)
        XCTAssertEqual(pod.spec.nodeName, "node-1")
        XCTAssertEqual(pod.spec.containers.map(\.name), ["web", "sidecar"])
        let web = pod.spec.containers[0]
        XCTAssertEqual(web.ports.map(\.containerPort), [8080, 9090])
        XCTAssertEqual(web.resources?.requests["cpu"], try Quantity(parsing: "0.1"))
        XCTAssertEqual(web.resources?.limits["memory"]?.value, 256 * 1024 * 1024)
        XCTAssertEqual(web.livenessProbe?.httpGet?.port, .string("http"))
        XCTAssertEqual(web.readinessProbe?.tcpSocket?.port, .int(8080))
        XCTAssertEqual(pod.spec.volumes.map(\.name), ["data", "config", "token"])
        XCTAssertNotNil(pod.spec.volumes[0].emptyDir)
        XCTAssertEqual(pod.spec.tolerations.map(\.`operator`), ["Exists", "Equal"])
        XCTAssertEqual(pod.spec.tolerations[0].tolerationSeconds, 300)
        let term = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms
        XCTAssertEqual(term?.first?.matchExpressions.first?.values, ["linux"])
        XCTAssertEqual(pod.status.phase, "Running")
        XCTAssertEqual(pod.status.conditions.map(\.type), ["Ready"])
        XCTAssertEqual(pod.status.containerStatuses.first?.state?.running?.startedAt, "2024-05-01T10:00:02Z")
        // Free-form fields stay as sent.
        XCTAssertEqual(pod.metadata.managedFields.first?.fieldsV1?[path: "f:spec", "f:nodeName"], [:])
    }

    func testNodeWithCapacityConditionsAndTaintsRoundTrips() throws {
        let node = try assertRoundTrip(Node.self, ModelFixtures.node)
        XCTAssertEqual(node.status.allocatable["cpu"], Quantity(milliValue: 3800))
        XCTAssertEqual(node.status.capacity["memory"], try Quantity(parsing: "16389212Ki"))
        XCTAssertEqual(node.status.capacity["pods"]?.value, 110)
        XCTAssertEqual(node.spec.taints.map(\.effect), ["NoSchedule", "NoExecute"])
        XCTAssertEqual(node.status.conditions.first { $0.type == "Ready" }?.status, "True")
        XCTAssertEqual(node.status.addresses.map(\.address), ["10.0.0.11", "node-1"])
        XCTAssertEqual(node.status.nodeInfo?.kubeletVersion, "v1.32.0")
        XCTAssertEqual(node.status.daemonEndpoints?.kubeletEndpoint?.Port, 10250)
        XCTAssertEqual(node.key.description, "node-1")
    }

    func testDeploymentLeaseAndEventsV1EventRoundTrip() throws {
        let deployment = try assertRoundTrip(Deployment.self, ModelFixtures.deployment)
        XCTAssertEqual(deployment.spec.replicas, 3)
        XCTAssertEqual(deployment.spec.strategy?.rollingUpdate?.maxSurge, "25%")
        XCTAssertEqual(deployment.spec.strategy?.rollingUpdate?.maxUnavailable, 0)
        XCTAssertEqual(deployment.spec.template?.spec?.containers.first?.image, "nginx:1.27")
        XCTAssertEqual(deployment.spec.selector?.matchLabels, ["app": "web"])

        let lease = try assertRoundTrip(Lease.self, ModelFixtures.lease)
        XCTAssertEqual(lease.spec.holderIdentity, "cp-1_3f2a")
        XCTAssertEqual(lease.spec.leaseDurationSeconds, 15)
        XCTAssertEqual(lease.spec.renewTime, "2024-05-01T10:00:05.123456Z")
        XCTAssertEqual(lease.key, ObjectKey(namespace: "kube-system", name: "kube-scheduler"))

        let event = try assertRoundTrip(EventsV1Event.self, ModelFixtures.event)
        XCTAssertEqual(event.eventTime, "2024-05-01T10:00:00.000000Z")
        XCTAssertEqual(event.series?.count, 4)
        XCTAssertEqual(event.regarding?.kind, "Pod")
        XCTAssertEqual(event.reportingController, "default-scheduler")
    }

    func testUnknownFieldsSurviveARoundTripAndAMutation() throws {
        let input = try json(
            """
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","futureMeta":"m"},
             "spec":{"containers":[{"name":"c","image":"nginx","futureContainerField":{"x":[1,2]}}],
                     "futureSpecField":true},
             "futureTopLevel":{"nested":"yes"}}
            """)
        var pod = try Pod(json: input)
        XCTAssertEqual(pod.unknownFields, ["futureTopLevel": ["nested": "yes"]])
        XCTAssertEqual(pod.spec.unknownFields, ["futureSpecField": true])
        XCTAssertEqual(pod.toJSON(), input)

        pod.spec.nodeName = "node-1"
        pod.spec.containers[0].image = "nginx:1.27"
        var expected = input
        expected.set(["spec", "nodeName"], to: "node-1")
        expected.set(
            ["spec", "containers"], to: [["name": "c", "image": "nginx:1.27", "futureContainerField": ["x": [1, 2]]]])
        XCTAssertEqual(pod.toJSON(), expected)
        // Known fields come first, in the schema's order, then the unknown ones as they came.
        XCTAssertEqual(pod.spec.containers[0].toJSON().objectValue?.keys, ["image", "name", "futureContainerField"])
        XCTAssertEqual(pod.toJSON().objectValue?.keys, ["apiVersion", "kind", "metadata", "spec", "futureTopLevel"])
    }

    func testWrongTypesAndOutOfRangeIntegersNameTheField() throws {
        try assertError(
            Pod.self,
            #"{"spec":{"containers":[{"name":"c","ports":[{"containerPort":80},{"containerPort":"81"}]}]}}"#,
            path: "spec.containers[0].ports[1].containerPort", message: "expected integer, got string")
        try assertError(
            Pod.self, #"{"spec":{"containers":[{"name":"c","ports":[{"containerPort":3000000000}]}]}}"#,
            path: "spec.containers[0].ports[0].containerPort", message: "integer 3000000000 out of range for int32")
        try assertError(
            Pod.self, #"{"spec":{"containers":[{"name":"c","ports":[{"containerPort":80.5}]}]}}"#,
            path: "spec.containers[0].ports[0].containerPort", message: "expected integer, got number")
        try assertError(
            Pod.self, #"{"metadata":{"labels":{"app":1}}}"#, path: "metadata.labels[app]",
            message: "expected string, got integer")
        try assertError(
            Pod.self, #"{"metadata":{"labels":["app"]}}"#, path: "metadata.labels",
            message: "expected object, got array")
        try assertError(
            Pod.self, #"{"spec":{"containers":{"name":"c"}}}"#, path: "spec.containers",
            message: "expected array, got object")
        try assertError(
            Pod.self, #"{"spec":{"hostNetwork":"true"}}"#, path: "spec.hostNetwork",
            message: "expected boolean, got string")
        try assertError(
            Service.self, #"{"spec":{"ports":[{"port":80,"targetPort":true}]}}"#, path: "spec.ports[0].targetPort",
            message: "expected integer or string, got boolean")
        try assertError(Pod.self, "[]", path: "", message: "expected object, got array")
        try assertError(Lease.self, #"{"spec":"x"}"#, path: "spec", message: "expected object, got string")
    }

    func testABadQuantityNamesItsField() throws {
        try assertError(
            Pod.self, #"{"spec":{"containers":[{"name":"c","resources":{"limits":{"cpu":"lots"}}}]}}"#,
            path: "spec.containers[0].resources.limits[cpu]",
            message: "invalid quantity: \(QuantityError.formatWrong.description)")
        try assertError(
            Node.self, #"{"status":{"capacity":{"memory":"12kK"}}}"#, path: "status.capacity[memory]",
            message: "invalid quantity: \(QuantityError.suffix.description)")
    }

    func testNullReadsAsAbsentAsForGosDecoder() throws {
        let pod = try Pod(json: json(#"{"spec":{"nodeName":null,"containers":null,"nodeSelector":null}}"#))
        XCTAssertNil(pod.spec.nodeName)
        XCTAssertEqual(pod.spec.containers, [])
        XCTAssertEqual(pod.spec.nodeSelector, [:])
        let condition = try PodCondition(json: json(#"{"type":"Ready","status":"True","lastProbeTime":null}"#))
        XCTAssertEqual(condition.toJSON(), ["status": "True", "type": "Ready"])
    }

    func testMemberwiseInitBuildsThePodJSONAServerAccepts() throws {
        let pod = Pod(
            metadata: ObjectMeta(labels: ["tier": "web", "app": "nginx"], name: "a", namespace: "default"),
            spec: PodSpec(
                containers: [
                    Container(
                        name: "c", image: "nginx", ports: [ContainerPort(containerPort: 80, name: "http")],
                        resources: ResourceRequirements(requests: ["cpu": Quantity(milliValue: 250)]))
                ],
                tolerations: [Toleration(effect: "NoSchedule", key: "dedicated", operator: "Exists")]))
        let expected = #"""
            {"apiVersion":"v1","kind":"Pod","metadata":{"labels":{"app":"nginx","tier":"web"},"name":"a",\#
            "namespace":"default"},"spec":{"containers":[{"image":"nginx","name":"c","ports":[{"containerPort":80,\#
            "name":"http"}],"resources":{"requests":{"cpu":"250m"}}}],"tolerations":[{"effect":"NoSchedule",\#
            "key":"dedicated","operator":"Exists"}]}}
            """#
        XCTAssertEqual(pod.toJSON().jsonString, expected)
        XCTAssertEqual(Pod().toJSON().jsonString, #"{"apiVersion":"v1","kind":"Pod","metadata":{}}"#)
        XCTAssertEqual(
            Taint(key: "node.kubernetes.io/unschedulable", effect: "NoSchedule").toJSON().jsonString,
            #"{"effect":"NoSchedule","key":"node.kubernetes.io/unschedulable"}"#)
    }

    func testAKindWritesItsOwnApiVersionAndKindWhenAbsentAndKeepsThoseSent() throws {
        let lease = try Lease(json: json(#"{"metadata":{"name":"l"}}"#))
        XCTAssertEqual(lease.toJSON()["apiVersion"], "coordination.k8s.io/v1")
        XCTAssertEqual(lease.toJSON()["kind"], "Lease")
        let event = try EventsV1Event(json: json(#"{"apiVersion":"events.k8s.io/v1","kind":"Event"}"#))
        XCTAssertEqual(event.toJSON()["apiVersion"], "events.k8s.io/v1")
        XCTAssertEqual(Event().toJSON()["apiVersion"], "v1")
    }

    func testEveryKindsDescriptorMatchesWhatTheAPIServerServes() throws {
        XCTAssertEqual(ModelKinds.all.count, 40)
        XCTAssertEqual(Set(ModelKinds.all.map { $0.resource }).count, ModelKinds.all.count)
        var served: Set<String> = []
        for model in ModelKinds.all {
            let descriptor = model.resource
            XCTAssertEqual(try model.init(json: [:]).toJSON()["kind"], .string(descriptor.kind))
            guard
                let definition = Catalog.resources.first(where: {
                    $0.group == descriptor.group && $0.version == descriptor.version && $0.kind == descriptor.kind
                })
            else { continue }
            XCTAssertEqual(definition.resource, descriptor.resource, "\(descriptor.apiVersion) \(descriptor.kind)")
            XCTAssertEqual(definition.namespaced, descriptor.namespaced, "\(descriptor.apiVersion) \(descriptor.kind)")
            served.insert("\(descriptor.apiVersion) \(descriptor.kind)")
        }
        XCTAssertTrue(
            served.isSuperset(of: [
                "v1 Pod", "v1 Node", "v1 Namespace", "v1 Event", "v1 PersistentVolume", "apps/v1 Deployment",
                "coordination.k8s.io/v1 Lease", "events.k8s.io/v1 Event", "discovery.k8s.io/v1 EndpointSlice",
                "policy/v1 PodDisruptionBudget",
            ]), "\(served.sorted())")
        // Binding and Eviction reach the server as subresources of pods.
        let pods = Catalog.resources.first { $0.group.isEmpty && $0.resource == "pods" }
        XCTAssertEqual(pods.map { Set($0.subresources).isSuperset(of: ["binding", "eviction"]) }, true)
    }

    func testObjectKeysPrintAndParseAsClientGosCacheKeys() {
        XCTAssertEqual(ObjectKey(namespace: "shop", name: "web").description, "shop/web")
        XCTAssertEqual(ObjectKey(name: "node-1").description, "node-1")
        XCTAssertEqual(ObjectKey(parsing: "shop/web"), ObjectKey(namespace: "shop", name: "web"))
        XCTAssertEqual(ObjectKey(parsing: "node-1"), ObjectKey(name: "node-1"))
        XCTAssertNil(ObjectKey(parsing: "a/b/c"))
        XCTAssertEqual(
            [ObjectKey(namespace: "b", name: "a"), ObjectKey(namespace: "a", name: "z"), ObjectKey(name: "m")].sorted(),
            [ObjectKey(name: "m"), ObjectKey(namespace: "a", name: "z"), ObjectKey(namespace: "b", name: "a")])
        XCTAssertEqual(Pod(metadata: ObjectMeta(name: "p", namespace: "ns")).key, ObjectKey(namespace: "ns", name: "p"))
    }

    func testIntOrStringScalesPercentagesAsUpstream() throws {
        XCTAssertEqual(try IntOrString.int(5).scaledValue(total: 100, roundUp: true), 5)
        XCTAssertEqual(try IntOrString("25%").scaledValue(total: 10, roundUp: true), 3)
        XCTAssertEqual(try IntOrString("25%").scaledValue(total: 10, roundUp: false), 2)
        XCTAssertEqual(try IntOrString("50%").scaledValue(total: 3, roundUp: true), 2)
        XCTAssertEqual(try IntOrString("50%").scaledValue(total: 3, roundUp: false), 1)
        XCTAssertEqual(try IntOrString("100%").scaledValue(total: 7, roundUp: false), 7)
        XCTAssertEqual(try IntOrString("0%").scaledValue(total: 7, roundUp: true), 0)
        XCTAssertEqual(try IntOrString("-10%").scaledValue(total: 15, roundUp: false), -2)
        XCTAssertThrowsError(try IntOrString("25").scaledValue(total: 10, roundUp: true)) {
            XCTAssertEqual(
                "\($0)", "invalid value for IntOrString: invalid type: string is not a percentage")
        }
        XCTAssertThrowsError(try IntOrString("a%").scaledValue(total: 10, roundUp: true))
        XCTAssertThrowsError(try IntOrString.string("\(Int.max)%").scaledValue(total: 2, roundUp: true))
        XCTAssertEqual(IntOrString.int(8080).description, "8080")
    }

    func testMetaLabelSelectorBecomesAMatchingLabelSelector() throws {
        let selector = try MetaLabelSelector(
            matchExpressions: [LabelSelectorRequirement(key: "track", operator: "NotIn", values: ["canary"])],
            matchLabels: ["app": "web"]
        ).labelSelector()
        XCTAssertTrue(selector.matches(["app": "web", "track": "stable"]))
        XCTAssertTrue(selector.matches(["app": "web"]))
        XCTAssertFalse(selector.matches(["app": "web", "track": "canary"]))
        XCTAssertFalse(selector.matches(["app": "db"]))
        XCTAssertTrue(try MetaLabelSelector().labelSelector().isEverything)
        XCTAssertThrowsError(
            try MetaLabelSelector(matchExpressions: [LabelSelectorRequirement(key: "a", operator: "Near")])
                .labelSelector())
    }
}
