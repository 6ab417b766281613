import APIMachinery
import Foundation
import TestSupport
import XCTest

/// Random and malformed bodies for every patch type against a running server: each answer is a success or
/// a 4xx `Status` (unparseable bodies 400, patches that cannot apply 422, apply conflicts 409), never a 5xx,
/// and the server stays ready.
final class PatchFuzzEndToEndTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.33" }

    static let patchTypes = [
        "application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json",
        "application/apply-patch+yaml",
    ]
    static let keys = [
        "metadata", "labels", "name", "spec", "replicas", "template", "containers", "image", "ports", "containerPort",
        "data", "op", "path", "value", "from", "$patch", "$retainKeys", "$setElementOrder/containers",
        "$deleteFromPrimitiveList/finalizers", "finalizers", "kind", "apiVersion", "resourceVersion",
    ]
    static let strings: [JSON] = [
        "add", "remove", "replace", "move", "copy", "test", "/data/a", "/spec/replicas", "/metadata/labels/x", "delete",
        "merge", "web", "apps/v1", "Deployment", "ConfigMap", "v1", "~1", "/", "",
    ]

    static func randomJSON(_ random: inout SeededRandom, depth: Int = 0) -> JSON {
        switch random.next(below: depth > 4 ? 4 : 7) {
        case 0, 5:
            var fields = JSONObject()
            for _ in 0..<random.next(below: 4) {
                fields[keys[random.next(below: keys.count)]] = randomJSON(&random, depth: depth + 1)
            }
            return .object(fields)
        case 1, 6: return .array((0..<random.next(below: 3)).map { _ in randomJSON(&random, depth: depth + 1) })
        case 2: return strings[random.next(below: strings.count)]
        case 3: return random.next(below: 3) == 0 ? .null : .int(Int64(random.next(below: 20)) - 2)
        default: return .bool(random.next(below: 2) == 0)
        }
    }

    /// A patch mostly of the right shape for its type: JSON patch operations, or an object (with kind and
    /// apiVersion for apply); sometimes any JSON at all.
    static func randomPatch(_ random: inout SeededRandom, type: String, kind: String, apiVersion: String) -> JSON {
        guard random.next(below: 5) != 0 else { return randomJSON(&random) }
        if type == "application/json-patch+json" {
            return .array(
                (0..<random.next(below: 3) + 1).map { _ in
                    var operation: JSONObject = [
                        "op": strings[random.next(below: 6)], "path": strings[6 + random.next(below: 5)],
                    ]
                    if random.next(below: 4) != 0 { operation["value"] = randomJSON(&random, depth: 3) }
                    if random.next(below: 4) == 0 { operation["from"] = strings[6 + random.next(below: 5)] }
                    return .object(operation)
                })
        }
        var object = JSONObject()
        for _ in 0..<random.next(below: 3) + 1 {
            object[keys[random.next(below: keys.count)]] = randomJSON(&random, depth: 1)
        }
        if type.contains("apply") {
            object["kind"] = .string(kind)
            object["apiVersion"] = .string(apiVersion)
        }
        return .object(object)
    }

    /// The patch as a body, sometimes broken on purpose (cut short, stray bytes).
    static func randomBody(_ random: inout SeededRandom, patch: JSON) -> (text: String, malformed: Bool) {
        let text = patch.jsonString
        switch random.next(below: 6) {
        case 0 where text.count > 1: return (String(text.prefix(text.count - 1)), true)
        case 1: return ("{\"a\":" + text, true)
        default: return (text, false)
        }
    }

    func send(_ method: String, _ path: String, body: String, contentType: String) throws -> (Int, JSON) {
        let cluster = try cluster
        let pki = cluster.directory.appendingPathComponent("pki").path
        let query = contentType.contains("apply") ? "?fieldManager=fuzz" : ""
        let output = try TestCluster.run(
            "/usr/bin/curl",
            [
                "-s", "-X", method, "--cacert", "\(pki)/ca.pem", "--cert", "\(pki)/admin.pem", "--key",
                "\(pki)/admin-key.pem", "-w", "\n%{http_code}", "-H", "Content-Type: \(contentType)",
                "--data-binary", "@-", "https://\(cluster.address):\(cluster.port)\(path)\(query)",
            ], input: body)
        let text = output.stdout
        guard let newline = text.lastIndex(of: "\n"), let status = Int(text[text.index(after: newline)...]) else {
            throw TestClusterError("curl failed: \(output.stderr)")
        }
        return (status, (try? JSON.parse(String(text[..<newline]))) ?? .null)
    }

    func testRandomPatchesGetSuccessOrA4xxStatus() throws {
        let deployment = #"""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"fz","labels":{"a":"b"}},
             "spec":{"replicas":1,"selector":{"matchLabels":{"app":"fz"}},
                     "template":{"metadata":{"labels":{"app":"fz"}},
                                 "spec":{"containers":[{"name":"c","image":"i","ports":[{"containerPort":80}]}]}}}}
            """#
        let targets = [
            ("/apis/apps/v1/namespaces/default/deployments", "fz", deployment, "Deployment", "apps/v1"),
            (
                "/api/v1/namespaces/default/configmaps", "cm", #"{"metadata":{"name":"cm"},"data":{"a":"1"}}"#,
                "ConfigMap", "v1"
            ),
        ]
        for (collection, _, body, _, _) in targets {
            XCTAssertEqual(try send("POST", collection, body: body, contentType: "application/json").0, 201)
        }
        var random = SeededRandom(seed: 0x9A7C_4F22)
        var outcomes: [Int: Int] = [:]
        for round in 0..<200 {
            let (collection, name, _, kind, apiVersion) = targets[random.next(below: targets.count)]
            let type = Self.patchTypes[random.next(below: Self.patchTypes.count)]
            let patch = Self.randomPatch(&random, type: type, kind: kind, apiVersion: apiVersion)
            let (body, malformed) = Self.randomBody(&random, patch: patch)
            let (status, reply) = try send("PATCH", "\(collection)/\(name)", body: body, contentType: type)
            outcomes[status, default: 0] += 1
            let context = "round \(round) \(type) \(body) → \(status) \(reply.jsonString)"
            if malformed {
                XCTAssertEqual(status, 400, context)
            }
            if (200..<300).contains(status) {
                XCTAssertNotNil(reply["metadata"]?["name"], context)
            } else {
                XCTAssertTrue([400, 409, 422].contains(status), context)
                XCTAssertEqual(reply["kind"], "Status", context)
                XCTAssertEqual(reply["code"]?.intValue, Int64(status), context)
            }
        }
        XCTAssertGreaterThan(outcomes[200, default: 0], 40, "\(outcomes)")
        XCTAssertGreaterThan(outcomes[422, default: 0] + outcomes[400, default: 0], 20, "\(outcomes)")
        let pki = try cluster.directory.appendingPathComponent("pki").path
        let ready = try TestCluster.run(
            "/usr/bin/curl",
            ["-s", "--cacert", "\(pki)/ca.pem", "https://\(try cluster.address):\(try cluster.port)/readyz"])
        XCTAssertEqual(ready.stdout, "ok")
    }
}
