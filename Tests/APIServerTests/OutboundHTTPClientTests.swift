import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Operations
import XCTest

@testable import APIServer

/// The shared outbound client against one small TLS server on 127.0.0.160 (the API server's own listener,
/// HTTP/2 and HTTP/1.1 by ALPN): `/echo` answers with what it received, `/stream` streams what the test yields,
/// `/flood` streams 64 KiB chunks for as long as they are taken.
final class OutboundHTTPClientTests: XCTestCase {
    static let address = "127.0.0.160"
    private static let shared = NIOLockedValueBox<Task<TestServer, any Error>?>(nil)

    private func server() async throws -> TestServer {
        let task = Self.shared.withLockedValue { task in
            if let task { return task }
            let started = Task { try await TestServer(address: Self.address) }
            task = started
            return started
        }
        return try await task.value
    }

    private func target(_ server: TestServer, trust: OutboundTrust? = nil) -> OutboundTarget {
        OutboundTarget(
            host: Self.address, port: server.port, serverName: nil, trust: trust ?? .bundle(server.caBundle))
    }

    private func request(_ method: HTTPMethod, _ uri: String, body: [UInt8] = []) -> OutboundRequest {
        var headers: HTTPHeaders = ["Host": Self.address, "X-Test": "kept"]
        if !body.isEmpty { headers.add(name: "Content-Length", value: String(body.count)) }
        return OutboundRequest(method: method, uri: uri, headers: headers, body: body)
    }

    func testMethodHeadersAndBodyReachTheServerOverHTTP2AndHTTP11() async throws {
        let server = try await server()
        for protocols in [["h2", "http/1.1"], ["http/1.1"]] {
            let client = OutboundHTTPClient(applicationProtocols: protocols)
            let response = try await client.send(
                request(.PUT, "/echo?x=1", body: Array("hello".utf8)), to: target(server),
                deadline: .now() + .seconds(5))
            XCTAssertEqual(response.status, .created, "\(protocols)")
            XCTAssertEqual(response.headers.first(name: "X-Echo-Method"), "PUT", "\(protocols)")
            let body = try await response.body.collect(upTo: 1 << 20, before: .now() + .seconds(5))
            XCTAssertEqual(String(decoding: body, as: UTF8.self), "PUT /echo?x=1 kept hello", "\(protocols)")
        }
    }

    func testTheBodyStreamsAsTheServerWritesIt() async throws {
        let server = try await server()
        for protocols in [["h2", "http/1.1"], ["http/1.1"]] {
            let client = OutboundHTTPClient(applicationProtocols: protocols)
            let response = try await client.send(
                request(.GET, "/stream"), to: target(server), deadline: .now() + .seconds(5))
            let writer = try XCTUnwrap(server.takeStream())
            let chunks = response.body.makeAsyncIterator()
            // Each chunk arrives before the server has written the next one.
            writer.yield(Array("one".utf8))
            let one = try await chunks.next()
            XCTAssertEqual(one.map { String(decoding: $0, as: UTF8.self) }, "one")
            writer.yield(Array("two".utf8))
            let two = try await chunks.next()
            XCTAssertEqual(two.map { String(decoding: $0, as: UTF8.self) }, "two")
            writer.finish()
            let rest = try await chunks.next()
            XCTAssertNil(rest, "\(protocols)")
        }
    }

    func testUntrustedCertificatesAndRefusedDialsFailInGosWords() async throws {
        let server = try await server()
        let client = OutboundHTTPClient()
        let stranger = try CertificateAuthority.create(commonName: "stranger")
        for trust in [OutboundTrust.bundle(Array(stranger.certificatePEM.utf8)), .system] {
            do {
                _ = try await client.send(
                    request(.GET, "/echo"), to: target(server, trust: trust), deadline: .now() + .seconds(5))
                XCTFail("a certificate from an unknown CA was accepted")
            } catch {
                guard case .tls = error else { return XCTFail("\(error)") }
                XCTAssertTrue(error.description.hasPrefix("tls: "), error.description)
            }
        }
        do {
            _ = try await client.send(
                request(.GET, "/echo"),
                to: OutboundTarget(host: Self.address, port: 1, serverName: nil, trust: .system),
                deadline: .now() + .seconds(5))
            XCTFail("port 1 answered")
        } catch {
            XCTAssertEqual(error.description, "dial tcp 127.0.0.160:1: connect: connection refused")
        }
        do {
            _ = try await client.send(
                request(.GET, "/echo"), to: target(server, trust: .bundle(Array("not PEM".utf8))),
                deadline: .now() + .seconds(5))
            XCTFail("a bundle without certificates was taken")
        } catch {
            XCTAssertTrue(error.description.hasPrefix("tls: invalid caBundle: "), error.description)
        }
    }

    func testCollectingStopsAtTheLimitAndAtTheDeadline() async throws {
        let server = try await server()
        let client = OutboundHTTPClient()
        let large = try await client.send(request(.GET, "/stream"), to: target(server), deadline: .now() + .seconds(5))
        let writer = try XCTUnwrap(server.takeStream())
        writer.yield(Array(repeating: 7, count: 10))
        do {
            _ = try await large.body.collect(upTo: 4, before: .now() + .seconds(5))
            XCTFail("a body over the limit was collected")
        } catch {
            XCTAssertEqual(error, .tooLarge(limit: 4))
        }
        writer.finish()

        let slow = try await client.send(request(.GET, "/stream"), to: target(server), deadline: .now() + .seconds(5))
        let silent = try XCTUnwrap(server.takeStream())
        defer { silent.finish() }
        do {
            _ = try await slow.body.collect(upTo: 1 << 20, before: .now() + .milliseconds(200))
            XCTFail("a body that never ended was collected")
        } catch {
            XCTAssertEqual(error.description, "context deadline exceeded")
        }
    }

    /// Without back-pressure the client would take the server's endless stream as fast as it is written; with
    /// it, the server stalls once the socket buffers and the body's few chunks are full.
    func testASlowReaderSlowsTheServerRatherThanBeingBuffered() async throws {
        let server = try await server()
        let client = OutboundHTTPClient(applicationProtocols: ["http/1.1"])
        let response = try await client.send(
            request(.GET, "/flood"), to: target(server), deadline: .now() + .seconds(5))
        let chunks = response.body.makeAsyncIterator()
        _ = try await chunks.next()
        let ceiling = 64 << 20
        var last = -1
        var stable = 0
        for _ in 0..<200 where stable < 3 {
            let produced = server.floodBytes
            XCTAssertLessThan(produced, ceiling, "the reader's connection kept reading")
            if produced >= ceiling { break }
            stable = produced == last ? stable + 1 : 0
            last = produced
            try await Task.sleep(for: .milliseconds(50))
        }
        XCTAssertEqual(stable, 3, "the server never stalled")
        // Reading resumes where it stopped.
        let next = try await chunks.next()
        XCTAssertEqual(next?.isEmpty, false)
    }
}

/// The server behind `OutboundHTTPClientTests`.
final class TestServer: HTTPResponder {
    let caBundle: [UInt8]
    private let server = NIOLockedValueBox<HTTPServer?>(nil)
    private let streams = NIOLockedValueBox<[AsyncStream<[UInt8]>.Continuation]>([])
    private let flooded = NIOLockedValueBox(0)

    var port: Int { server.withLockedValue { $0?.localAddress?.port ?? 0 } }
    /// Bytes `/flood` handed to the server's writer so far.
    var floodBytes: Int { flooded.withLockedValue { $0 } }

    init(address: String) async throws {
        let authority = try CertificateAuthority.create(commonName: "outbound-test-ca")
        let pair = try authority.issueServing(commonName: "outbound", dnsNames: [], ipAddresses: [address])
        caBundle = Array(authority.certificatePEM.utf8)
        let settings = try TLSSettings(
            certificateChain: [try NIOSSLCertificate(bytes: Array(pair.certificatePEM.utf8), format: .pem)],
            privateKey: try NIOSSLPrivateKey(bytes: Array(pair.privateKeyPEM.utf8), format: .pem), clientCA: nil)
        let started = try await HTTPServer.start(
            host: address, port: 0, tls: settings, responder: self, group: MultiThreadedEventLoopGroup.singleton)
        server.withLockedValue { $0 = started }
    }

    /// The writer of the oldest `/stream` response not yet taken.
    func takeStream() -> AsyncStream<[UInt8]>.Continuation? {
        streams.withLockedValue { $0.isEmpty ? nil : $0.removeFirst() }
    }

    func respond(to request: HTTPRequest) async -> HTTPResponse {
        switch request.path {
        case "/echo":
            let echo = "\(request.method.rawValue) \(request.uri) \(request.header("X-Test") ?? "") "
            return HTTPResponse(
                status: .created, headers: ["X-Echo-Method": request.method.rawValue],
                body: .bytes(Array(echo.utf8) + request.body))
        case "/stream":
            let (stream, continuation) = AsyncStream<[UInt8]>.makeStream()
            streams.withLockedValue { $0.append(continuation) }
            return HTTPResponse(status: .ok, body: .stream(stream))
        case "/flood":
            let chunk = [UInt8](repeating: 1, count: 64 << 10)
            let flooded = flooded
            return HTTPResponse(
                status: .ok,
                body: .stream(
                    AsyncStream(unfolding: {
                        flooded.withLockedValue { $0 += chunk.count }
                        return chunk
                    })))
        default:
            return .text("not found", status: .notFound)
        }
    }
}
