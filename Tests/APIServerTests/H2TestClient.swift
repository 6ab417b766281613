import HTTP2Streams
import NIOConcurrencyHelpers
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import NIOSSL
import XCTest

@testable import APIServer

/// A bare HTTP/2 client over TLS for the serving tests: each request is a stream of an `HTTP2StreamTable` that
/// records every frame it gets, so tests see frames as the server sent them. Its state lives on the
/// connection's event loop; tests read it through `send`'s future or `waitUntil`.
final class H2TestClient: Sendable {
    let channel: any Channel
    private let table: NIOLoopBound<HTTP2StreamTable>

    private init(channel: any Channel, table: NIOLoopBound<HTTP2StreamTable>) {
        self.channel = channel
        self.table = table
    }

    /// Connects with ALPN h2; `window` is what the client's streams and connection let the server send ahead.
    static func connect(to server: HTTPServer, trusting caBundle: [UInt8], window: Int = 65_535) async throws
        -> H2TestClient
    {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(caBundle))
        configuration.applicationProtocols = ["h2"]
        let context = try NIOSSLContext(configuration: configuration)
        let address = try XCTUnwrap(server.localAddress)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                    var connection = NIOHTTP2Handler.ConnectionConfiguration()
                    connection.initialSettings = [HTTP2Setting(parameter: .initialWindowSize, value: window)]
                    try sync.addHandler(NIOHTTP2Handler(mode: .client, connectionConfiguration: connection))
                    try sync.addHandler(HTTP2StreamTable(streamWindow: window, connectionWindow: window))
                }
            }
            .connect(to: address).get()
        let table = try await channel.eventLoop.submit {
            let table = try channel.pipeline.syncOperations.handler(type: HTTP2StreamTable.self)
            if window > 65_535 {
                // The connection's window starts at 65,535 whatever the settings say.
                channel.writeAndFlush(
                    HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: window - 65_535)),
                    promise: nil)
            }
            return NIOLoopBound(table, eventLoop: channel.eventLoop)
        }.get()
        return H2TestClient(channel: channel, table: table)
    }

    /// Opens a stream for `headers` (`:scheme` and `:authority` added) with `body`, if any.
    func send(_ headers: HPACKHeaders, body: String? = nil) -> Exchange {
        let stream = RecordedStream(eventLoop: channel.eventLoop)
        let table = self.table
        channel.eventLoop.execute {
            var block = headers
            block.add(name: ":scheme", value: "https")
            block.add(name: ":authority", value: "test")
            let table = table.value
            guard let id = table.open(stream) else { return stream.done.fail(ChannelError.ioOnClosedChannel) }
            stream.id = id
            table.write(.headers(.init(headers: block, endStream: body == nil)), on: id)
            if let body {
                table.write(.data(.init(data: .byteBuffer(ByteBuffer(string: body)), endStream: true)), on: id)
            }
            table.flush()
        }
        return Exchange(stream: stream)
    }

    /// Resets `stream` (RST_STREAM CANCEL).
    func reset(_ stream: RecordedStream) {
        let table = self.table
        channel.eventLoop.execute {
            guard let id = stream.id else { return }
            table.value.reset(id)
            stream.terminated(.closed(.cancel))
        }
    }

    /// Stops reading the socket, as a client that takes nothing more.
    func stopReading() { channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in } }

    func resumeReading() {
        channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        channel.read()
    }

    /// Polls, on the connection's loop, until `done` holds, for up to 5 s.
    func waitUntil(_ done: @escaping @Sendable () -> Bool) async throws {
        for _ in 0..<500 {
            if try await channel.eventLoop.submit(done).get() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        XCTFail("timed out")
    }

    func close() { channel.close(promise: nil) }

    /// A request in flight: its stream, and the answer once the stream ends.
    struct Exchange: Sendable {
        let stream: RecordedStream

        func get() async throws -> Answer { try await stream.done.futureResult.get() }
    }

    /// What a stream received.
    struct Answer: Sendable {
        var headers: HPACKHeaders
        var body: String
        /// Each frame's kind, `+end` when it carried END_STREAM.
        var frames: [String]
    }

    /// One stream's frames as they arrive; touched only on the connection's loop (hence unchecked).
    final class RecordedStream: HTTP2TableStream, @unchecked Sendable {
        var id: HTTP2StreamID?
        var headers = HPACKHeaders()
        var body = ""
        var received = 0
        var frames: [String] = []
        let done: EventLoopPromise<Answer>

        init(eventLoop: any EventLoop) { done = eventLoop.makePromise() }

        func receive(_ payload: HTTP2Frame.FramePayload) {
            switch payload {
            case .headers(let block):
                headers = block.headers
                frames.append(block.endStream ? "headers+end" : "headers")
            case .data(let data):
                if case .byteBuffer(let bytes) = data.data {
                    received += bytes.readableBytes
                    if received < 1 << 16 { body += String(buffer: bytes) }
                }
                frames.append(data.endStream ? "data+end" : "data")
            case .rstStream(let code):
                frames.append("reset \(code)")
            default:
                break
            }
        }

        func terminated(_ reason: HTTP2StreamTermination) {
            done.succeed(Answer(headers: headers, body: body, frames: frames))
        }
    }
}
