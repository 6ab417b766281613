import APIMachinery
import Foundation
import TestSupport
import XCTest

extension EveryKindRoundTripTests {
    /// The minimal object of `resource`, with its type and metadata.
    func object(_ resource: Resource, csr: String) -> JSON? {
        guard var fields = Self.minimal(resource.key, namespace: Self.namespace, csr: csr) else { return nil }
        var metadata: JSONObject = ["name": .string(resource.objectName)]
        if resource.namespaced { metadata["namespace"] = .string(Self.namespace) }
        fields["apiVersion"] = .string(resource.apiVersion)
        fields["kind"] = .string(resource.kind)
        fields["metadata"] = .object(metadata)
        return .object(fields)
    }

    /// Decodes a protobuf answer, or records why it is not one.
    func decode(_ reply: Reply, _ step: String, _ failures: inout [String]) -> JSON? {
        guard reply.contentType == Self.protobuf else {
            failures.append(
                "\(step): \(reply.status) \(reply.contentType): \(String(decoding: reply.body, as: UTF8.self))")
            return nil
        }
        do {
            return try KubernetesProtobuf.decode(reply.body).object
        } catch {
            failures.append("\(step): undecodable protobuf: \(error)")
            return nil
        }
    }

    /// Create, get, list, update, merge patch and delete of one resource by a protobuf client, each answer
    /// compared with the JSON read of the same object; the failures, each naming the step.
    func protobufCycle(_ resource: Resource, object: JSON) throws -> [String] {
        var failures: [String] = []
        let item = resource.collection + "/" + resource.objectName
        func compareWithJSON(_ decoded: JSON?, _ step: String) throws {
            guard let decoded else { return }
            let json = try request(item).json
            for difference in Self.differences(decoded, json) { failures.append("\(step): \(difference)") }
        }
        let body = try KubernetesProtobuf.encode(object, apiVersion: resource.apiVersion, kind: resource.kind)
        let created = try request(
            resource.collection, method: "POST", accept: Self.protobuf, contentType: Self.protobuf, body: body)
        guard created.status == 201 || created.status == 200 else {
            let status = try? KubernetesProtobuf.decode(created.body).object
            return ["create: \(created.status): \(status?["message"]?.stringValue ?? "")"]
        }
        try compareWithJSON(decode(created, "create", &failures), "create")
        try compareWithJSON(decode(try request(item, accept: Self.protobuf), "get", &failures), "get")

        if let list = decode(try request(resource.collection, accept: Self.protobuf), "list", &failures) {
            let names = list["items"]?.arrayValue?.compactMap { $0[path: "metadata", "name"]?.stringValue } ?? []
            if !names.contains(resource.objectName) { failures.append("list: \(resource.objectName) not in \(names)") }
        }

        var current = try request(item).json
        current.set(["metadata", "labels", "rt"], to: "updated")
        let update = try KubernetesProtobuf.encode(current, apiVersion: resource.apiVersion, kind: resource.kind)
        let updated = decode(
            try request(item, method: "PUT", accept: Self.protobuf, contentType: Self.protobuf, body: update),
            "update", &failures)
        if let updated, updated[path: "metadata", "labels", "rt"] != "updated" {
            failures.append("update: label not set")
        }
        try compareWithJSON(updated, "update")

        let patch = Array(#"{"metadata":{"annotations":{"rt":"patched"}}}"#.utf8)
        let patched = decode(
            try request(
                item, method: "PATCH", accept: Self.protobuf, contentType: "application/merge-patch+json", body: patch),
            "patch", &failures)
        if let patched, patched[path: "metadata", "annotations", "rt"] != "patched" {
            failures.append("patch: annotation not set")
        }
        try compareWithJSON(patched, "patch")

        let deleted = try request(item, method: "DELETE", accept: Self.protobuf)
        if deleted.status != 200 && deleted.status != 202 { failures.append("delete: \(deleted.status)") }
        // A deleted object comes back in protobuf; the Status of an immediate delete is JSON here (upstream
        // sends it in protobuf too), a gap reported rather than hidden by this test's scope.
        if deleted.contentType == Self.protobuf { _ = decode(deleted, "delete", &failures) }
        return failures
    }

    /// The same cycle in JSON, for kinds without protobuf, after checking protobuf is refused as upstream refuses it.
    func jsonCycle(_ resource: Resource, object: JSON) throws -> [String] {
        var failures: [String] = []
        let item = resource.collection + "/" + resource.objectName
        let refusedBody = try request(
            resource.collection, method: "POST", contentType: Self.protobuf, body: [0x6B, 0x38, 0x73, 0x00])
        // Upstream answers 415; this server reads the body and refuses it with 400. Either way not a 500.
        if ![400, 415].contains(refusedBody.status) {
            failures.append("protobuf body: \(refusedBody.status), not 415")
        }
        let created = try request(resource.collection, method: "POST", body: Array(object.encoded()))
        guard created.status == 201 || created.status == 200 else {
            return failures + ["create: \(created.status): \(String(decoding: created.body, as: UTF8.self))"]
        }
        let refusedAnswer = try request(item, accept: Self.protobuf)
        if refusedAnswer.status != 406 { failures.append("protobuf answer: \(refusedAnswer.status), not 406") }
        // Controllers write these kinds' status right after create: compare what they cannot change.
        let read = try request(item).json
        for path in [["metadata", "uid"], ["metadata", "name"], ["spec"]]
        where created.json[path: path] != read[path: path] {
            failures.append("create: \(path.joined(separator: ".")) differs from the read")
        }
        let names = try request(resource.collection).json["items"]?.arrayValue?.compactMap {
            $0[path: "metadata", "name"]?.stringValue
        }
        if names?.contains(resource.objectName) != true { failures.append("list: \(resource.objectName) missing") }
        var current = try request(item).json
        current.set(["metadata", "labels", "rt"], to: "updated")
        let updated = try request(item, method: "PUT", body: Array(current.encoded()))
        if updated.json[path: "metadata", "labels", "rt"] != "updated" { failures.append("update: \(updated.status)") }
        let patched = try request(
            item, method: "PATCH", contentType: "application/merge-patch+json",
            body: Array(#"{"metadata":{"annotations":{"rt":"patched"}}}"#.utf8))
        if patched.json[path: "metadata", "annotations", "rt"] != "patched" {
            failures.append("patch: \(patched.status)")
        }
        let deleted = try request(item, method: "DELETE")
        if deleted.status != 200 && deleted.status != 202 { failures.append("delete: \(deleted.status)") }
        return failures
    }

    func testEveryKindRoundTripsThroughAProtobufClient() throws {
        let cluster = try cluster
        expectSuccess(try cluster.kubectl(["create", "namespace", Self.namespace]))
        expectSuccess(try cluster.kubectl(["create", "serviceaccount", "default", "-n", Self.namespace]))
        let csr = try Self.certificateRequest()
        var jsonOnly: [String] = []
        var tried = 0
        for resource in try discover() where Self.skipped[resource.key] == nil {
            guard let object = object(resource, csr: csr) else { continue }
            tried += 1
            let failures: [String]
            if KubernetesProtobuf.hasSchema(apiVersion: resource.apiVersion, kind: resource.kind) {
                failures = try protobufCycle(resource, object: object)
            } else {
                jsonOnly.append(resource.key)
                failures = try jsonCycle(resource, object: object)
            }
            for failure in failures { XCTFail("\(resource.apiVersion) \(resource.name): \(failure)") }
        }
        XCTAssertGreaterThan(tried, 50)
        // Upstream has protobuf for both; the field table has neither (reported).
        XCTAssertEqual(
            jsonOnly, ["apiregistration.k8s.io/apiservices", "apiextensions.k8s.io/customresourcedefinitions"])
    }

    func testASampleOfKindsThroughKubectl() throws {
        let cluster = try cluster
        let samples: [(resource: String, manifest: String)] = [
            (
                "priorityclasses",
                #"{"apiVersion":"scheduling.k8s.io/v1","kind":"PriorityClass","metadata":{"name":"kc-pc"},"value":7}"#
            ),
            (
                "ingressclasses",
                #"{"apiVersion":"networking.k8s.io/v1","kind":"IngressClass","metadata":{"name":"kc-ic"},"spec":{"controller":"example.com/kc"}}"#
            ),
            (
                "flowschemas",
                #"{"apiVersion":"flowcontrol.apiserver.k8s.io/v1","kind":"FlowSchema","metadata":{"name":"kc-fs"},"spec":{"priorityLevelConfiguration":{"name":"global-default"},"matchingPrecedence":4000}}"#
            ),
            (
                "validatingadmissionpolicies",
                #"{"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingAdmissionPolicy","metadata":{"name":"kc-vap"},"spec":{"validations":[{"expression":"true"}],"matchConstraints":{"resourceRules":[{"apiGroups":["kc.example.com"],"apiVersions":["v1"],"operations":["CREATE"],"resources":["things"]}]}}}"#
            ),
            (
                "apiservices",
                #"{"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"v8.kc.example.com"},"spec":{"group":"kc.example.com","version":"v8","groupPriorityMinimum":100,"versionPriority":10}}"#
            ),
        ]
        for (resource, manifest) in samples {
            guard let object = try? JSON.parse(Array(manifest.utf8)),
                let name = object[path: "metadata", "name"]?.stringValue
            else { return XCTFail("bad manifest for \(resource)") }
            expectSuccess(try cluster.kubectl(["create", "-f", "-"], input: manifest))
            XCTAssertEqual(
                try cluster.kubectl(["get", resource, name, "-o", "jsonpath={.metadata.name}"]).stdout, name)
            XCTAssertTrue(try cluster.kubectl(["get", resource, "-o", "name"]).stdout.contains("/\(name)\n"), resource)
            expectSuccess(try cluster.kubectl(["label", resource, name, "rt=updated"]))
            expectSuccess(
                try cluster.kubectl([
                    "patch", resource, name, "--type=merge", "-p", #"{"metadata":{"annotations":{"rt":"patched"}}}"#,
                ]))
            XCTAssertEqual(
                try cluster.kubectl([
                    "get", resource, name, "-o", "jsonpath={.metadata.labels.rt}/{.metadata.annotations.rt}",
                ]).stdout,
                "updated/patched")
            expectSuccess(try cluster.kubectl(["delete", resource, name]))
        }
    }
}
