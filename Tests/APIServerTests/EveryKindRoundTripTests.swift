import APIMachinery
import Foundation
import TestSupport
import XCTest

/// Every built-in resource discovery lists, created, read, listed, updated, merge-patched and deleted by a
/// protobuf client (bodies encoded with the project's codec from JSON, answers decoded and compared field by
/// field with the JSON answers), and a sample of kinds through kubectl. Kinds without protobuf (APIService)
/// go through JSON, and protobuf for them is refused with upstream's 415 and 406.
final class EveryKindRoundTripTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.147" }
    override class var controllers: [String]? { nil }

    static let protobuf = KubernetesProtobuf.mediaType
    static let namespace = "rt"

    /// Resources skipped, and why: they have no create-read-update-delete cycle to try.
    static let skipped: [String: String] = [
        "/bindings": "create-only virtual resource (a pod's binding)",
        "/componentstatuses": "read-only virtual resource",
        "authentication.k8s.io/tokenreviews": "review kind (create only)",
        "authentication.k8s.io/selfsubjectreviews": "review kind (create only)",
        "authorization.k8s.io/subjectaccessreviews": "review kind (create only)",
        "authorization.k8s.io/selfsubjectaccessreviews": "review kind (create only)",
        "authorization.k8s.io/selfsubjectrulesreviews": "review kind (create only)",
        "authorization.k8s.io/localsubjectaccessreviews": "review kind (create only)",
    ]

    /// One served resource, from discovery.
    struct Resource {
        var group: String
        var version: String
        var name: String
        var kind: String
        var namespaced: Bool
        var verbs: Set<String>
        var key: String { group + "/" + name }
        var apiVersion: String { group.isEmpty ? version : group + "/" + version }
        var root: String { group.isEmpty ? "/api/v1" : "/apis/\(group)/\(version)" }
        var objectName: String {
            let special = EveryKindRoundTripTests.name(for: key)
            guard special.hasPrefix("rt-") else { return special }
            return "rt-\(name)-\(group.split(separator: ".").first.map(String.init) ?? "core")-\(version)"
        }
        var collection: String {
            namespaced ? "\(root)/namespaces/\(EveryKindRoundTripTests.namespace)/\(name)" : "\(root)/\(name)"
        }
    }

    struct Reply {
        var status: Int
        var contentType: String
        var body: [UInt8]
        var json: JSON { (try? JSON.parse(body)) ?? .null }
    }

    /// One request with curl as the admin.
    func request(
        _ path: String, method: String = "GET", accept: String = "application/json", contentType: String? = nil,
        body: [UInt8]? = nil
    ) throws -> Reply {
        let cluster = try self.cluster
        let pki = cluster.directory.appendingPathComponent("pki").path
        let id = UUID().uuidString
        let headers = cluster.directory.appendingPathComponent("headers-\(id)").path
        var arguments = [
            "-s", "-X", method, "--cacert", "\(pki)/ca.pem", "--cert", "\(pki)/admin.pem", "--key",
            "\(pki)/admin-key.pem", "-D", headers, "-H", "Accept: \(accept)",
            "https://\(cluster.address):\(cluster.port)\(path)",
        ]
        if let body {
            let file = cluster.directory.appendingPathComponent("body-\(id)")
            try Data(body).write(to: file)
            arguments += ["-H", "Content-Type: \(contentType ?? "application/json")", "--data-binary", "@\(file.path)"]
        }
        // Binary answers go to a file: the runner's output is text.
        let answer = cluster.directory.appendingPathComponent("answer-\(id)")
        arguments += ["-o", answer.path]
        _ = try TestCluster.run("/usr/bin/curl", arguments)
        let head = (try? String(contentsOfFile: headers, encoding: .utf8)) ?? ""
        let lines = head.split(whereSeparator: \.isNewline)
        let status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        let type =
            lines.first { $0.lowercased().hasPrefix("content-type:") }.map {
                $0.dropFirst("content-type:".count).trimmingCharacters(in: .whitespaces)
            } ?? ""
        return Reply(status: status, contentType: type, body: Array((try? Data(contentsOf: answer)) ?? Data()))
    }

    /// Every resource of every group version discovery serves, subresources left out.
    func discover() throws -> [Resource] {
        var roots: [(group: String, version: String)] = [("", "v1")]
        for group in try request("/apis").json["groups"]?.arrayValue ?? [] {
            let name = group["name"]?.stringValue ?? ""
            for version in group["versions"]?.arrayValue ?? [] {
                roots.append((name, version["version"]?.stringValue ?? ""))
            }
        }
        var resources: [Resource] = []
        for (group, version) in roots {
            let path = group.isEmpty ? "/api/v1" : "/apis/\(group)/\(version)"
            for entry in try request(path).json["resources"]?.arrayValue ?? [] {
                guard let name = entry["name"]?.stringValue, !name.contains("/") else { continue }
                resources.append(
                    Resource(
                        group: group, version: version, name: name, kind: entry["kind"]?.stringValue ?? "",
                        namespaced: entry["namespaced"]?.boolValue ?? false,
                        verbs: Set(entry["verbs"]?.arrayValue?.compactMap(\.stringValue) ?? [])))
            }
        }
        return resources
    }

    /// The paths at which two JSON values differ.
    static func differences(_ a: JSON?, _ b: JSON?, at path: String = "") -> [String] {
        if a == b { return [] }
        if case .object(let left) = a, case .object(let right) = b {
            let keys = Set(left.map(\.key)).union(right.map(\.key))
            return keys.sorted().flatMap { differences(left[$0], right[$0], at: path + "." + $0) }
        }
        if case .array(let left) = a, case .array(let right) = b, left.count == right.count {
            return left.indices.flatMap { differences(left[$0], right[$0], at: path + "[\($0)]") }
        }
        return ["\(path.isEmpty ? "." : path): \(a.map { "\($0)" } ?? "absent") vs \(b.map { "\($0)" } ?? "absent")"]
    }

    /// A certificate request in PEM, base64-encoded as a CSR's `spec.request`.
    static func certificateRequest() throws -> String {
        let output = try TestCluster.run(
            "/usr/bin/openssl",
            [
                "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                "/dev/null", "-subj", "/CN=rt",
            ])
        return Data(output.stdout.utf8).base64EncodedString()
    }

    func testEveryResourceInDiscoveryHasAnObjectOrIsSkippedForAReason() throws {
        for resource in try discover() {
            let crud: Set<String> = ["create", "get", "list", "update", "patch", "delete"]
            if Self.skipped[resource.key] != nil { continue }
            XCTAssertTrue(crud.isSubset(of: resource.verbs), "\(resource.key) lacks verbs: \(resource.verbs)")
            XCTAssertNotNil(
                Self.minimal(resource.key, namespace: Self.namespace, csr: ""), "no minimal object for \(resource.key)")
        }
    }
}
