import TestSupport
import APIMachinery
import Foundation
import XCTest

/// managedFields on every write and server-side apply (`application/apply-patch+yaml`) over HTTPS.
final class ServerSideApplyTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.32" }

    struct Reply {
        var status: Int
        var body: JSON
    }

    /// One request with the admin certificate through curl; the body is sent as given.
    func request(
        _ method: String, _ path: String, body: String? = nil, contentType: String = "application/json",
        userAgent: String = "ssa-test/1.0"
    ) throws -> Reply {
        let cluster = try cluster
        let pki = cluster.directory.appendingPathComponent("pki").path
        var arguments = [
            "-s", "-X", method, "--cacert", "\(pki)/ca.pem", "--cert", "\(pki)/admin.pem", "--key",
            "\(pki)/admin-key.pem", "-w", "\n%{http_code}", "-H", "Content-Type: \(contentType)", "-A", userAgent,
        ]
        if body != nil { arguments += ["--data-binary", "@-"] }
        arguments.append("https://\(cluster.address):\(cluster.port)\(path)")
        let output = try TestCluster.run("/usr/bin/curl", arguments, input: body)
        let text = output.stdout
        guard let newline = text.lastIndex(of: "\n"), let status = Int(text[text.index(after: newline)...]) else {
            throw TestClusterError("curl failed: \(output.stderr)")
        }
        return Reply(status: status, body: (try? JSON.parse(String(text[..<newline]))) ?? .null)
    }

    func apply(_ path: String, _ body: String, manager: String?, force: Bool = false) throws -> Reply {
        var query: [String] = []
        if let manager { query.append("fieldManager=\(manager)") }
        if force { query.append("force=true") }
        return try request(
            "PATCH", path + (query.isEmpty ? "" : "?" + query.joined(separator: "&")), body: body,
            contentType: "application/apply-patch+yaml")
    }

    /// `manager operation subresource: fields` per entry, for compact assertions.
    func owners(_ object: JSON) -> [String] {
        (object["metadata"]?["managedFields"]?.arrayValue ?? []).map { entry in
            let subresource = entry["subresource"]?.stringValue.map { " " + $0 } ?? ""
            return "\(entry["manager"]?.stringValue ?? "?") \(entry["operation"]?.stringValue ?? "?")\(subresource): "
                + (entry["fieldsV1"]?.jsonString ?? "")
        }
    }

    static let configMaps = "/api/v1/namespaces/default/configmaps"

    func testCreateAndUpdateRecordUpdateEntries() throws {
        let created = try request(
            "POST", Self.configMaps + "?fieldManager=creator",
            body: #"{"metadata":{"name":"upd","labels":{"app":"a"}},"data":{"one":"1"}}"#)
        XCTAssertEqual(created.status, 201)
        let entry = created.body["metadata"]?["managedFields"]?.arrayValue?.first
        XCTAssertEqual(entry?["manager"], "creator")
        XCTAssertEqual(entry?["operation"], "Update")
        XCTAssertEqual(entry?["apiVersion"], "v1")
        XCTAssertEqual(entry?["fieldsType"], "FieldsV1")
        XCTAssertEqual(entry?["time"]?.stringValue?.count, "2006-01-02T15:04:05Z".count)
        XCTAssertEqual(
            owners(created.body),
            [#"creator Update: {"f:data":{".":{},"f:one":{}},"f:metadata":{"f:labels":{".":{},"f:app":{}}}}"#])

        // No fieldManager: the User-Agent up to its first slash names the manager.
        var changed = created.body
        changed.set(["data", "two"], to: "2")
        let updated = try request(
            "PUT", Self.configMaps + "/upd", body: changed.jsonString, userAgent: "editor/v9 (linux)")
        XCTAssertEqual(updated.status, 200)
        XCTAssertEqual(
            owners(updated.body),
            [
                #"creator Update: {"f:data":{".":{},"f:one":{}},"f:metadata":{"f:labels":{".":{},"f:app":{}}}}"#,
                #"editor Update: {"f:data":{"f:two":{}}}"#,
            ])

        // A write that changes nothing leaves managedFields, times included, alone.
        let again = try request("PUT", Self.configMaps + "/upd", body: updated.body.jsonString, userAgent: "third/1")
        XCTAssertEqual(again.body["metadata"]?["managedFields"], updated.body["metadata"]?["managedFields"])
    }

    func testApplyCreatesConflictsForcesAndRemovesFields() throws {
        let path = Self.configMaps + "/ssa"
        let first = try apply(
            path, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: \"1\"\n  b: \"2\"\n",
            manager: "alpha")
        XCTAssertEqual(first.status, 201, "\(first.body)")
        XCTAssertEqual(owners(first.body), [#"alpha Apply: {"f:data":{"f:a":{},"f:b":{}}}"#])

        let conflict = try apply(path, #"{"apiVersion":"v1","kind":"ConfigMap","data":{"a":"9"}}"#, manager: "beta")
        XCTAssertEqual(conflict.status, 409)
        XCTAssertEqual(conflict.body["reason"], "Conflict")
        XCTAssertEqual(
            conflict.body["message"], #"Apply failed with 1 conflict: conflict with "alpha": .data.a"#)
        XCTAssertEqual(
            conflict.body["details"]?["causes"]?.jsonString,
            #"[{"reason":"FieldManagerConflict","message":"conflict with \"alpha\"","field":".data.a"}]"#)

        let forced = try apply(
            path, #"{"apiVersion":"v1","kind":"ConfigMap","data":{"a":"9"}}"#, manager: "beta", force: true)
        XCTAssertEqual(forced.status, 200)
        XCTAssertEqual(forced.body["data"]?.jsonString, #"{"a":"9","b":"2"}"#)
        XCTAssertEqual(
            owners(forced.body), [#"alpha Apply: {"f:data":{"f:b":{}}}"#, #"beta Apply: {"f:data":{"f:a":{}}}"#])

        // alpha stops applying b (nobody else owns it: removed) and a (beta owns it: kept).
        let shrunk = try apply(path, #"{"apiVersion":"v1","kind":"ConfigMap","data":{"c":"3"}}"#, manager: "alpha")
        XCTAssertEqual(shrunk.status, 200)
        XCTAssertEqual(shrunk.body["data"]?.jsonString, #"{"a":"9","c":"3"}"#)

        // An Update manager is named with its API version in conflicts.
        var edited = shrunk.body
        edited.set(["data", "c"], to: "4")
        XCTAssertEqual(try request("PUT", path + "?fieldManager=editor", body: edited.jsonString).status, 200)
        let updateConflict = try apply(
            path, #"{"apiVersion":"v1","kind":"ConfigMap","data":{"c":"5","a":"10"}}"#, manager: "alpha")
        XCTAssertEqual(updateConflict.status, 409)
        XCTAssertEqual(
            updateConflict.body["message"],
            .string(
                "Apply failed with 2 conflicts: conflicts with \"beta\":\n- .data.a\nconflicts with \"editor\" using v1:\n- .data.c"
            ))
    }

    func testApplyRequestErrorsAreUpstreams() throws {
        let path = Self.configMaps + "/bad"
        let missingManager = try apply(path, #"{"apiVersion":"v1","kind":"ConfigMap"}"#, manager: nil)
        XCTAssertEqual(missingManager.status, 422)
        XCTAssertEqual(
            missingManager.body["message"],
            #"PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch"#)
        let forcedMerge = try request(
            "PATCH", path + "?force=true", body: "{}", contentType: "application/merge-patch+json")
        XCTAssertEqual(forcedMerge.status, 422)
        XCTAssertEqual(
            forcedMerge.body["message"],
            #"PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch"#)
        let withManagedFields = try apply(
            path, #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"managedFields":[]}}"#, manager: "m")
        XCTAssertEqual(withManagedFields.status, 400)
        let wrongName = try apply(
            path, #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}"#, manager: "m")
        XCTAssertEqual(wrongName.status, 400)
        XCTAssertEqual(wrongName.body["message"], "the name of the object (x) does not match the name on the URL (bad)")
        let malformed = try apply(path, "{: [", manager: "m")
        XCTAssertEqual(malformed.status, 400)
    }

    func testSubresourceWritesAreRecordedWithTheirSubresource() throws {
        let deployment = #"""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"sub"},
             "spec":{"replicas":1,"selector":{"matchLabels":{"app":"sub"}},
                     "template":{"metadata":{"labels":{"app":"sub"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}
            """#
        let path = "/apis/apps/v1/namespaces/default/deployments"
        XCTAssertEqual(try request("POST", path + "?fieldManager=maker", body: deployment).status, 201)
        let scaled = try request(
            "PATCH", path + "/sub/scale?fieldManager=scaler", body: #"{"spec":{"replicas":4}}"#,
            contentType: "application/merge-patch+json")
        XCTAssertEqual(scaled.status, 200)
        let status = try request(
            "PATCH", path + "/sub/status?fieldManager=reporter", body: #"{"status":{"replicas":4}}"#,
            contentType: "application/merge-patch+json")
        XCTAssertEqual(status.status, 200)
        let entries = owners(status.body)
        XCTAssertTrue(entries.contains(#"scaler Update scale: {"f:spec":{"f:replicas":{}}}"#), "\(entries)")
        XCTAssertTrue(entries.contains(#"reporter Update status: {"f:status":{"f:replicas":{}}}"#), "\(entries)")
        XCTAssertFalse(entries[0].contains("f:replicas"), "the maker lost spec.replicas to the scaler: \(entries)")

        // Apply through the scale subresource owns spec.replicas like an apply of the object does.
        let scaleApply = try apply(
            path + "/sub/scale", #"{"apiVersion":"autoscaling/v1","kind":"Scale","spec":{"replicas":6}}"#,
            manager: "autoscaler", force: true)
        XCTAssertEqual(scaleApply.status, 200, "\(scaleApply.body)")
        XCTAssertEqual(scaleApply.body["kind"], "Scale")
        XCTAssertEqual(scaleApply.body["spec"]?["replicas"], 6)
        let conflict = try apply(
            path + "/sub", #"{"apiVersion":"apps/v1","kind":"Deployment","spec":{"replicas":2}}"#, manager: "gitops")
        XCTAssertEqual(conflict.status, 409)
        XCTAssertEqual(
            conflict.body["message"], #"Apply failed with 1 conflict: conflict with "autoscaler": .spec.replicas"#)
        let negative = try apply(
            path + "/sub/scale", #"{"apiVersion":"autoscaling/v1","kind":"Scale","spec":{"replicas":-1}}"#,
            manager: "autoscaler")
        XCTAssertEqual(negative.status, 422)
    }
}
