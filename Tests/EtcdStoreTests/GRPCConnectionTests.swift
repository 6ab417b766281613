import Foundation
import HTTP2Streams
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP2
import NIOPosix
import TestSupport
import Testing

@testable import EtcdStore

/// How calls become HTTP/2 frames and flushes: what etcd pays for per request.
@Suite struct GRPCConnectionTests {
    @Test func flushesOfOneTickBecomeOne() throws {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(loop: loop)
        let counter = FlushCounter()
        try channel.pipeline.syncOperations.addHandlers([counter, GRPCFlushCoalescer()])
        for index in 0..<3 {
            channel.writeAndFlush(IOData.byteBuffer(ByteBuffer(string: "call \(index)")), promise: nil)
        }
        // Nothing reached the socket yet: the flush waits for the end of the tick.
        #expect(counter.flushes == 0)
        #expect(try channel.readOutbound(as: IOData.self) == nil)
        loop.run()
        #expect(counter.flushes == 1)
        var written: [String] = []
        while case .byteBuffer(let buffer) = try channel.readOutbound(as: IOData.self) {
            written.append(String(buffer: buffer))
        }
        #expect(written == ["call 0", "call 1", "call 2"])
        _ = try channel.finish()
    }

    @Test func whileOtherCallsAwaitAnswersTheFlushWaitsForTheDelay() throws {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(loop: loop)
        let counter = FlushCounter()
        let activity = GRPCConnectionActivity()
        activity.callsAwaitingAnswers = 2
        try channel.pipeline.syncOperations.addHandlers([
            counter, GRPCFlushCoalescer(delay: .microseconds(100), activity: activity),
        ])
        channel.writeAndFlush(IOData.byteBuffer(ByteBuffer(string: "second call")), promise: nil)
        loop.run()
        #expect(counter.flushes == 0)
        loop.advanceTime(by: .microseconds(99))
        #expect(counter.flushes == 0)
        // The PING ACK or call written meanwhile leaves with it.
        channel.writeAndFlush(IOData.byteBuffer(ByteBuffer(string: "third call")), promise: nil)
        loop.advanceTime(by: .microseconds(1))
        #expect(counter.flushes == 1)

        // Alone on the connection, a call leaves at the end of the tick.
        activity.callsAwaitingAnswers = 1
        channel.writeAndFlush(IOData.byteBuffer(ByteBuffer(string: "only call")), promise: nil)
        loop.run()
        #expect(counter.flushes == 2)
        _ = try channel.finish()
    }

    @Test(.enabled(if: EtcdProcess.isInstalled, "needs /usr/bin/etcd (apt-get install etcd-server)"))
    func callsStartedTogetherShareOneFlushAndEndWithoutResets() async throws {
        let member = try await EtcdProcess.start()
        let endpoint = try #require(GRPCEndpoint(url: member.clientURL))
        let connection = try await GRPCConnection.connect(
            to: endpoint, tls: nil, connectTimeout: .seconds(5),
            keepAlive: GRPCKeepAlive(time: .seconds(10), timeout: .seconds(5)),
            eventLoop: MultiThreadedEventLoopGroup.singleton.next()
        ).get()
        defer { connection.close() }
        let recorder = OutboundFrameRecorder()
        try await connection.channel.pipeline.addHandler(recorder, position: .first)

        var request = Etcdserverpb_RangeRequest()
        request.key = Data("/frames/none".utf8)
        let message = ByteBuffer(bytes: try request.serializedBytes() as [UInt8])
        let calls = 32
        // All calls start in one event-loop tick, as concurrent requests of an API server do under load.
        let answers = try await connection.channel.eventLoop.submit {
            (0..<calls).map { _ in
                let promise = connection.channel.eventLoop.makePromise(of: Void.self)
                _ = connection.openCall(
                    path: EtcdStore.Method.range, unary: true, timeout: .seconds(10), firstMessage: message,
                    observer: CompletionObserver(promise))
                return promise.futureResult
            }
        }.get()
        for answer in answers { try await answer.get() }
        // One more call afterwards: anything the first calls still sent (a reset) would be flushed by now.
        let last = try await connection.unary(path: EtcdStore.Method.range, request: message, timeout: .seconds(10))
        #expect(try Etcdserverpb_RangeResponse(serializedBytes: Array(last.readableBytesView)).kvs.isEmpty)

        let flushes = recorder.flushes
        let withRequests = flushes.filter { $0.contains(.headers) }
        #expect(withRequests.count == 2)
        #expect(withRequests.first?.filter { $0 == .headers }.count == calls)
        #expect(withRequests.first?.filter { $0 == .data }.count == calls)
        #expect(!flushes.joined().contains(.rstStream))
        #expect(flushes.joined().filter { $0 == .headers }.count == calls + 1)
    }

    /// Answers larger than the stream's 4 MiB window and, twice over, the connection's 16 MiB arrive whole:
    /// the multiplexer tops the windows up as the member's DATA is consumed.
    @Test(.enabled(if: EtcdProcess.isInstalled, "needs /usr/bin/etcd (apt-get install etcd-server)"))
    func answersLargerThanTheWindowsArriveWhole() async throws {
        let member = try await EtcdProcess.start()
        let connection = try await Self.connect(member)
        defer { connection.close() }
        let value = Data(repeating: UInt8(ascii: "v"), count: 1 << 20)
        for index in 0..<12 {
            var put = Etcdserverpb_PutRequest()
            put.key = Data("/big/\(index)".utf8)
            put.value = value
            _ = try await connection.unary(
                path: "/etcdserverpb.KV/Put", request: ByteBuffer(bytes: try put.serializedBytes() as [UInt8]),
                timeout: .seconds(10))
        }
        var range = Etcdserverpb_RangeRequest()
        range.key = Data("/big/".utf8)
        range.rangeEnd = Data("/big0".utf8)
        let request = ByteBuffer(bytes: try range.serializedBytes() as [UInt8])
        for _ in 0..<2 {
            let answer = try await connection.unary(
                path: EtcdStore.Method.range, request: request, timeout: .seconds(30))
            let response = try Etcdserverpb_RangeResponse(serializedBytes: Array(answer.readableBytesView))
            #expect(response.kvs.count == 12)
            #expect(response.kvs.allSatisfy { $0.value == value })
        }
    }

    /// A cancelled call ends as cancelled and resets its stream; a call past its deadline ends as
    /// deadline exceeded; the connection serves the next call either way.
    @Test(.enabled(if: EtcdProcess.isInstalled, "needs /usr/bin/etcd (apt-get install etcd-server)"))
    func cancelledAndLateCallsEndAloneAndTheConnectionGoesOn() async throws {
        let member = try await EtcdProcess.start()
        let connection = try await Self.connect(member)
        defer { connection.close() }
        let recorder = OutboundFrameRecorder()
        try await connection.channel.pipeline.addHandler(recorder, position: .first)

        // A watch never answers by itself: cancel it.
        var create = Etcdserverpb_WatchCreateRequest()
        create.key = Data("/nothing".utf8)
        var watch = Etcdserverpb_WatchRequest()
        watch.createRequest = create
        let ended = connection.channel.eventLoop.makePromise(of: Void.self)
        let stream = connection.openCall(
            path: "/etcdserverpb.Watch/Watch", unary: false, timeout: nil,
            firstMessage: ByteBuffer(bytes: try watch.serializedBytes() as [UInt8]), observer: CompletionObserver(ended)
        )
        try await Task.sleep(for: .milliseconds(200))
        stream.cancel()
        await #expect(throws: GRPCStatusError(code: .cancelled, message: "context canceled")) {
            try await ended.futureResult.get()
        }

        // The same watch with a deadline ends by itself.
        let late = connection.channel.eventLoop.makePromise(of: Void.self)
        _ = connection.openCall(
            path: "/etcdserverpb.Watch/Watch", unary: false, timeout: .milliseconds(100),
            firstMessage: ByteBuffer(bytes: try watch.serializedBytes() as [UInt8]), observer: CompletionObserver(late))
        await #expect(throws: GRPCStatusError(code: .deadlineExceeded, message: "context deadline exceeded")) {
            try await late.futureResult.get()
        }

        var range = Etcdserverpb_RangeRequest()
        range.key = Data("/nothing".utf8)
        let answer = try await connection.unary(
            path: EtcdStore.Method.range, request: ByteBuffer(bytes: try range.serializedBytes() as [UInt8]),
            timeout: .seconds(10))
        #expect(try Etcdserverpb_RangeResponse(serializedBytes: Array(answer.readableBytesView)).kvs.isEmpty)
        #expect(recorder.flushes.joined().filter { $0 == .rstStream }.count == 2)
    }

    /// etcd's own deadline (from `grpc-timeout`) may end a watch as `Unknown: context deadline exceeded`. That
    /// answer can be read before our timer runs on a busy loop; it still ends the call as deadline exceeded, which
    /// callers retry. An answer before the deadline keeps the member's status.
    @Test func theMembersAnswerAfterTheDeadlineEndsTheCallAsDeadlineExceeded() throws {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 2379)).wait()
        let table = HTTP2StreamTable(streamWindow: 1 << 16, connectionWindow: 1 << 16)
        try channel.pipeline.syncOperations.addHandler(table)
        let calls = GRPCCalls(
            table: table, activity: GRPCConnectionActivity(), goingAway: NIOLockedValueBox(false))
        let unknown: HPACKHeaders = [
            ":status": "200", "content-type": "application/grpc", "grpc-status": "2",
            "grpc-message": "context deadline exceeded",
        ]

        func call(timeout: TimeAmount) -> (GRPCCall, EventLoopFuture<Void>) {
            let ended = loop.makePromise(of: Void.self)
            let call = GRPCCall(
                headers: [:], halfCloseAfterFirstMessage: false, deadline: .now() + timeout,
                observer: CompletionObserver(ended), firstMessage: nil)
            calls.start(call)
            return (call, ended.futureResult)
        }
        // The embedded loop's clock stands still, so the timer never runs: only the member's answer ends these.
        let (late, lateEnded) = call(timeout: .milliseconds(1))
        let (early, earlyEnded) = call(timeout: .seconds(60))
        usleep(5_000)
        for stream in [late, early] {
            let id = try #require(stream.streamID)
            try channel.writeInbound(
                HTTP2Frame(streamID: id, payload: .headers(.init(headers: unknown, endStream: true))))
        }
        #expect(throws: GRPCStatusError(code: .deadlineExceeded, message: "context deadline exceeded")) {
            try lateEnded.wait()
        }
        #expect(throws: GRPCStatusError(code: .unknown, message: "context deadline exceeded")) {
            try earlyEnded.wait()
        }
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    private static func connect(_ member: EtcdProcess) async throws -> GRPCConnection {
        let endpoint = try #require(GRPCEndpoint(url: member.clientURL))
        return try await GRPCConnection.connect(
            to: endpoint, tls: nil, connectTimeout: .seconds(5),
            keepAlive: GRPCKeepAlive(time: .seconds(10), timeout: .seconds(5)),
            eventLoop: MultiThreadedEventLoopGroup.singleton.next()
        ).get()
    }
}

/// Counts flushes reaching the socket.
private final class FlushCounter: ChannelOutboundHandler, @unchecked Sendable {
    typealias OutboundIn = IOData
    private(set) var flushes = 0

    func flush(context: ChannelHandlerContext) {
        flushes += 1
        context.flush()
    }
}

/// Completes a promise when a call ends well.
private final class CompletionObserver: GRPCCallObserver {
    private let promise: EventLoopPromise<Void>

    init(_ promise: EventLoopPromise<Void>) { self.promise = promise }

    func received(_ message: ByteBuffer) {}

    func finished(_ error: GRPCStatusError?) {
        if let error { promise.fail(error) } else { promise.succeed(()) }
    }
}

/// At the socket end of a plain HTTP/2 connection: the frame types of every flush, in order.
final class OutboundFrameRecorder: ChannelOutboundHandler, Sendable {
    typealias OutboundIn = IOData

    enum FrameType: UInt8 {
        case data = 0
        case headers, priority, rstStream, settings, pushPromise, ping, goAway, windowUpdate, continuation
    }

    private struct State {
        var pending = ByteBuffer()
        var flushes: [[FrameType]] = []
    }
    private let state = NIOLockedValueBox(State())

    var flushes: [[FrameType]] { state.withLockedValue { $0.flushes } }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .byteBuffer(var buffer) = unwrapOutboundIn(data) {
            _ = state.withLockedValue { $0.pending.writeBuffer(&buffer) }
        }
        context.write(data, promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        state.withLockedValue { state in
            var frames: [FrameType] = []
            // Frames are written whole, so a flush holds complete frames: 3-byte length, type, flags, stream.
            while let length = state.pending.getInteger(at: state.pending.readerIndex, as: UInt32.self),
                state.pending.readableBytes >= 9 + Int(length >> 8)
            {
                let type = state.pending.getInteger(at: state.pending.readerIndex + 3, as: UInt8.self) ?? 255
                frames.append(FrameType(rawValue: type) ?? .continuation)
                state.pending.moveReaderIndex(forwardBy: 9 + Int(length >> 8))
            }
            state.flushes.append(frames)
        }
        context.flush()
    }
}
