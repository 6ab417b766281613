import APIMachinery
import Logging
import NIOConcurrencyHelpers
import NIOCore

extension ResourceClient {
    /// The member of a watch event a client that drops `managedFields` never builds.
    static var managedFieldsPath: [String] { ["object", "metadata", "managedFields"] }

    /// WATCH from `resourceVersion` ("" for now on), with bookmarks; events that do not decode are logged and
    /// skipped. Each line is parsed and decoded into the model as it arrives, on the connection's event loop,
    /// so a change costs one hand-over to the consumer.
    public func watch(
        resourceVersion: String = "", labelSelector: String = "", fieldSelector: String = "",
        timeout: Duration? = nil
    ) async throws -> WatchChanges<Object> {
        var query = selectors(labelSelector: labelSelector, fieldSelector: fieldSelector)
        query.append("watch", "true")
        query.append("allowWatchBookmarks", "true")
        if let timeout { query.append("timeoutSeconds", String(max(1, timeout.components.seconds))) }
        if !resourceVersion.isEmpty { query.append("resourceVersion", resourceVersion) }
        let (changes, continuation) = WatchChanges<Object>.makeStream()
        let decoder = WatchChangeDecoder<Object>(
            continuation: continuation, skipping: dropsManagedFields ? Self.managedFieldsPath : [], logger: logger)
        let stream = try await client.streamBody(
            Request(method: .get, path: path(), query: query), receive: { decoder.receive($0) },
            finished: { decoder.finish($0) })
        // The consumer stopping resets the HTTP/2 stream, which ends the watch server-side.
        continuation.onTermination = { _ in stream.cancel() }
        if decoder.hasEnded { stream.cancel() }
        return changes
    }

    /// One watch line as an event: `{"type": "ADDED", "object": {…}}`.
    static func event(line: ArraySlice<UInt8>, skipping path: [String]) throws(ClientError) -> WatchEvent {
        let value: JSON
        do {
            value = try JSON.parse(line, skipping: path)
        } catch {
            throw .invalidWatchEvent(error.message)
        }
        guard let typeName = value["type"]?.stringValue else { throw .invalidWatchEvent("no \"type\"") }
        guard let type = WatchEvent.EventType(rawValue: typeName) else {
            throw .invalidWatchEvent("unknown type \"\(typeName)\"")
        }
        guard let object = value["object"], object.objectValue != nil else {
            throw .invalidWatchEvent("no \"object\"")
        }
        return WatchEvent(type: type, object: object)
    }
}

/// Turns a watch body into decoded changes as it arrives. Called on the stream's event loop; the lock is
/// uncontended and only makes the Sendable-ness checkable. A line that is not a watch event ends the watch
/// with the error, as the server would only send one when something is badly wrong.
final class WatchChangeDecoder<Object: KubernetesObject>: Sendable {
    private let splitter = NIOLockedValueBox(LineSplitter())
    private let ended = NIOLockedValueBox(false)
    private let continuation: WatchChanges<Object>.Continuation
    private let skipping: [String]
    private let logger: Logger

    init(continuation: WatchChanges<Object>.Continuation, skipping: [String], logger: Logger) {
        self.continuation = continuation
        self.skipping = skipping
        self.logger = logger
    }

    /// Whether the changes have ended: the body ended, or a bad line ended them.
    var hasEnded: Bool { ended.withLockedValue { $0 } }

    func receive(_ buffer: ByteBuffer) {
        guard !hasEnded else { return }
        do {
            try splitter.withLockedValue { splitter in
                try splitter.append(buffer.readableBytesView) { line in try deliver(line) }
            }
        } catch {
            end(error)
        }
    }

    func finish(_ error: (any Error)?) {
        guard !hasEnded else { return }
        if error == nil, let rest = splitter.withLockedValue({ $0.finish() }) {
            do {
                try deliver(rest[...])
            } catch {
                end(error)
                return
            }
        }
        end(error)
    }

    private func deliver(_ line: ArraySlice<UInt8>) throws(ClientError) {
        let event = try ResourceClient<Object>.event(line: line, skipping: skipping)
        if let change = ResourceClient<Object>.change(event, logger: logger) { continuation.yield(change) }
    }

    private func end(_ error: (any Error)?) {
        ended.withLockedValue { $0 = true }
        continuation.finish(throwing: error)
    }
}
