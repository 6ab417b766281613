import APIMachinery
import NIOConcurrencyHelpers
import NIOCore
import TestSupport
import XCTest

@testable import Client

/// Requests as entries of the connection's stream table: each ends exactly once, and none is left behind.
final class HTTP2StreamLifecycleTests: XCTestCase {
    private func adminClient(requestTimeout: Duration? = .seconds(60)) async throws -> RESTClient {
        let endpoint = try await LocalAPIServer.shared.start()
        var configuration = try ClientConfiguration.load(kubeconfigPath: endpoint.kubeconfigPath)
        configuration.connections = 1
        configuration.qps = -1
        configuration.requestTimeout = requestTimeout
        return try RESTClient(configuration: configuration)
    }

    private func openStreams(_ client: RESTClient) async throws -> Int {
        var total = 0
        for connection in client.pool.openConnections() { total += try await connection.openStreamCount().get() }
        return total
    }

    /// Waits (up to 5 s) until `condition` holds; the server's answers to a reset arrive asynchronously.
    private func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<500 {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    /// Records how each streamed body ended.
    private final class Endings: Sendable {
        let errors = NIOLockedValueBox<[Int: [String]]>([:])

        func ended(_ index: Int, _ error: (any Error)?) {
            errors.withLockedValue { $0[index, default: []].append(error.map { "\($0)" } ?? "clean") }
        }
    }

    private func watchConfigMaps(_ client: RESTClient, _ namespace: String, index: Int, endings: Endings)
        async throws -> BodyStream
    {
        let path = ResourcePath.path(namespace: namespace, resource: "configmaps")
        return try await client.streamBody(
            Request(method: .get, path: path, query: ["watch": "true"]), receive: { _ in },
            finished: { endings.ended(index, $0) })
    }

    func testManySequentialRequestsShareOneConnectionAndLeaveNoStreamBehind() async throws {
        let client = try await adminClient()
        for _ in 0..<500 {
            let response = try await client.get(path: "/version")
            XCTAssertEqual(response.status, 200)
        }
        XCTAssertEqual(client.connectionsOpened, 1)
        let drained = try await eventually { try await openStreams(client) == 0 }
        XCTAssertTrue(drained, "finished requests must leave the stream table")
        await client.shutdown()
    }

    func testRunningOutOfStreamIDsRetiresTheConnectionAndLaterRequestsGoToNewOnes() async throws {
        let client = try await adminClient()
        // Each connection has two stream IDs left: five requests need three connections, and none fails.
        try await HTTP2Connection.$firstStreamID.withValue(Int32.max - 4) {
            for _ in 0..<5 {
                let response = try await client.get(path: "/version")
                XCTAssertEqual(response.status, 200)
            }
        }
        XCTAssertEqual(client.connectionsOpened, 3)
        XCTAssertEqual(client.pool.openConnections().filter(\.isUsable).count, 1)
    }

    func testCancellingOneWatchResetsOnlyItsStream() async throws {
        let client = try await adminClient()
        let namespace = uniqueNamespace("cancel")
        try await client.createNamespace(namespace)
        let endings = Endings()
        let cancelled = try await watchConfigMaps(client, namespace, index: 0, endings: endings)
        // The namespace's root CA config map may appear at any time: the kept watch looks at one name only.
        let kept = try await client.watch(
            path: ResourcePath.path(namespace: namespace, resource: "configmaps"),
            query: ["fieldSelector": "metadata.name=after"])
        cancelled.cancel()
        let ended = try await eventually { endings.errors.withLockedValue { $0[0] != nil } }
        XCTAssertTrue(ended)

        _ = try await client.postJSON(
            path: ResourcePath.path(namespace: namespace, resource: "configmaps"), configMap("after", ["k": "v"]))
        var iterator = kept.makeAsyncIterator()
        let event = try await iterator.next()
        XCTAssertEqual(event?.type, .added)
        XCTAssertEqual(event?.object[path: "metadata", "name"], "after")
        XCTAssertEqual(client.connectionsOpened, 1, "a reset stream must not take its connection down")
        let openAfterCancel = try await openStreams(client)
        XCTAssertEqual(openAfterCancel, 1, "only the kept watch is open")
        try await Task.sleep(for: .milliseconds(100))
        XCTAssertEqual(endings.errors.withLockedValue { $0[0]?.count }, 1, "the cancelled watch ends once")
        await client.shutdown()
    }

    func testClosedConnectionFailsEveryOpenRequestOnceAndTheNextRequestReconnects() async throws {
        let client = try await adminClient()
        let namespace = uniqueNamespace("closed")
        try await client.createNamespace(namespace)
        let endings = Endings()
        var streams: [BodyStream] = []
        for index in 0..<8 {
            streams.append(try await watchConfigMaps(client, namespace, index: index, endings: endings))
        }
        let openWatches = try await openStreams(client)
        XCTAssertEqual(openWatches, 8)
        for connection in client.pool.openConnections() {
            connection.close()
            try await connection.channel.closeFuture.get()
        }
        let allEnded = try await eventually { endings.errors.withLockedValue { $0.count == 8 } }
        XCTAssertTrue(allEnded)
        // Cancelling after the end changes nothing: each body ended exactly once, with the connection's error.
        for stream in streams { stream.cancel() }
        try await Task.sleep(for: .milliseconds(100))
        for (index, errors) in endings.errors.withLockedValue({ $0 }) {
            XCTAssertEqual(errors, ["\(ClientError.connectionClosed)"], "watch \(index)")
        }
        let statusAfterReconnect = try await client.get(path: "/version").status
        XCTAssertEqual(statusAfterReconnect, 200)
        XCTAssertEqual(client.connectionsOpened, 2)
        await client.shutdown()
    }

    func testTimedOutRequestFailsAndResetsItsStream() async throws {
        let client = try await adminClient(requestTimeout: .milliseconds(200))
        let namespace = uniqueNamespace("timeout")
        try await client.createNamespace(namespace)
        let path = ResourcePath.path(namespace: namespace, resource: "configmaps")
        do {
            // A watch sent as a plain request never ends on its own, so only the timeout ends it.
            _ = try await client.send(Request(method: .get, path: path, query: ["watch": "true"]))
            XCTFail("a watch sent as a buffered request completed")
        } catch let error as ClientError {
            XCTAssertEqual(error, .timeout)
        }
        let openAfterTimeout = try await openStreams(client)
        XCTAssertEqual(openAfterTimeout, 0)
        let statusAfterTimeout = try await client.get(path: "/version").status
        XCTAssertEqual(statusAfterTimeout, 200)
        XCTAssertEqual(client.connectionsOpened, 1)
        await client.shutdown()
    }

    func testCancelledTaskResetsItsRequest() async throws {
        let client = try await adminClient()
        let namespace = uniqueNamespace("task")
        try await client.createNamespace(namespace)
        let path = ResourcePath.path(namespace: namespace, resource: "configmaps")
        let task = Task { try await client.send(Request(method: .get, path: path, query: ["watch": "true"])) }
        let opened = try await eventually { try await openStreams(client) == 1 }
        XCTAssertTrue(opened)
        task.cancel()
        do {
            _ = try await task.value
            XCTFail("a cancelled request completed")
        } catch is CancellationError {}
        let openAfterCancel = try await openStreams(client)
        XCTAssertEqual(openAfterCancel, 0)
        XCTAssertEqual(client.connectionsOpened, 1)
        await client.shutdown()
    }
}
