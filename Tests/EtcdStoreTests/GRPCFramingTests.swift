import NIOCore
import NIOHPACK
import NIOPosix
import Testing

@testable import EtcdStore

@Suite struct GRPCFramingTests {
    /// A refused connect, plain or TLS, fails the attempt rather than leaving it waiting for a handshake.
    @Test func aRefusedConnectFailsTheAttempt() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        for secure in [false, true] {
            // Port 1 on loopback: nothing listens there, so the kernel refuses at once.
            let attempt = GRPCConnection.connect(
                to: GRPCEndpoint(host: "127.0.0.1", port: 1, secure: secure), tls: nil,
                connectTimeout: .seconds(2), keepAlive: GRPCKeepAlive(time: .seconds(10), timeout: .seconds(5)),
                eventLoop: group.next())
            await #expect(throws: (any Error).self) { try await attempt.get() }
        }
        try await group.shutdownGracefully()
    }

    @Test func messagesSplitAndMergedAcrossDataFramesAreReassembled() throws {
        let allocator = ByteBufferAllocator()
        var wire = GRPCFraming.frame(ByteBuffer(string: "first"), allocator: allocator)
        var second = GRPCFraming.frame(ByteBuffer(string: ""), allocator: allocator)
        var third = GRPCFraming.frame(ByteBuffer(string: "third message"), allocator: allocator)
        wire.writeBuffer(&second)
        wire.writeBuffer(&third)
        var reader = GRPCMessageReader()
        var messages: [String] = []
        // Feed the bytes in chunks of 3, so prefixes and bodies are cut everywhere.
        while wire.readableBytes > 0 {
            let chunk = wire.readSlice(length: min(3, wire.readableBytes))!
            messages += try reader.append(chunk).map { String(buffer: $0) }
        }
        #expect(messages == ["first", "", "third message"])
        #expect(!reader.hasPartialMessage)
    }

    @Test func compressedMessagesAreRejected() {
        var reader = GRPCMessageReader()
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt8(1))
        buffer.writeInteger(UInt32(1))
        buffer.writeInteger(UInt8(42))
        #expect(throws: GRPCStatusError.self) { try reader.append(buffer) }
    }

    @Test func statusComesFromTrailersWithPercentEncodedMessages() {
        let ok: HPACKHeaders = ["grpc-status": "0"]
        #expect(GRPCCall.status(from: ok) == nil)
        let failed: HPACKHeaders = ["grpc-status": "11", "grpc-message": "etcdserver: mvcc: required revision%20has"]
        let error = GRPCCall.status(from: failed)
        #expect(error?.code == .outOfRange)
        #expect(error?.message == "etcdserver: mvcc: required revision has")
        #expect(GRPCCall.status(from: [:])?.code == .internal)
    }

    @Test func endpointsParseLikeEtcdServersFlag() throws {
        let endpoints = try EtcdConfiguration.parseServers("https://k8s-2:2379,http://127.0.0.1:2379, 10.0.0.1:4001")
        #expect(
            endpoints == [
                GRPCEndpoint(host: "k8s-2", port: 2379, secure: true),
                GRPCEndpoint(host: "127.0.0.1", port: 2379, secure: false),
                GRPCEndpoint(host: "10.0.0.1", port: 4001, secure: false),
            ])
        #expect(throws: EtcdConfigurationError.self) { try EtcdConfiguration.parseServers("") }
        #expect(throws: EtcdConfigurationError.self) { try EtcdConfiguration.parseServers("unix://x:1") }
        #expect(GRPCEndpoint(url: "http://host") == nil)
    }
}
