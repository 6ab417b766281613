import APIMachinery
import Schemas
import XCTest

final class PruningTests: XCTestCase {
    let registry = SchemaRegistry.shared
    let pod = GroupVersionKind(group: "", version: "v1", kind: "Pod")
    let deployment = GroupVersionKind(group: "apps", version: "v1", kind: "Deployment")
    let service = GroupVersionKind(group: "", version: "v1", kind: "Service")

    func testFullObjectsSurvivePruningByteForByte() throws {
        for (text, kind) in [
            (TestObjects.pod, pod), (TestObjects.deployment, deployment), (TestObjects.service, service),
        ] {
            let original = try JSON.parse(text)
            var pruned = original
            let removed = registry.prune(&pruned, kind: kind)
            XCTAssertEqual(removed, [], "\(kind)")
            XCTAssertEqual(pruned.encoded(), original.encoded(), "\(kind)")
        }
    }

    func testUnknownFieldsAtSeveralDepthsAreRemovedAndReported() throws {
        var object = try JSON.parse(
            #"""
            {"apiVersion":"v1","kind":"Pod","bogus":1,
             "metadata":{"name":"p","nope":true,"labels":{"any-key":"kept"}},
             "spec":{"foo":"x","containers":[
                {"name":"a","image":"i","extra":{"deep":1},"ports":[{"containerPort":80,"hostt":1}]},
                {"name":"b","image":"i","env":[{"name":"E","value":"v","valueFrom":{"fieldRef":{"fieldPath":"x","wat":2}}}]}],
              "nodeSelector":{"a":"b"},
              "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"k","operator":"In","oops":[]}]}]}}}},
             "status":{"phase":"Running","mystery":null}}
            """#)
        let removed = registry.prune(&object, kind: pod)
        XCTAssertEqual(
            removed,
            [
                "bogus",
                "metadata.nope",
                "spec.foo",
                "spec.containers[0].extra",
                "spec.containers[0].ports[0].hostt",
                "spec.containers[1].env[0].valueFrom.fieldRef.wat",
                "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].oops",
                "status.mystery",
            ])
        let expected = try JSON.parse(
            #"""
            {"apiVersion":"v1","kind":"Pod",
             "metadata":{"name":"p","labels":{"any-key":"kept"}},
             "spec":{"containers":[
                {"name":"a","image":"i","ports":[{"containerPort":80}]},
                {"name":"b","image":"i","env":[{"name":"E","value":"v","valueFrom":{"fieldRef":{"fieldPath":"x"}}}]}],
              "nodeSelector":{"a":"b"},
              "affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"k","operator":"In"}]}]}}}},
             "status":{"phase":"Running"}}
            """#)
        XCTAssertEqual(object.encoded(), expected.encoded())
    }

    func testDeploymentTemplateIsPrunedLikeAPod() throws {
        var object = try JSON.parse(
            #"""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},
             "spec":{"replicas":1,"selector":{"matchLabels":{"a":"b"},"extra":1},
              "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxSurprise":1}},
              "template":{"metadata":{"labels":{"a":"b"},"labelz":{}},"spec":{"containers":[{"name":"c","image":"i","imagePullPolice":"Always"}]}}}}
            """#)
        XCTAssertEqual(
            registry.prune(&object, kind: deployment),
            [
                "spec.selector.extra", "spec.strategy.rollingUpdate.maxSurprise", "spec.template.metadata.labelz",
                "spec.template.spec.containers[0].imagePullPolice",
            ])
        XCTAssertEqual(object[path: "spec", "strategy", "rollingUpdate"], ["maxSurge": "25%"])
    }

    func testFreeFormValuesAreLeftAlone() throws {
        let text = #"""
            {"apiVersion":"v1","kind":"ConfigMap",
             "metadata":{"name":"c","annotations":{"x/y":"z"},
              "managedFields":[{"manager":"m","fieldsType":"FieldsV1","fieldsV1":{"f:data":{"f:anything":{}}}}]},
             "data":{"k":"v"},"binaryData":{"b":"AAEC"},"immutable":false}
            """#
        var object = try JSON.parse(text)
        XCTAssertEqual(registry.prune(&object, kind: GroupVersionKind(group: "", version: "v1", kind: "ConfigMap")), [])
        XCTAssertEqual(object.encoded(), try JSON.parse(text).encoded())
    }

    func testValuesOfTheWrongTypeAreLeftForValidation() throws {
        let text =
            #"{"apiVersion":"v1","kind":"Pod","metadata":"oops","spec":{"containers":{"not":"a list"},"nodeSelector":[1]}}"#
        var object = try JSON.parse(text)
        XCTAssertEqual(registry.prune(&object, kind: pod), [])
        XCTAssertEqual(object.encoded(), try JSON.parse(text).encoded())
    }

    func testTypeMetaAndMetadataAreAlwaysKept() throws {
        // Eviction and Scale have no status or spec of their own beyond what the schema lists.
        var eviction = try JSON.parse(
            #"{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"p"},"deleteOptions":{"gracePeriodSeconds":0,"x":1},"spec":{}}"#
        )
        XCTAssertEqual(
            registry.prune(&eviction, kind: GroupVersionKind(group: "policy", version: "v1", kind: "Eviction")),
            ["deleteOptions.x", "spec"])
        XCTAssertEqual(eviction["apiVersion"], "policy/v1")
        XCTAssertEqual(eviction["kind"], "Eviction")
        XCTAssertEqual(eviction[path: "metadata", "name"], "p")
    }

    func testUnknownKindIsUntouched() throws {
        var object = try JSON.parse(#"{"apiVersion":"example.com/v1","kind":"Widget","spec":{"x":1}}"#)
        let before = object
        XCTAssertEqual(
            registry.prune(&object, kind: GroupVersionKind(group: "example.com", version: "v1", kind: "Widget")), [])
        XCTAssertEqual(object, before)
    }

    func testFieldsBesideMapsOfQuantitiesArePruned() throws {
        // LimitRange items hold maps of quantities; their keys are free, their siblings are not.
        var object = try JSON.parse(
            #"{"apiVersion":"v1","kind":"LimitRange","metadata":{"name":"l"},"spec":{"limits":[{"type":"Container","max":{"cpu":"1"},"min":{"cpu":"1m"},"maxx":{}}]}}"#
        )
        XCTAssertEqual(
            registry.prune(&object, kind: GroupVersionKind(group: "", version: "v1", kind: "LimitRange")),
            ["spec.limits[0].maxx"])
    }

    func testUpstreamMessageWording() {
        XCTAssertEqual(SchemaRegistry.unknownFieldMessage("spec.foo"), #"unknown field "spec.foo""#)
        XCTAssertEqual(SchemaRegistry.unknownFieldMessage("a\"b\\c\n"), #"unknown field "a\"b\\c\n""#)
        XCTAssertEqual(
            SchemaRegistry.strictDecodingMessage(["spec.a", "spec.containers[0].b"]),
            #"strict decoding error: unknown field "spec.a", unknown field "spec.containers[0].b""#)
    }
}
