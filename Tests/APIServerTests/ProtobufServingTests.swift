import APIMachinery
import Foundation
import Operations
import TestSupport
import XCTest

/// Responses as Go clients negotiate them, from the real server over TLS with a raw HTTP client (curl with the
/// admin certificate), decoded with the project's own protobuf decoder: protobuf objects, lists, errors and
/// watch frames; PartialObjectMetadata in JSON and protobuf; upstream's 406s; the published
/// extension-apiserver-authentication ConfigMap; and `/version`.
final class ProtobufServingTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.105" }
    override class var controllers: [String]? { nil }
    override class var extraFlags: [String] {
        [
            "--requestheader-client-ca-file=@pki/ca.pem", "--requestheader-allowed-names=front-proxy-client",
            "--requestheader-username-headers=X-Remote-User", "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        ]
    }

    static let protobuf = "application/vnd.kubernetes.protobuf"
    static let metadataList = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"

    struct Reply {
        var status: Int
        var contentType: String
        var body: [UInt8]
        var json: JSON { (try? JSON.parse(body)) ?? .null }
    }

    /// One request with curl as the admin; `Accept` as given.
    func request(_ path: String, accept: String? = nil, method: String = "GET", body: String? = nil) throws -> Reply {
        let cluster = try self.cluster
        let pki = cluster.directory.appendingPathComponent("pki").path
        let headers = cluster.directory.appendingPathComponent("headers-\(UUID().uuidString)").path
        var arguments = [
            "-s", "-X", method, "--cacert", "\(pki)/ca.pem", "--cert", "\(pki)/admin.pem", "--key",
            "\(pki)/admin-key.pem", "-D", headers, "https://\(cluster.address):\(cluster.port)\(path)",
        ]
        if let accept { arguments += ["-H", "Accept: \(accept)"] }
        if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", body] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let head = (try? String(contentsOfFile: headers, encoding: .utf8)) ?? ""
        let lines = head.split(whereSeparator: \.isNewline)
        let status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        let contentType =
            lines.first { $0.lowercased().hasPrefix("content-type:") }.map {
                $0.dropFirst("content-type:".count).trimmingCharacters(in: .whitespaces)
            } ?? ""
        return Reply(status: status, contentType: contentType, body: [UInt8](data))
    }

    func testProtobufObjectsListsAndErrors() throws {
        let namespace = uniqueNamespace("pb")
        expectSuccess(try cluster.kubectl(["create", "namespace", namespace]))
        expectSuccess(try cluster.kubectl(["create", "configmap", "one", "-n", namespace, "--from-literal=k=v"]))
        expectSuccess(try cluster.kubectl(["create", "configmap", "two", "-n", namespace, "--from-literal=x=y"]))

        let path = "/api/v1/namespaces/\(namespace)/configmaps"
        let json = try request(path + "/one").json
        let object = try request(path + "/one", accept: Self.protobuf + ", application/json")
        XCTAssertEqual(object.status, 200)
        XCTAssertEqual(object.contentType, Self.protobuf)
        let decoded = try KubernetesProtobuf.decode(object.body)
        XCTAssertEqual(decoded.kind, "ConfigMap")
        XCTAssertEqual(decoded.object["data"], ["k": "v"])
        XCTAssertEqual(decoded.object[path: "metadata", "uid"], json[path: "metadata", "uid"])
        XCTAssertEqual(decoded.object[path: "metadata", "resourceVersion"], json[path: "metadata", "resourceVersion"])
        XCTAssertEqual(
            decoded.object[path: "metadata", "creationTimestamp"], json[path: "metadata", "creationTimestamp"])

        // JSON first in Accept wins, as upstream picks the first acceptable clause.
        XCTAssertEqual(
            try request(path + "/one", accept: "application/json, " + Self.protobuf).contentType, "application/json")

        let list = try request(path, accept: Self.protobuf)
        XCTAssertEqual(list.contentType, Self.protobuf)
        let decodedList = try KubernetesProtobuf.decode(list.body)
        XCTAssertEqual(decodedList.kind, "ConfigMapList")
        XCTAssertEqual(
            decodedList.object["items"]?.arrayValue?.compactMap { $0[path: "metadata", "name"]?.stringValue },
            ["one", "two"])
        XCTAssertNotNil(decodedList.object[path: "metadata", "resourceVersion"]?.stringValue)

        let missing = try request(path + "/nope", accept: Self.protobuf)
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(missing.contentType, Self.protobuf)
        let status = try KubernetesProtobuf.decode(missing.body)
        XCTAssertEqual(status.apiVersion, "v1")
        XCTAssertEqual(status.kind, "Status")
        XCTAssertEqual(status.object["reason"], "NotFound")
        XCTAssertEqual(status.object["code"], 404)
        XCTAssertEqual(status.object["message"], "configmaps \"nope\" not found")
    }

    /// kubectl's typed create asks for protobuf; Go's decoder reads our response and prints it as JSON.
    func testKubectlDecodesOurProtobufResponses() throws {
        let namespace = uniqueNamespace("pbk")
        expectSuccess(try cluster.kubectl(["create", "namespace", namespace]))
        let created = try cluster.kubectl([
            "create", "configmap", "go", "-n", namespace, "--from-literal=k=v", "-o", "json", "-v=8",
        ])
        let printed = try JSON.parse(Array(expectSuccess(created).utf8))
        XCTAssertTrue(
            created.stderr.contains("Response Headers:") && created.stderr.contains(Self.protobuf),
            "kubectl did not receive protobuf: \(created.stderr.suffix(2_000))")
        let stored = try request("/api/v1/namespaces/\(namespace)/configmaps/go").json
        XCTAssertEqual(printed["data"], ["k": "v"])
        for field in ["uid", "resourceVersion", "creationTimestamp", "namespace"] {
            XCTAssertEqual(printed[path: "metadata", field], stored[path: "metadata", field], field)
        }
    }

    func testProtobufWatchIsLengthFramed() throws {
        let namespace = uniqueNamespace("pbw")
        expectSuccess(try cluster.kubectl(["create", "namespace", namespace]))
        expectSuccess(try cluster.kubectl(["create", "configmap", "watched", "-n", namespace, "--from-literal=k=v"]))
        let watch = try request(
            "/api/v1/namespaces/\(namespace)/configmaps?watch=1&resourceVersion=0&timeoutSeconds=1&allowWatchBookmarks=true",
            accept: Self.protobuf + ";stream=watch")
        XCTAssertEqual(watch.status, 200)
        XCTAssertEqual(watch.contentType, KubernetesProtobuf.watchMediaType)
        var buffer = watch.body
        let events = try KubernetesProtobuf.decodeWatchFrames(&buffer)
        XCTAssertTrue(buffer.isEmpty, "a partial frame is left over")
        XCTAssertEqual(events.first?.type, "ADDED")
        XCTAssertEqual(events.first?.object[path: "metadata", "name"], "watched")
        XCTAssertEqual(events.first?.object["kind"], "ConfigMap")

        // A watch cannot be YAML: upstream's 406 names the stream types.
        let yaml = try request("/api/v1/namespaces/\(namespace)/configmaps?watch=1", accept: "application/yaml")
        XCTAssertEqual(yaml.status, 406)
        XCTAssertEqual(
            try YAMLDocument.decode(yaml.body)?["message"],
            "only the following media types are accepted: application/json;stream=watch, application/vnd.kubernetes.protobuf;stream=watch"
        )
    }

    func testPartialObjectMetadataForGetListAndWatch() throws {
        let namespace = uniqueNamespace("pom")
        expectSuccess(try cluster.kubectl(["create", "namespace", namespace]))
        expectSuccess(try cluster.kubectl(["create", "configmap", "meta", "-n", namespace, "--from-literal=k=v"]))
        let path = "/api/v1/namespaces/\(namespace)/configmaps"

        let object = try request(path + "/meta", accept: "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1")
        XCTAssertEqual(object.json["kind"], "PartialObjectMetadata")
        XCTAssertEqual(object.json["apiVersion"], "meta.k8s.io/v1")
        XCTAssertEqual(object.json[path: "metadata", "name"], "meta")
        XCTAssertNil(object.json["data"])

        let list = try request(path, accept: Self.metadataList)
        XCTAssertEqual(list.json["kind"], "PartialObjectMetadataList")
        XCTAssertEqual(list.json[path: "items"]?.arrayValue?.first?["kind"], "PartialObjectMetadata")
        XCTAssertNil(list.json[path: "items"]?.arrayValue?.first?["data"])

        // What client-go's metadata informer sends: protobuf first, for lists as PartialObjectMetadataList.
        let protobufList = try request(
            path, accept: Self.protobuf + ";as=PartialObjectMetadataList;g=meta.k8s.io;v=v1," + Self.metadataList)
        let decoded = try KubernetesProtobuf.decode(protobufList.body)
        XCTAssertEqual(decoded.kind, "PartialObjectMetadataList")
        XCTAssertEqual(decoded.object["items"]?.arrayValue?.first?[path: "metadata", "name"], "meta")

        let watch = try request(
            path + "?watch=1&resourceVersion=0&timeoutSeconds=1",
            accept: Self.protobuf + ";as=PartialObjectMetadata;g=meta.k8s.io;v=v1")
        var buffer = watch.body
        let events = try KubernetesProtobuf.decodeWatchFrames(&buffer)
        XCTAssertEqual(events.first?.object["kind"], "PartialObjectMetadata")
        XCTAssertEqual(events.first?.object[path: "metadata", "name"], "meta")
        let jsonWatch = try request(
            path + "?watch=1&resourceVersion=0&timeoutSeconds=1",
            accept: "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1beta1")
        let line = try JSON.parse(Array(jsonWatch.body.split(separator: UInt8(ascii: "\n")).first ?? []))
        XCTAssertEqual(line[path: "object", "apiVersion"], "meta.k8s.io/v1beta1")
        XCTAssertNil(line[path: "object", "data"])
    }

    func testUnsupportedConversionsAreNotAcceptable() throws {
        let asObject = try request(
            "/api/v1/namespaces/default/configmaps",
            accept: "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1")
        XCTAssertEqual(asObject.status, 406)
        XCTAssertEqual(
            asObject.json["message"],
            "you requested PartialObjectMetadata, but the requested object is a list (*v1.ConfigMapList)")
        let unknown = try request("/api/v1/namespaces", accept: "application/json;as=Widget;g=meta.k8s.io;v=v1")
        XCTAssertEqual(unknown.status, 406)
        XCTAssertEqual(unknown.json["reason"], "NotAcceptable")
        XCTAssertEqual(
            unknown.json["message"],
            "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf"
        )
        // A review has no Table, as upstream's e2e "should return a 406 for a backend which does not implement metadata".
        let review = try request(
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            accept: "application/json;as=Table;v=v1;g=meta.k8s.io",
            method: "POST",
            body:
                #"{"kind":"SelfSubjectAccessReview","apiVersion":"authorization.k8s.io/v1","spec":{"nonResourceAttributes":{"path":"/","verb":"get"}}}"#
        )
        XCTAssertEqual(review.status, 406)
        // Any listed kind takes as=Table, and kubectl's fallback list still gets plain JSON.
        XCTAssertEqual(
            try request("/api/v1/namespaces", accept: "application/json;as=Table;v=v1;g=meta.k8s.io").json["kind"],
            "Table")
        XCTAssertEqual(
            try request("/api/v1/namespaces", accept: Self.protobuf + ";as=Table;v=v1;g=meta.k8s.io, application/json")
                .json["kind"],
            "NamespaceList")
    }

    func testExtensionAPIServerAuthenticationIsPublished() throws {
        var data: JSON?
        for _ in 0..<50 {
            let reply = try request("/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication")
            if reply.status == 200 {
                data = reply.json["data"]
                break
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let published = try XCTUnwrap(data, "the ConfigMap was not published")
        let ca = try String(contentsOf: cluster.directory.appendingPathComponent("pki/ca.pem"), encoding: .utf8)
        func body(_ pem: String) -> String { pem.filter { !$0.isWhitespace } }
        XCTAssertEqual(published["client-ca-file"].flatMap(\.stringValue).map(body), body(ca))
        XCTAssertEqual(published["requestheader-client-ca-file"].flatMap(\.stringValue).map(body), body(ca))
        XCTAssertEqual(published["requestheader-allowed-names"], #"["front-proxy-client"]"#)
        XCTAssertEqual(published["requestheader-username-headers"], #"["X-Remote-User"]"#)
        XCTAssertEqual(published["requestheader-group-headers"], #"["X-Remote-Group"]"#)
        XCTAssertEqual(published["requestheader-extra-headers-prefix"], #"["X-Remote-Extra-"]"#)
        XCTAssertEqual(published.objectValue?.count, 6)
    }

    func testVersionHasEveryField() throws {
        let version = try request("/version").json
        for field in [
            "major", "minor", "gitVersion", "gitCommit", "gitTreeState", "buildDate", "goVersion", "compiler",
            "platform",
        ] {
            XCTAssertFalse((version[field]?.stringValue ?? "").isEmpty, "\(field) is empty")
        }
    }
}
