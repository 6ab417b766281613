import HTTP2Streams
import NIOConcurrencyHelpers
import NIOCore
import NIOHPACK
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
import Operations
import XCTest

@testable import APIServer

/// The API server's listener answering HTTP/2 streams as entries of one stream table (`HTTP2ServerStream`), read
/// frame by frame by a bare HTTP/2 client on 127.0.0.211: what a response's frames carry, many streams on one
/// connection, a reset ending just its request, and a reader that stops reading holding the server up rather
/// than being buffered for.
final class HTTP2ServerStreamTests: XCTestCase {
    static let address = "127.0.0.211"

    func testAResponseIsHeadersThenOneDataFrameEndingTheStream() async throws {
        let (server, responder) = try await Self.start()
        let client = try await H2TestClient.connect(to: server, trusting: responder.caBundle)
        defer { client.close() }
        let answer = try await client.send([":method": "POST", ":path": "/echo?x=1"], body: "hello").get()
        XCTAssertEqual(answer.headers.first(name: ":status"), "201")
        XCTAssertEqual(answer.headers.first(name: "x-echo-method"), "POST")
        XCTAssertEqual(answer.headers.first(name: "content-length"), "22")
        for (name, _, indexing) in answer.headers {
            XCTAssertEqual(name, name.lowercased())
            XCTAssertEqual(indexing, name == "audit-id" ? .nonIndexable : .indexable, name)
        }
        XCTAssertEqual(answer.body, "POST /echo?x=1 5 hello")
        // HEADERS, then the body's DATA with END_STREAM: no empty frame of its own to end the stream.
        XCTAssertEqual(answer.frames, ["headers", "data+end"])

        let empty = try await client.send([":method": "GET", ":path": "/empty"]).get()
        XCTAssertEqual(empty.headers.first(name: ":status"), "204")
        XCTAssertEqual(empty.frames, ["headers+end"])
    }

    func testManyStreamsOnOneConnectionAreAnsweredEachWithItsOwnBody() async throws {
        let (server, responder) = try await Self.start()
        let client = try await H2TestClient.connect(to: server, trusting: responder.caBundle)
        defer { client.close() }
        let answers = (0..<300).map { client.send([":method": "PUT", ":path": "/echo/\($0)"], body: "\($0)") }
        for (index, answer) in answers.enumerated() {
            let answer = try await answer.get()
            XCTAssertEqual(answer.body, "PUT /echo/\(index) \(String(index).utf8.count) \(index)")
        }
    }

    func testABodyOverTheLimitIs413() async throws {
        let (server, responder) = try await Self.start()
        let client = try await H2TestClient.connect(to: server, trusting: responder.caBundle)
        defer { client.close() }
        let large = String(repeating: "x", count: RequestHandler.maxBodyBytes + 1)
        let answer = try await client.send([":method": "POST", ":path": "/echo"], body: large).get()
        XCTAssertEqual(answer.headers.first(name: ":status"), "413")
        let after = try await client.send([":method": "GET", ":path": "/echo"]).get()
        XCTAssertEqual(after.headers.first(name: ":status"), "201")
    }

    func testAResetFromTheClientCancelsJustThatRequest() async throws {
        let (server, responder) = try await Self.start()
        let client = try await H2TestClient.connect(to: server, trusting: responder.caBundle)
        defer { client.close() }
        let hanging = client.send([":method": "GET", ":path": "/hang"])
        let watch = client.send([":method": "GET", ":path": "/stream"])
        try await responder.waitUntil { $0.hanging == 1 && $0.streams.count == 1 }
        client.reset(hanging.stream)
        try await responder.waitUntil { $0.cancelled == 1 }
        // The other stream on the connection goes on.
        responder.yield("still here")
        try await client.waitUntil { watch.stream.body == "still here" }
        responder.finishStreams()
        let ended = try await watch.get()
        XCTAssertEqual(ended.frames.last, "data+end")
        for _ in 0..<100 where server.requests.requestCount + server.requests.streamCount > 0 {
            try await Task.sleep(for: .milliseconds(10))
        }
        XCTAssertEqual(server.requests.requestCount + server.requests.streamCount, 0)
    }

    func testAReaderThatStopsReadingHoldsTheWriterUp() async throws {
        let (server, responder) = try await Self.start()
        // Windows far larger than what the test lets through: only the socket and the server's bound stop it.
        let client = try await H2TestClient.connect(
            to: server, trusting: responder.caBundle, window: Int(Int32.max) / 2)
        defer { client.close() }
        let flood = client.send([":method": "GET", ":path": "/flood"])
        try await client.waitUntil { flood.stream.received > 0 }
        client.stopReading()
        var last = -1
        var stable = 0
        for _ in 0..<200 where stable < 5 {
            let produced = responder.floodBytes
            XCTAssertLessThan(produced, 64 << 20, "the server kept buffering")
            stable = produced == last ? stable + 1 : 0
            last = produced
            try await Task.sleep(for: .milliseconds(50))
        }
        XCTAssertEqual(stable, 5, "the server never stalled")
        client.resumeReading()
        let before = responder.floodBytes
        try await responder.waitUntil { $0.flooded > before + (1 << 20) }
        _ = server
    }

    static func start() async throws -> (HTTPServer, StreamTestResponder) {
        let responder = try StreamTestResponder(address: address)
        let server = try await HTTPServer.start(
            host: address, port: 0, tls: responder.settings, responder: responder,
            group: MultiThreadedEventLoopGroup.singleton)
        responder.server = server
        return (server, responder)
    }
}

/// The test server's answers: `/echo` says what it got, `/empty` is a 204, `/hang` waits until cancelled,
/// `/stream` writes what the test yields, `/flood` 16 KiB chunks for as long as they are taken.
final class StreamTestResponder: HTTPResponder, @unchecked Sendable {
    struct State {
        var hanging = 0
        var cancelled = 0
        var flooded = 0
        var streams: [AsyncStream<[UInt8]>.Continuation] = []
    }

    let settings: TLSSettings
    let caBundle: [UInt8]
    /// Kept alive for the test; set once before any request.
    var server: HTTPServer?
    let state = NIOLockedValueBox(State())

    init(address: String) throws {
        let authority = try CertificateAuthority.create(commonName: "h2-stream-test-ca")
        let pair = try authority.issueServing(commonName: "h2", dnsNames: [], ipAddresses: [address])
        caBundle = Array(authority.certificatePEM.utf8)
        settings = try TLSSettings(
            certificateChain: [try NIOSSLCertificate(bytes: Array(pair.certificatePEM.utf8), format: .pem)],
            privateKey: try NIOSSLPrivateKey(bytes: Array(pair.privateKeyPEM.utf8), format: .pem), clientCA: nil)
    }

    var floodBytes: Int { state.withLockedValue { $0.flooded } }

    func yield(_ text: String) {
        for stream in state.withLockedValue({ $0.streams }) { stream.yield(Array(text.utf8)) }
    }

    func finishStreams() {
        for stream in state.withLockedValue({ $0.streams }) { stream.finish() }
    }

    /// Polls the state until `done` holds, for up to 5 s.
    func waitUntil(_ done: (State) -> Bool) async throws {
        for _ in 0..<500 {
            if state.withLockedValue({ done($0) }) { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        XCTFail("timed out: \(state.withLockedValue { $0 })")
    }

    func respond(to request: HTTPRequest) async -> HTTPResponse {
        switch request.path {
        case "/empty":
            return HTTPResponse(status: .noContent, headers: ["Audit-Id": "x"], body: .bytes([]))
        case "/hang":
            state.withLockedValue { $0.hanging += 1 }
            do {
                try await Task.sleep(for: .seconds(60))
            } catch {
                state.withLockedValue { $0.cancelled += 1 }
            }
            return .text("late")
        case "/stream":
            let (stream, continuation) = AsyncStream<[UInt8]>.makeStream()
            state.withLockedValue { $0.streams.append(continuation) }
            return HTTPResponse(status: .ok, body: .stream(stream))
        case "/flood":
            let chunk = [UInt8](repeating: 1, count: 16 << 10)
            let state = state
            return HTTPResponse(
                status: .ok,
                body: .stream(
                    AsyncStream(unfolding: {
                        state.withLockedValue { $0.flooded += chunk.count }
                        return chunk
                    })))
        default:
            let echo = "\(request.method.rawValue) \(request.uri) \(request.body.count) "
            return HTTPResponse(
                status: .created,
                headers: [
                    "Content-Type": "text/plain", "X-Echo-Method": request.method.rawValue,
                    "Audit-Id": UUID().uuidString,
                ],
                body: .bytes(Array(echo.utf8) + request.body))
        }
    }
}
