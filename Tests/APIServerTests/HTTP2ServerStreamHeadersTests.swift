import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP1
import NIOHTTP2
import XCTest

@testable import APIServer

/// An HTTP/2 stream's header blocks become the request head, and response heads become header blocks, exactly
/// as NIO's `HTTP2FramePayloadToHTTP1ServerCodec` made them when each stream was a child channel with one.
final class HTTP2ServerStreamHeadersTests: XCTestCase {
    /// What NIO's codec makes of `block`.
    func codecHead(_ block: HPACKHeaders, endStream: Bool) throws -> HTTPRequestHead {
        let channel = EmbeddedChannel(handler: HTTP2FramePayloadToHTTP1ServerCodec())
        try channel.writeInbound(HTTP2Frame.FramePayload.headers(.init(headers: block, endStream: endStream)))
        guard case .head(let head) = try channel.readInbound(as: HTTPServerRequestPart.self) else {
            throw ChannelError.inappropriateOperationForState
        }
        return head
    }

    func testRequestHeadsAreTheCodecs() throws {
        let blocks: [(HPACKHeaders, Bool)] = [
            ([":method": "GET", ":scheme": "https", ":path": "/api/v1/pods?limit=5", ":authority": "h:6443"], true),
            (
                [
                    ":method": "POST", ":scheme": "https", ":path": "/api", ":authority": "h",
                    "content-type": "application/json", "authorization": "Bearer x",
                ], false
            ),
            ([":method": "PUT", ":scheme": "https", ":path": "/x", ":authority": "h"], true),
            (
                [
                    ":method": "PATCH", ":scheme": "https", ":path": "/x", ":authority": "h", "host": "other",
                    "content-length": "3",
                ], false
            ),
            ([":method": "DELETE", ":scheme": "https", ":path": "/x", ":authority": "h", "cookie": "a=1"], true),
        ]
        for (block, endStream) in blocks {
            let ours = try XCTUnwrap(HTTP2ServerStream.requestHead(block, endStream: endStream))
            let theirs = try codecHead(block, endStream: endStream)
            XCTAssertEqual(ours.method, theirs.method)
            XCTAssertEqual(ours.uri, theirs.uri)
            XCTAssertEqual(ours.version, theirs.version)
            XCTAssertEqual(
                Array(ours.headers.map { "\($0.name): \($0.value)" }), theirs.headers.map { "\($0.name): \($0.value)" })
            XCTAssertEqual(ours.isKeepAlive, theirs.isKeepAlive)
        }
    }

    func testBlocksThatAreNoRequestAreRefused() {
        let blocks: [HPACKHeaders] = [
            [":scheme": "https", ":path": "/", ":authority": "h"],
            [":method": "GET", ":scheme": "https", ":authority": "h"],
            [":method": "GET", ":path": "/", ":authority": "h"],
            [":method": "GET", ":method": "GET", ":scheme": "https", ":path": "/"],
            [":method": "GET", ":scheme": "https", ":path": "/a b"],
            [":method": "GET", ":scheme": "https", ":path": "/\r\nx"],
            [":method": "GET", ":scheme": "https", ":path": "/", ":status": "200"],
        ]
        for block in blocks { XCTAssertNil(HTTP2ServerStream.requestHead(block, endStream: true), "\(block)") }
    }

    func testResponseBlocksAreTheCodecsWithAuditIDNeverIndexed() throws {
        let channel = EmbeddedChannel(handler: HTTP2FramePayloadToHTTP1ServerCodec())
        let heads = [
            HTTPResponseHead(
                version: .http2, status: .ok,
                headers: [
                    "Content-Type": "application/json", "Audit-Id": "abc", "Cache-Control": "no-cache, private",
                    "Content-Length": "2", "X-Kubernetes-Pf-Flowschema-Uid": "u",
                ]),
            HTTPResponseHead(
                version: .http2, status: .created,
                headers: [
                    "Connection": "x-drop", "X-Drop": "1", "Transfer-Encoding": "chunked", "Warning": "299 - \"w\"",
                ]),
            HTTPResponseHead(version: .http2, status: .noContent, headers: [:]),
        ]
        for head in heads {
            try channel.writeOutbound(HTTPServerResponsePart.head(head))
            guard case .headers(let theirs) = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) else {
                return XCTFail("no HEADERS")
            }
            let ours = HTTP2ServerStream.responseHeaders(head)
            XCTAssertEqual(ours.map { "\($0.name): \($0.value)" }, theirs.headers.map { "\($0.name): \($0.value)" })
            for (name, _, indexing) in ours {
                XCTAssertEqual(indexing, name == "audit-id" ? .nonIndexable : .indexable, name)
            }
        }
    }
}
