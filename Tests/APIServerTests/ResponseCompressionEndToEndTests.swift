import APIMachinery
import CompressNIO
import Foundation
import NIOCore
import TestSupport
import XCTest

/// Upstream's APIResponseCompression on a real kube-apiserver: kubectl and curl over TLS, HTTP/2 and
/// HTTP/1.1, against a list large enough to be gzipped and streamed.
final class ResponseCompressionEndToEndTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.181" }
    override class var controllers: [String]? { nil }
    static let count = 300

    override class func clusterStarted(_ cluster: TestCluster) throws {
        try fill(cluster, namespace: "big", count: count)
    }

    /// `count` ConfigMaps of about 2.5 KB in `namespace` (so 300 of them list in more than one chunk), created
    /// by one kubectl run from a List manifest.
    static func fill(_ cluster: TestCluster, namespace: String, count: Int) throws {
        let items = (0..<count).map { index -> JSON in
            [
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": ["name": .string(String(format: "cm-%04d", index)), "namespace": .string(namespace)],
                "data": ["payload": .string(String(repeating: "\(index % 10)abcdefgh", count: 250))],
            ]
        }
        let namespaceObject: JSON = ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]]
        let list: JSON = ["apiVersion": "v1", "kind": "List", "items": .array([namespaceObject] + items)]
        let output = try cluster.kubectl(["create", "-f", "-"], input: String(decoding: list.encoded(), as: UTF8.self))
        guard output.status == 0 else { throw TestClusterError("kubectl create: \(output.stderr)") }
    }

    func testKubectlReadsAGzippedList() throws {
        let cluster = try cluster
        let json = expectSuccess(try cluster.kubectl("get configmaps -n big -o json"))
        let list = try JSON.parse(Array(json.utf8))
        let names = try XCTUnwrap(list["items"]?.arrayValue).compactMap(\.name)
        XCTAssertEqual(names, (0..<Self.count).map { String(format: "cm-%04d", $0) })
        let table = expectSuccess(try cluster.kubectl("get configmaps -n big --no-headers"))
        XCTAssertEqual(table.split(separator: "\n").count, Self.count)
        // Go's transport asks for gzip itself and decodes it out of sight (dropping Content-Encoding), so
        // what kubectl shows is the decoded list; the curl test below checks the bytes on the wire.
        let raw = expectSuccess(try cluster.kubectl(["get", "--raw", "/api/v1/namespaces/big/configmaps"]))
        XCTAssertEqual(try JSON.parse(Array(raw.utf8))["items"]?.arrayValue?.count, Self.count)
    }

    func testGzippedBodiesDecodeToTheBodiesSentPlain() throws {
        let cluster = try cluster
        let path = "/api/v1/namespaces/big/configmaps?resourceVersion=0"
        for version in ["--http2", "--http1.1"] {
            for accept in ["application/json", KubernetesProtobuf.mediaType] {
                let plain = try Self.curl(cluster, path, [version, "-H", "Accept: \(accept)"])
                let gzipped = try Self.curl(
                    cluster, path, [version, "-H", "Accept: \(accept)", "-H", "Accept-Encoding: gzip"])
                XCTAssertEqual(plain.headers["content-encoding"], nil)
                XCTAssertEqual(gzipped.headers["content-encoding"], "gzip", "\(version) \(accept)")
                XCTAssertEqual(gzipped.headers["vary"], "Accept-Encoding")
                XCTAssertEqual(gzipped.headers["content-type"], accept)
                XCTAssertLessThan(gzipped.body.count, plain.body.count / 3)
                XCTAssertEqual(try Self.gunzip(gzipped.body), plain.body, "\(version) \(accept)")
                XCTAssertGreaterThan(plain.body.count, 600_000)
                if version == "--http1.1" {
                    // Encoded while it is written: no Content-Length, HTTP/1.1's chunked encoding.
                    XCTAssertEqual(plain.headers["transfer-encoding"], "chunked")
                    XCTAssertEqual(gzipped.headers["transfer-encoding"], "chunked")
                }
            }
        }
        // Below the threshold, and where gzip is not among the accepted tokens, bodies go as they are.
        let small = try Self.curl(
            cluster, "/api/v1/namespaces/big/configmaps?limit=20", ["-H", "Accept-Encoding: gzip"])
        XCTAssertEqual(small.headers["content-encoding"], nil)
        XCTAssertNotNil(small.headers["content-length"])
        let weighted = try Self.curl(cluster, path, ["-H", "Accept-Encoding: gzip;q=1.0, br"])
        XCTAssertEqual(weighted.headers["content-encoding"], nil)
    }

    struct Fetched {
        var headers: [String: String]
        var body: [UInt8]
    }

    /// GETs `path` as the admin with curl (raw bytes: curl does not decode them) and returns the headers
    /// in lower case and the body.
    static func curl(_ cluster: TestCluster, _ path: String, _ options: [String]) throws -> Fetched {
        let pki = cluster.directory.appendingPathComponent("pki").path
        let headerFile = cluster.directory.appendingPathComponent("headers-\(UUID().uuidString)").path
        let bodyFile = cluster.directory.appendingPathComponent("body-\(UUID().uuidString)").path
        let output = try TestCluster.run(
            "/usr/bin/curl",
            [
                "--silent", "--show-error", "--fail", "--max-time", "30", "--cacert", "\(pki)/ca.pem", "--cert",
                "\(pki)/admin.pem", "--key", "\(pki)/admin-key.pem", "--dump-header", headerFile, "--output", bodyFile,
            ] + options + ["https://\(cluster.address):\(cluster.port)\(path)"])
        guard output.status == 0 else { throw TestClusterError("curl \(path): \(output.stderr)") }
        var headers: [String: String] = [:]
        for line in try String(contentsOfFile: headerFile, encoding: .utf8).split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...]
                .trimmingCharacters(in: .whitespaces)
        }
        return Fetched(headers: headers, body: Array(try Data(contentsOf: URL(fileURLWithPath: bodyFile))))
    }

    static func gunzip(_ bytes: [UInt8]) throws -> [UInt8] {
        var buffer = ByteBuffer(bytes: bytes)
        let decompressed = try buffer.decompress(with: .gzip())
        return Array(decompressed.readableBytesView)
    }
}

/// The same server with `--feature-gates=APIResponseCompression=false`: nothing is gzipped.
final class ResponseCompressionDisabledEndToEndTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.182" }
    override class var controllers: [String]? { nil }
    override class var extraFlags: [String] {
        ["--feature-gates=APIResponseCompression=false,SomeOtherGate=true", "--http2-max-streams-per-connection=0"]
    }

    override class func clusterStarted(_ cluster: TestCluster) throws {
        try ResponseCompressionEndToEndTests.fill(cluster, namespace: "big", count: 200)
    }

    func testTheGateTurnsCompressionOff() throws {
        let cluster = try cluster
        let fetched = try ResponseCompressionEndToEndTests.curl(
            cluster, "/api/v1/namespaces/big/configmaps", ["-H", "Accept-Encoding: gzip"])
        XCTAssertEqual(fetched.headers["content-encoding"], nil)
        XCTAssertEqual(try JSON.parse(fetched.body)["items"]?.arrayValue?.count, 200)
        let json = expectSuccess(try cluster.kubectl("get configmaps -n big -o name"))
        XCTAssertEqual(json.split(separator: "\n").count, 200)
    }
}
