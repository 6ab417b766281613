import NIOCore
import NIOEmbedded
import XCTest

@testable import Component

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
        // The tick's small writes leave as one buffer, which TLS seals as one record.
        XCTAssertEqual(try channel.readOutbound(as: ByteBuffer.self), ByteBuffer(string: "onetwothree"))
        XCTAssertNil(try channel.readOutbound(as: ByteBuffer.self))
        XCTAssertNoThrow(try first.wait())

        // The next tick's flush is its own.
        channel.writeAndFlush(buffer("four"), promise: nil)
        channel.embeddedEventLoop.run()
        XCTAssertEqual(counter.flushes, 2)
        XCTAssertEqual(try channel.readOutbound(as: ByteBuffer.self), ByteBuffer(string: "four"))
    }

    func testALargeWriteFollowsWhatWasGatheredBeforeIt() throws {
        let (channel, _) = try channel()
        let large = String(repeating: "x", count: FlushCoalescingHandler.gatheredLimit + 1)
        let small = channel.write(buffer("head"))
        let big = channel.write(buffer(large))
        channel.writeAndFlush(buffer("tail"), promise: nil)
        channel.embeddedEventLoop.run()
        XCTAssertEqual(try channel.readOutbound(as: ByteBuffer.self), ByteBuffer(string: "head"))
        XCTAssertEqual(try channel.readOutbound(as: ByteBuffer.self), ByteBuffer(string: large))
        XCTAssertEqual(try channel.readOutbound(as: ByteBuffer.self), ByteBuffer(string: "tail"))
        XCTAssertNoThrow(try small.wait())
        XCTAssertNoThrow(try big.wait())
    }

    func testEveryGatheredWritesPromiseCompletes() throws {
        let (channel, _) = try channel()
        let writes = (0..<3).map { channel.write(buffer("w\($0)")) }
        channel.flush()
        channel.embeddedEventLoop.run()
        for write in writes { XCTAssertNoThrow(try write.wait()) }
        XCTAssertEqual(try channel.readOutbound(as: ByteBuffer.self), ByteBuffer(string: "w0w1w2"))
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
