import NIOCore
import NIOEmbedded
import XCTest

@testable import APIServer

/// The connection's flushes of one event-loop tick become one, at the end of the tick; a close sends what
/// was written first.
final class FlushCoalescingHandlerTests: XCTestCase {
    /// Counts the flushes that reach the socket side.
    final class FlushCounter: ChannelOutboundHandler {
        typealias OutboundIn = IOData
        var flushes = 0

        func flush(context: ChannelHandlerContext) {
            flushes += 1
            context.flush()
        }
    }

    func channel() throws -> (EmbeddedChannel, FlushCounter) {
        let counter = FlushCounter()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers(counter, FlushCoalescingHandler())
        return (channel, counter)
    }

    func buffer(_ text: String) -> IOData { .byteBuffer(ByteBuffer(string: text)) }

    func testFlushesOfOneTickLeaveAsOneAtItsEnd() throws {
        let (channel, counter) = try channel()
        let first = channel.writeAndFlush(buffer("one"))
        channel.writeAndFlush(buffer("two"), promise: nil)
        channel.writeAndFlush(buffer("three"), promise: nil)
        XCTAssertEqual(counter.flushes, 0)
        XCTAssertNil(try channel.readOutbound(as: ByteBuffer.self))

        channel.embeddedEventLoop.run()
        XCTAssertEqual(counter.flushes, 1)
        for expected in ["one", "two", "three"] {
            XCTAssertEqual(try channel.readOutbound(as: ByteBuffer.self), ByteBuffer(string: expected))
        }
        XCTAssertNoThrow(try first.wait())

        // The next tick's flush is its own.
        channel.writeAndFlush(buffer("four"), promise: nil)
        channel.embeddedEventLoop.run()
        XCTAssertEqual(counter.flushes, 2)
        XCTAssertEqual(try channel.readOutbound(as: ByteBuffer.self), ByteBuffer(string: "four"))
    }

    func testACloseSendsWhatWasWrittenBeforeIt() throws {
        let (channel, counter) = try channel()
        channel.writeAndFlush(buffer("goaway"), promise: nil)
        XCTAssertNoThrow(try channel.close().wait())
        XCTAssertEqual(counter.flushes, 1)
        XCTAssertEqual(try channel.readOutbound(as: ByteBuffer.self), ByteBuffer(string: "goaway"))
        channel.embeddedEventLoop.run()
        XCTAssertEqual(counter.flushes, 1)
    }
}
