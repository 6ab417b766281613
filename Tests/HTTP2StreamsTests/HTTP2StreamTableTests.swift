import HTTP2Streams
import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP2
import Testing

/// A client and a server table, each behind a real NIO HTTP/2 handler, wired together in memory.
@Suite struct HTTP2StreamTableTests {
    /// Records what the table tells a stream; `onReceive` may answer from inside `receive`.
    final class RecordingStream: HTTP2TableStream {
        var frames: [HTTP2Frame.FramePayload] = []
        var terminations: [HTTP2StreamTermination] = []
        var dataBytes = 0
        var onReceive: ((HTTP2Frame.FramePayload) -> Void)?

        func receive(_ payload: HTTP2Frame.FramePayload) {
            frames.append(payload)
            if case .data(let data) = payload, case .byteBuffer(let bytes) = data.data {
                dataBytes += bytes.readableBytes
            }
            onReceive?(payload)
        }

        func terminated(_ reason: HTTP2StreamTermination) { terminations.append(reason) }

        var receivedReset: HTTP2ErrorCode? {
            for frame in frames { if case .rstStream(let code) = frame { return code } }
            return nil
        }
    }

    struct Pair {
        let client: EmbeddedChannel
        let server: EmbeddedChannel
        let clientTable: HTTP2StreamTable
        let serverTable: HTTP2StreamTable

        /// Moves bytes both ways until neither side has anything left to say.
        func pump() throws {
            var moved = true
            while moved {
                moved = false
                while let bytes = try client.readOutbound(as: ByteBuffer.self) {
                    try server.writeInbound(bytes)
                    moved = true
                }
                while let bytes = try server.readOutbound(as: ByteBuffer.self) {
                    try client.writeInbound(bytes)
                    moved = true
                }
            }
        }
    }

    static let request: HPACKHeaders = [":method": "GET", ":scheme": "https", ":path": "/", ":authority": "x"]

    /// Both tables keep NIO's default 65,535-byte windows, so anything larger needs their WINDOW_UPDATEs.
    func makePair(firstStreamID: Int32 = 1, accept: @escaping HTTP2StreamTable.Acceptor) throws -> Pair {
        let clientTable = HTTP2StreamTable(
            streamWindow: 65_535, connectionWindow: 65_535, firstStreamID: firstStreamID)
        let serverTable = HTTP2StreamTable(streamWindow: 65_535, connectionWindow: 65_535, accept: accept)
        let client = EmbeddedChannel()
        let server = EmbeddedChannel()
        try client.pipeline.syncOperations.addHandlers([NIOHTTP2Handler(mode: .client), clientTable])
        try server.pipeline.syncOperations.addHandlers([NIOHTTP2Handler(mode: .server), serverTable])
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 1)
        _ = try client.connect(to: address).wait()
        _ = try server.connect(to: address).wait()
        let pair = Pair(client: client, server: server, clientTable: clientTable, serverTable: serverTable)
        try pair.pump()
        return pair
    }

    @Test func aRequestAndItsAnswerCloseTheStreamOnBothSides() throws {
        let served = RecordingStream()
        var table: HTTP2StreamTable?
        var servedID: HTTP2StreamID?
        let pair = try makePair { id, serverTable in
            servedID = id
            table = serverTable
            return served
        }
        served.onReceive = { payload in
            guard case .headers(let head) = payload, head.endStream, let table, let servedID else { return }
            table.write(.headers(.init(headers: [":status": "200"])), on: servedID)
            table.write(.data(.init(data: .byteBuffer(ByteBuffer(string: "hello")), endStream: true)), on: servedID)
            table.flush()
        }
        let asked = RecordingStream()
        let first = try #require(pair.clientTable.open(asked))
        #expect(first == 1)
        pair.clientTable.write(.headers(.init(headers: Self.request, endStream: true)), on: first)
        pair.clientTable.flush()
        try pair.pump()
        #expect(asked.dataBytes == 5)
        // Neither owner forgot its stream, so the HTTP/2 layer's close is what ends both.
        #expect(pair.clientTable.count == 0 && pair.serverTable.count == 0)
        guard case .closed(nil) = asked.terminations.first, asked.terminations.count == 1 else {
            Issue.record("client stream ended with \(asked.terminations)")
            return
        }
        guard case .closed(nil) = served.terminations.first, served.terminations.count == 1 else {
            Issue.record("server stream ended with \(served.terminations)")
            return
        }
        #expect(pair.clientTable.open(RecordingStream()) == 3)
    }

    @Test func streamIDsRunOutBeforeTheyWouldWrapAndTheLastOnesStillWork() throws {
        var served: [HTTP2StreamID: RecordingStream] = [:]
        let pair = try makePair(firstStreamID: Int32.max - 4) { id, _ in
            let stream = RecordingStream()
            served[id] = stream
            return stream
        }
        var opened: [HTTP2StreamID] = []
        while let id = pair.clientTable.open(RecordingStream()) {
            opened.append(id)
            pair.clientTable.write(.headers(.init(headers: Self.request, endStream: true)), on: id)
        }
        pair.clientTable.flush()
        try pair.pump()
        #expect(opened == [HTTP2StreamID(Int(Int32.max - 4)), HTTP2StreamID(Int(Int32.max - 2))])
        #expect(!pair.clientTable.hasStreamIDsLeft)
        // The peer got both: the table's IDs were ones the HTTP/2 layer accepts.
        #expect(Set(served.keys) == Set(opened))
    }

    @Test func aStreamTheServerDoesNotAcceptIsRefused() throws {
        let pair = try makePair { _, _ in nil }
        let asked = RecordingStream()
        let id = try #require(pair.clientTable.open(asked))
        pair.clientTable.write(.headers(.init(headers: Self.request, endStream: true)), on: id)
        pair.clientTable.flush()
        try pair.pump()
        #expect(asked.receivedReset == .refusedStream)
        guard case .closed(.refusedStream) = asked.terminations.first else {
            Issue.record("client stream ended with \(asked.terminations)")
            return
        }
        #expect(pair.clientTable.count == 0)
    }

    @Test func anOwnersResetEndsTheStreamOnlyForThePeer() throws {
        var served: [HTTP2StreamID: RecordingStream] = [:]
        let pair = try makePair { id, _ in
            let stream = RecordingStream()
            served[id] = stream
            return stream
        }
        let kept = RecordingStream()
        let abandoned = RecordingStream()
        let keptID = try #require(pair.clientTable.open(kept))
        pair.clientTable.write(.headers(.init(headers: Self.request)), on: keptID)
        let abandonedID = try #require(pair.clientTable.open(abandoned))
        pair.clientTable.write(.headers(.init(headers: Self.request)), on: abandonedID)
        pair.clientTable.flush()
        try pair.pump()
        #expect(pair.serverTable.count == 2)
        pair.clientTable.reset(abandonedID)
        try pair.pump()
        // The owner that reset its stream is not told again; the peer learns of it by RST_STREAM, the other
        // stream goes on.
        #expect(abandoned.terminations.isEmpty && kept.terminations.isEmpty)
        #expect(served[abandonedID]?.receivedReset == .cancel)
        #expect(served[keptID]?.receivedReset == nil && served[keptID]?.terminations.isEmpty == true)
        #expect(pair.clientTable.count == 1 && pair.serverTable.count == 1)
    }

    @Test func answersLargerThanTheWindowsArriveWhole() throws {
        let size = 300_000
        var table: HTTP2StreamTable?
        var servedID: HTTP2StreamID?
        let served = RecordingStream()
        let pair = try makePair { id, serverTable in
            servedID = id
            table = serverTable
            return served
        }
        served.onReceive = { payload in
            guard case .headers = payload, let table, let servedID else { return }
            table.write(.headers(.init(headers: [":status": "200"])), on: servedID)
            // NIO's handler holds what the flow-control windows do not allow yet, and sends it as they open.
            let body = ByteBuffer(repeating: 0x61, count: size)
            table.write(.data(.init(data: .byteBuffer(body), endStream: true)), on: servedID)
            table.flush()
        }
        let asked = RecordingStream()
        let id = try #require(pair.clientTable.open(asked))
        pair.clientTable.write(.headers(.init(headers: Self.request, endStream: true)), on: id)
        pair.clientTable.flush()
        try pair.pump()
        #expect(asked.dataBytes == size)
    }

    @Test func aClosedConnectionEndsEveryOpenStreamOnce() throws {
        let pair = try makePair { _, _ in RecordingStream() }
        let streams = (0..<3).map { _ in RecordingStream() }
        for stream in streams {
            let id = try #require(pair.clientTable.open(stream))
            pair.clientTable.write(.headers(.init(headers: Self.request)), on: id)
        }
        pair.clientTable.flush()
        try pair.pump()
        _ = try pair.client.close().wait()
        for stream in streams {
            #expect(stream.terminations.count == 1)
            guard case .connectionClosed = stream.terminations.first else {
                Issue.record("ended with \(stream.terminations)")
                continue
            }
        }
        #expect(pair.clientTable.count == 0)
        #expect(pair.clientTable.open(RecordingStream()) == nil)
    }
}
