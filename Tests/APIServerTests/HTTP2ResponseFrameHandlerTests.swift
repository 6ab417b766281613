import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP1
import NIOHTTP2
import XCTest

@testable import APIServer

/// A response on an HTTP/2 stream ends with END_STREAM on its last frame rather than on an empty DATA frame of
/// its own, and its `Audit-Id` is never indexed; the client reads the same response.
final class HTTP2ResponseFrameHandlerTests: XCTestCase {
    func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers(
            HTTP2ResponseFrameHandler(), HTTP2FramePayloadToHTTP1ServerCodec())
        return channel
    }

    func head(_ headers: HTTPHeaders) -> HTTPServerResponsePart {
        .head(HTTPResponseHead(version: .http2, status: .ok, headers: headers))
    }

    func testTheBodyCarriesTheEndOfTheStream() throws {
        let channel = try channel()
        channel.write(head(["Content-Type": "application/json", "Audit-Id": "abc"]), promise: nil)
        channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: "{}"))), promise: nil)
        let done = channel.writeAndFlush(HTTPServerResponsePart.end(nil))
        XCTAssertNoThrow(try done.wait())

        guard case .headers(let headers) = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) else {
            return XCTFail("expected HEADERS first")
        }
        XCTAssertFalse(headers.endStream)
        XCTAssertEqual(headers.headers.first(name: "content-type"), "application/json")
        XCTAssertEqual(headers.headers.first(name: "audit-id"), "abc")
        for (name, _, indexing) in headers.headers {
            XCTAssertEqual(indexing, name == "audit-id" ? .nonIndexable : .indexable, name)
        }
        guard case .data(let data) = try channel.readOutbound(as: HTTP2Frame.FramePayload.self),
            case .byteBuffer(let body) = data.data
        else { return XCTFail("expected DATA") }
        XCTAssertTrue(data.endStream)
        XCTAssertEqual(String(buffer: body), "{}")
        XCTAssertNil(try channel.readOutbound(as: HTTP2Frame.FramePayload.self))
    }

    func testAResponseWithoutBodyEndsOnItsHeaders() throws {
        let channel = try channel()
        channel.write(head(["Content-Length": "0"]), promise: nil)
        channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil)
        guard case .headers(let headers) = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) else {
            return XCTFail("expected HEADERS")
        }
        XCTAssertTrue(headers.endStream)
        XCTAssertNil(try channel.readOutbound(as: HTTP2Frame.FramePayload.self))
    }

    func testAStreamedBodyGoesOutAtEachFlushAndEndsWithAnEmptyFrame() throws {
        let channel = try channel()
        channel.writeAndFlush(head([:]), promise: nil)
        guard case .headers(let headers) = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) else {
            return XCTFail("expected HEADERS")
        }
        XCTAssertFalse(headers.endStream)
        let chunk = channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: "event"))))
        XCTAssertNoThrow(try chunk.wait())
        guard case .data(let data) = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) else {
            return XCTFail("expected DATA")
        }
        XCTAssertFalse(data.endStream)
        channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil)
        guard case .data(let end) = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) else {
            return XCTFail("expected the end")
        }
        XCTAssertTrue(end.endStream)
        XCTAssertEqual(end.data.readableBytes, 0)
    }

    func testPromisesOfMergedFramesBothComplete() throws {
        let channel = try channel()
        channel.write(head([:]), promise: nil)
        let body = channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: "x"))))
        let end = channel.writeAndFlush(HTTPServerResponsePart.end(nil))
        XCTAssertNoThrow(try body.wait())
        XCTAssertNoThrow(try end.wait())
    }
}
