import APIMachinery
import Foundation
import NIOCore
import NIOHPACK
import Operations
import XCTest

@testable import Client

/// The client's pure parts: line splitting, the response state machine, queries, configuration, errors.
final class ClientUnitTests: XCTestCase {
    func testLineSplitterHandlesAnyChunking() throws {
        let lines = [
            #"{"type":"ADDED","object":{"metadata":{"name":"a"}}}"#,
            #"{"type":"MODIFIED","object":{"metadata":{"name":"b é"}}}"#,
            #"{"type":"DELETED","object":{"metadata":{"name":"c"}}}"#,
        ]
        let stream = Array((lines.joined(separator: "\n") + "\n").utf8)
        for chunkSize in [1, 2, 3, 7, 50, stream.count] {
            var splitter = LineSplitter()
            var out: [String] = []
            var offset = 0
            while offset < stream.count {
                let end = min(offset + chunkSize, stream.count)
                try splitter.append(stream[offset..<end]) { out.append(String(decoding: $0, as: UTF8.self)) }
                offset = end
            }
            XCTAssertNil(splitter.finish())
            XCTAssertEqual(out, lines, "chunk size \(chunkSize)")
        }
    }

    func testLineSplitterSkipsBlankLinesAndKeepsUnterminatedRest() throws {
        var splitter = LineSplitter()
        var out: [String] = []
        try splitter.append(Array("\n \r\n{\"a\":1}\n{\"b\"".utf8)) { out.append(String(decoding: $0, as: UTF8.self)) }
        XCTAssertEqual(out, [#"{"a":1}"#])
        try splitter.append(Array(":2}".utf8)) { out.append(String(decoding: $0, as: UTF8.self)) }
        XCTAssertEqual(splitter.finish().map { String(decoding: $0, as: UTF8.self) }, #"{"b":2}"#)
    }

    func testLineSplitterBoundsLineLength() {
        var splitter = LineSplitter(maximumLineLength: 8)
        XCTAssertThrowsError(try splitter.append(Array("0123456789".utf8)) { _ in })
    }

    func testWatchEventDecoding() throws {
        let event = try WatchEvent(line: Array(#"{"type":"BOOKMARK","object":{"kind":"ConfigMap"}}"#.utf8))
        XCTAssertEqual(event.type, .bookmark)
        XCTAssertEqual(event.object["kind"], "ConfigMap")
        XCTAssertThrowsError(try WatchEvent(line: Array(#"{"type":"EXPLODED","object":{}}"#.utf8)))
        XCTAssertThrowsError(try WatchEvent(line: Array(#"{"type":"ADDED"}"#.utf8)))
        XCTAssertThrowsError(try WatchEvent(line: Array("not json".utf8)))
        let expired = try WatchEvent(
            line: Array(
                #"{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version: 1 (5)"}}"#
                    .utf8))
        XCTAssertEqual(expired.statusError?.code, 410)
        XCTAssertEqual(expired.statusError?.statusReason, .expired)
    }

    func testResponseStateMachineBuffersAfterInformationalHead() {
        var machine = ResponseStateMachine(streaming: false)
        guard case .none = machine.receiveHeaders([":status": "100"], endStream: false) else {
            return XCTFail("1xx must be skipped")
        }
        guard case .none = machine.receiveHeaders([":status": "200", "content-length": "5"], endStream: false) else {
            return XCTFail("head must wait for the body")
        }
        guard case .none = machine.receiveData(ByteBuffer(string: "he"), endStream: false) else {
            return XCTFail("partial body must wait")
        }
        guard case .complete(let response) = machine.receiveData(ByteBuffer(string: "llo"), endStream: true) else {
            return XCTFail("end of stream must complete")
        }
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body, Array("hello".utf8))
        XCTAssertEqual(response.header("content-length"), "5")
        XCTAssertTrue(machine.isFinished)
        guard case .none = machine.terminate(.connectionClosed) else { return XCTFail("finished stays finished") }
    }

    func testResponseStateMachineStreamsOnlySuccess() {
        var watch = ResponseStateMachine(streaming: true)
        guard case .head(let head, false) = watch.receiveHeaders([":status": "200"], endStream: false) else {
            return XCTFail("2xx head must be handed out at once")
        }
        XCTAssertEqual(head.status, 200)
        guard case .chunk(let chunk, true) = watch.receiveData(ByteBuffer(string: "x"), endStream: true) else {
            return XCTFail("chunks must stream")
        }
        XCTAssertEqual(chunk.readableBytes, 1)

        var refused = ResponseStateMachine(streaming: true)
        _ = refused.receiveHeaders([":status": "410"], endStream: false)
        guard case .complete(let error) = refused.receiveData(ByteBuffer(string: "{}"), endStream: true) else {
            return XCTFail("an error answer must be buffered whole")
        }
        XCTAssertEqual(error.status, 410)
    }

    func testResponseStateMachineRejectsBrokenResponses() {
        var noStatus = ResponseStateMachine(streaming: false)
        guard case .fail = noStatus.receiveHeaders(["content-type": "x"], endStream: true) else {
            return XCTFail("a head without :status must fail")
        }
        var dataFirst = ResponseStateMachine(streaming: false)
        guard case .fail = dataFirst.receiveData(ByteBuffer(string: "x"), endStream: false) else {
            return XCTFail("DATA before HEADERS must fail")
        }
        var tooBig = ResponseStateMachine(streaming: false, maximumBodyBytes: 4)
        _ = tooBig.receiveHeaders([":status": "200"], endStream: false)
        guard case .fail = tooBig.receiveData(ByteBuffer(string: "12345"), endStream: false) else {
            return XCTFail("an oversized body must fail")
        }
        var cut = ResponseStateMachine(streaming: false)
        _ = cut.receiveHeaders([":status": "200"], endStream: false)
        guard case .fail(.connectionClosed) = cut.terminate(.connectionClosed) else {
            return XCTFail("a cut response must fail")
        }
    }

    func testQueryEncoding() {
        var query: Query = ["labelSelector": "app in (a,b),tier!=db", "limit": "500"]
        query.append("fieldSelector", "metadata.name=x y")
        XCTAssertEqual(
            query.encoded,
            "labelSelector=app%20in%20%28a%2Cb%29%2Ctier%21%3Ddb&limit=500&fieldSelector=metadata.name%3Dx%20y")
        XCTAssertEqual(query["limit"], "500")
    }

    func testResourcePaths() {
        XCTAssertEqual(ResourcePath.path(resource: "namespaces"), "/api/v1/namespaces")
        XCTAssertEqual(
            ResourcePath.path(
                group: "apps", namespace: "ns", resource: "deployments", name: "web", subresource: "scale"),
            "/apis/apps/v1/namespaces/ns/deployments/web/scale")
    }

    func testConfigurationFromKubeconfig() throws {
        let kubeconfig = Kubeconfig(
            clusters: [
                .init("c", .init(server: "https://[::1]:6443/prefix/", certificateAuthorityData: Data("CA".utf8)))
            ],
            users: [.init("u", .init(token: "secret"))],
            contexts: [.init("ctx", .init(cluster: "c", user: "u", namespace: "team"))],
            currentContext: "ctx")
        let configuration = try ClientConfiguration(kubeconfig: kubeconfig)
        XCTAssertEqual(configuration.host, "::1")
        XCTAssertEqual(configuration.port, 6443)
        XCTAssertEqual(configuration.basePath, "/prefix")
        XCTAssertEqual(configuration.authority, "[::1]:6443")
        XCTAssertTrue(configuration.hostIsIPAddress)
        XCTAssertEqual(configuration.trustRootsPEM, Array("CA".utf8))
        XCTAssertEqual(configuration.bearerToken, "secret")
        XCTAssertEqual(configuration.namespace, "team")

        XCTAssertEqual(try ClientConfiguration(server: "https://api.example").port, 443)
        // The guide's plain local port: HTTP/1.1 without TLS, as Go's client speaks it.
        let plain = try ClientConfiguration(server: "http://127.0.0.1:8080")
        XCTAssertFalse(plain.usesTLS)
        XCTAssertEqual(plain.port, 8080)
        XCTAssertTrue(try ClientConfiguration(server: "https://api.example").usesTLS)
        XCTAssertThrowsError(try ClientConfiguration(server: "ftp://127.0.0.1"))
        XCTAssertThrowsError(try ClientConfiguration(server: "not a url"))
        XCTAssertThrowsError(try ClientConfiguration(kubeconfig: kubeconfig, context: "other"))
        var halfUser = kubeconfig
        halfUser.users = [.init("u", .init(clientCertificateData: Data("cert".utf8)))]
        XCTAssertThrowsError(try ClientConfiguration(kubeconfig: halfUser))
    }

    func testStatusErrorFromBodies() {
        let status = Response(
            status: 404,
            body: Array(
                #"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"pods \"p\" not found","reason":"NotFound","details":{"name":"p","kind":"pods"},"code":404}"#
                    .utf8))
        let decoded = StatusError(response: status)
        XCTAssertEqual(
            decoded,
            StatusError(
                code: 404, reason: "NotFound", message: "pods \"p\" not found", details: ["name": "p", "kind": "pods"]))

        let plain = StatusError(response: Response(status: 503, body: Array("upstream down\n".utf8)))
        XCTAssertEqual(plain, StatusError(code: 503, reason: "ServiceUnavailable", message: "upstream down"))
        let empty = StatusError(response: Response(status: 418))
        XCTAssertEqual(empty.reason, "")
        XCTAssertEqual(empty.message, "the server responded with status 418")
    }
}
