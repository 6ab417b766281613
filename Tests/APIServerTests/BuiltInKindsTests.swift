import APIMachinery
import Foundation
import TestSupport
import XCTest

/// Upstream v1.32's remaining built-in kinds through kubectl against one server: discovery, the system
/// PriorityClasses and `kubectl create priorityclass`, pod priority from classes, templates and revisions,
/// and each kind's defaults, validation messages and `kubectl get` columns.
final class BuiltInKindsTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.101" }

    /// `kubectl create -f -` of a YAML document.
    func create(_ yaml: String) throws -> TestCluster.Output {
        try cluster.kubectl(["create", "-f", "-"], input: yaml)
    }

    /// One field of an object, through `-o jsonpath`.
    func field(_ resource: String, _ path: String, namespace: String? = nil) throws -> String {
        var arguments = ["get", resource, "-o", "jsonpath={\(path)}"]
        if let namespace { arguments += ["-n", namespace] }
        return expectSuccess(try cluster.kubectl(arguments))
    }

    /// The header and the named row of `kubectl get`, split into columns on runs of two or more spaces.
    func table(_ arguments: [String], row name: String) throws -> (header: [String], row: [String]) {
        let lines = expectSuccess(try cluster.kubectl(["get"] + arguments)).split(separator: "\n").map(String.init)
        func columns(_ line: String) -> [String] {
            line.components(separatedBy: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        let row = lines.dropFirst().first { $0.hasPrefix(name + " ") } ?? ""
        return (columns(lines.first ?? ""), columns(row))
    }

    func testAPIResourcesListsEveryNewKind() throws {
        let resources = expectSuccess(try cluster.kubectl(["api-resources", "--no-headers"]))
        let rows = Set(
            resources.split(separator: "\n").map {
                $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            })
        for expected in [
            "podtemplates v1 true PodTemplate", "controllerrevisions apps/v1 true ControllerRevision",
            "priorityclasses pc scheduling.k8s.io/v1 false PriorityClass",
            "runtimeclasses node.k8s.io/v1 false RuntimeClass",
            "certificatesigningrequests csr certificates.k8s.io/v1 false CertificateSigningRequest",
            "storageclasses sc storage.k8s.io/v1 false StorageClass", "csidrivers storage.k8s.io/v1 false CSIDriver",
            "csinodes storage.k8s.io/v1 false CSINode",
            "csistoragecapacities storage.k8s.io/v1 true CSIStorageCapacity",
            "volumeattachments storage.k8s.io/v1 false VolumeAttachment",
            "ingresses ing networking.k8s.io/v1 true Ingress",
            "ingressclasses networking.k8s.io/v1 false IngressClass",
            "networkpolicies netpol networking.k8s.io/v1 true NetworkPolicy",
            "horizontalpodautoscalers hpa autoscaling/v2 true HorizontalPodAutoscaler",
            "mutatingwebhookconfigurations admissionregistration.k8s.io/v1 false MutatingWebhookConfiguration",
            "validatingwebhookconfigurations admissionregistration.k8s.io/v1 false ValidatingWebhookConfiguration",
            "bindings v1 true Binding", "componentstatuses cs v1 false ComponentStatus",
            "validatingadmissionpolicies admissionregistration.k8s.io/v1 false ValidatingAdmissionPolicy",
            "validatingadmissionpolicybindings admissionregistration.k8s.io/v1 false ValidatingAdmissionPolicyBinding",
            "flowschemas flowcontrol.apiserver.k8s.io/v1 false FlowSchema",
            "prioritylevelconfigurations flowcontrol.apiserver.k8s.io/v1 false PriorityLevelConfiguration",
            "apiservices apiregistration.k8s.io/v1 false APIService",
        ] {
            XCTAssertTrue(rows.contains(expected), "api-resources lacks \(expected)")
        }
    }

    /// The older `bindings` resource binds the pod its object names, once, as the pods' binding subresource does.
    func testBindingsResourceBindsThePodItNames() throws {
        let namespace = "bindings-\(UInt32.random(in: 0...UInt32.max))"
        expectSuccess(try cluster.kubectl(["create", "namespace", namespace]))
        expectSuccess(try cluster.kubectl(["run", "lonely", "-n", namespace, "--image=nginx"]))
        let binding = """
            {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "lonely", "namespace": "\(namespace)"},
             "target": {"apiVersion": "v1", "kind": "Node", "name": "node-a"}}
            """
        expectSuccess(try create(binding))
        XCTAssertEqual(try field("pod/lonely", ".spec.nodeName", namespace: namespace), "node-a")
        let again = try create(binding)
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(
            again.stderr.contains("pod lonely is already assigned to node \"node-a\""), again.stderr)
        // kubectl's own validation would refuse it first: the server's answer needs --validate=false.
        let noTarget = try cluster.kubectl(
            ["create", "--validate=false", "-f", "-"],
            input:
                #"{"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "lonely", "namespace": "\#(namespace)"}}"#
        )
        XCTAssertTrue(noTarget.stderr.contains("target.name: Required value"), noTarget.stderr)
    }

    func testSystemPriorityClassesExistAndKubectlCreatesOne() throws {
        let critical = try table(["priorityclasses"], row: "system-cluster-critical")
        XCTAssertEqual(critical.header, ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"])
        XCTAssertEqual(critical.row.prefix(3), ["system-cluster-critical", "2000000000", "false"])
        XCTAssertEqual(critical.row.last, "PreemptLowerPriority")
        XCTAssertEqual(try field("pc/system-node-critical", ".value"), "2000001000")

        XCTAssertEqual(
            expectSuccess(try cluster.kubectl(["create", "priorityclass", "high", "--value=1000"])),
            "priorityclass.scheduling.k8s.io/high created\n")
        XCTAssertEqual(try field("pc/high", ".preemptionPolicy"), "PreemptLowerPriority")
        let deleting = try cluster.kubectl(["delete", "pc", "system-node-critical"])
        XCTAssertTrue(
            deleting.stderr.contains(
                "priorityclasses.scheduling.k8s.io \"system-node-critical\" is forbidden: this is a system priority class and cannot be deleted"
            ), deleting.stderr)
    }

    func testPriorityClassValidationAndTheSingleGlobalDefault() throws {
        let huge = try cluster.kubectl(["create", "priorityclass", "huge", "--value=2000000000"])
        XCTAssertTrue(
            huge.stderr.contains(
                "\"huge\" is invalid: value: Forbidden: maximum allowed value of a user defined priority is 1000000000"),
            huge.stderr)
        let reserved = try cluster.kubectl(["create", "priorityclass", "system-mine", "--value=10"])
        XCTAssertTrue(
            reserved.stderr.contains(
                "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class"
            ), reserved.stderr)
        expectSuccess(
            try cluster.kubectl(["create", "priorityclass", "first-default", "--value=5", "--global-default"]))
        let second = try cluster.kubectl(["create", "priorityclass", "second-default", "--value=6", "--global-default"])
        XCTAssertTrue(
            second.stderr.contains(
                "priorityclasses.scheduling.k8s.io \"second-default\" is forbidden: PriorityClass first-default is already marked as default. Only one default can exist"
            ), second.stderr)
        let changed = try cluster.kubectl(["patch", "pc", "first-default", "-p", #"{"value": 7}"#])
        XCTAssertTrue(changed.stderr.contains("value: Forbidden: may not be changed in an update."), changed.stderr)

        // Pods take their priority from their class, or from the global default.
        expectSuccess(try cluster.kubectl(["create", "priorityclass", "urgent", "--value=900"]))
        expectSuccess(
            try cluster.kubectl([
                "run", "classed", "--image=nginx", "--overrides", #"{"spec": {"priorityClassName": "urgent"}}"#,
            ]))
        XCTAssertEqual(try field("pod/classed", ".spec.priority", namespace: "default"), "900")
        expectSuccess(try cluster.kubectl(["run", "plain", "--image=nginx"]))
        XCTAssertEqual(try field("pod/plain", ".spec.priorityClassName", namespace: "default"), "first-default")
        XCTAssertEqual(try field("pod/plain", ".spec.priority", namespace: "default"), "5")
        let unknown = try cluster.kubectl([
            "run", "lost", "--image=nginx", "--overrides", #"{"spec": {"priorityClassName": "nope"}}"#,
        ])
        XCTAssertTrue(
            unknown.stderr.contains("pods \"lost\" is forbidden: no PriorityClass with name nope was found"),
            unknown.stderr)
        expectSuccess(try cluster.kubectl(["delete", "pod", "classed", "plain", "--grace-period=0", "--force"]))
        expectSuccess(try cluster.kubectl(["delete", "pc", "first-default"]))
    }

    func testPodTemplatesAndControllerRevisions() throws {
        expectSuccess(
            try create(
                """
                apiVersion: v1
                kind: PodTemplate
                metadata: {name: web, namespace: default}
                template:
                  metadata: {labels: {app: web, tier: front}}
                  spec: {containers: [{name: nginx, image: "nginx:1.27"}]}
                """))
        XCTAssertEqual(try field("podtemplate/web", ".template.spec.restartPolicy", namespace: "default"), "Always")
        let templates = try table(["podtemplates", "-n", "default"], row: "web")
        XCTAssertEqual(templates.header, ["NAME", "CONTAINERS", "IMAGES", "POD LABELS"])
        XCTAssertEqual(templates.row, ["web", "nginx", "nginx:1.27", "app=web,tier=front"])
        let empty = try create("apiVersion: v1\nkind: PodTemplate\nmetadata: {name: empty, namespace: default}\n")
        XCTAssertTrue(empty.stderr.contains("template.spec: Required value"), empty.stderr)

        expectSuccess(
            try create(
                """
                apiVersion: apps/v1
                kind: ControllerRevision
                metadata:
                  name: web-5d8f
                  namespace: default
                  ownerReferences: [{apiVersion: apps/v1, kind: DaemonSet, name: web, uid: 1b7e0f3a-1111-4c8e-9a55-000000000001, controller: true}]
                revision: 3
                data: {spec: {template: {metadata: {labels: {app: web}}}}}
                """))
        let revisions = try table(["controllerrevisions", "-n", "default"], row: "web-5d8f")
        XCTAssertEqual(revisions.header, ["NAME", "CONTROLLER", "REVISION", "AGE"])
        XCTAssertEqual(revisions.row.prefix(3), ["web-5d8f", "daemonset.apps/web", "3"])
        let changed = try cluster.kubectl([
            "patch", "controllerrevision", "web-5d8f", "-n", "default", "-p", #"{"data": {"x": 1}}"#,
        ])
        XCTAssertTrue(changed.stderr.contains("data: Invalid value"), changed.stderr)
        XCTAssertTrue(changed.stderr.contains("field is immutable"), changed.stderr)
        let missing = try create(
            "apiVersion: apps/v1\nkind: ControllerRevision\nmetadata: {name: bare, namespace: default}\nrevision: 1\n")
        XCTAssertTrue(missing.stderr.contains("data: Required value: data is mandatory"), missing.stderr)
        expectSuccess(try cluster.kubectl(["delete", "controllerrevision", "web-5d8f", "-n", "default"]))
        expectSuccess(try cluster.kubectl(["delete", "podtemplate", "web", "-n", "default"]))
        XCTAssertTrue(
            try cluster.kubectl(["get", "podtemplates", "-n", "default"]).stderr.contains("No resources found"))
    }
}
