public import APIMachinery
import NIOConcurrencyHelpers
import NIOCore

/// One event of a watch stream: `{"type": "ADDED", "object": {…}}`.
public struct WatchEvent: Sendable, Hashable {
    /// The kind of change, as the API server names it.
    public enum EventType: String, Sendable, Hashable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
        case bookmark = "BOOKMARK"
        /// The object is a `Status`, e.g. 410 Expired when the resourceVersion is too old.
        case error = "ERROR"
    }

    public var type: EventType
    public var object: JSON

    public init(type: EventType, object: JSON) {
        self.type = type
        self.object = object
    }

    /// Decodes one line of a watch stream.
    public init(line: some Collection<UInt8>) throws(ClientError) {
        let value: JSON
        do {
            value = try JSON.parse(line)
        } catch {
            throw .invalidWatchEvent(error.message)
        }
        guard let typeName = value["type"]?.stringValue else {
            throw .invalidWatchEvent("no \"type\"")
        }
        guard let type = EventType(rawValue: typeName) else {
            throw .invalidWatchEvent("unknown type \"\(typeName)\"")
        }
        guard let object = value["object"], object.objectValue != nil else {
            throw .invalidWatchEvent("no \"object\"")
        }
        self.init(type: type, object: object)
    }

    /// The `StatusError` an ERROR event carries, or nil for other events.
    public var statusError: StatusError? {
        guard type == .error else { return nil }
        return StatusError(
            code: object["code"]?.intValue.map { Int($0) } ?? 500,
            reason: object["reason"]?.stringValue ?? "",
            message: object["message"]?.stringValue ?? "", details: object["details"]?.objectValue)
    }
}

/// Splits a byte stream into newline-terminated lines, whatever the chunk boundaries are: a line may
/// arrive in many DATA frames, and one frame may carry many lines.
public struct LineSplitter: Sendable {
    private var buffer: [UInt8] = []
    /// Where the search for "\n" resumes, so a long line arriving in small chunks is scanned once.
    private var scanned = 0
    /// A line longer than this ends the stream instead of growing memory without bound.
    public let maximumLineLength: Int

    public init(maximumLineLength: Int = 64 << 20) {
        self.maximumLineLength = maximumLineLength
    }

    /// Appends `bytes` and calls `line` for every complete non-blank line (without its "\n").
    public mutating func append(_ bytes: some Collection<UInt8>, line: (ArraySlice<UInt8>) throws -> Void) throws {
        buffer.append(contentsOf: bytes)
        try splitAppended(line: line)
    }

    /// Not generic, so callers in other modules (the scheduler bench) run it specialized: the generic `append`
    /// runs unspecialized there, and its byte loop through protocol witnesses was a third of the bench client.
    private mutating func splitAppended(line: (ArraySlice<UInt8>) throws -> Void) throws {
        var start = 0
        var index = scanned
        while index < buffer.count {
            if buffer[index] == UInt8(ascii: "\n") {
                let slice = buffer[start..<index]
                if !Self.isBlank(slice) { try line(slice) }
                start = index + 1
            }
            index += 1
        }
        buffer.removeFirst(start)
        scanned = buffer.count
        if buffer.count > maximumLineLength {
            throw ClientError.invalidWatchEvent("line longer than \(maximumLineLength) bytes")
        }
    }

    /// The unterminated rest at the end of the stream, if it holds anything.
    public mutating func finish() -> [UInt8]? {
        defer {
            buffer = []
            scanned = 0
        }
        return Self.isBlank(buffer[...]) ? nil : buffer
    }

    private static func isBlank(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\t") }
    }
}

/// Turns a watch response body into `WatchEvent`s. Called on the stream's event loop; the lock is
/// uncontended and only makes the Sendable-ness checkable.
final class WatchDecoder: StreamBodyConsumer {
    private let splitter = NIOLockedValueBox(LineSplitter())
    private let continuation: AsyncThrowingStream<WatchEvent, any Error>.Continuation

    init(continuation: AsyncThrowingStream<WatchEvent, any Error>.Continuation) {
        self.continuation = continuation
    }

    func attach(to request: StreamCancelHandle) {
        // Ending iteration (or dropping the stream) resets the HTTP/2 stream, which ends the watch server-side.
        continuation.onTermination = { _ in request.cancel() }
    }

    func receive(_ buffer: ByteBuffer) throws {
        let continuation = self.continuation
        try splitter.withLockedValue { splitter in
            try splitter.append(buffer.readableBytesView) { line in
                continuation.yield(try WatchEvent(line: line))
            }
        }
    }

    func finish(_ error: (any Error)?) {
        if error == nil, let rest = splitter.withLockedValue({ $0.finish() }) {
            do {
                continuation.yield(try WatchEvent(line: rest))
            } catch {
                continuation.finish(throwing: error)
                return
            }
        }
        continuation.finish(throwing: error)
    }
}

extension RESTClient {
    /// Starts a watch (`watch=true` is added) and returns once the server accepted it, so changes made
    /// after this returns are seen. A non-2xx answer throws `StatusError`; ending iteration cancels the
    /// watch. Events are buffered until read, so read promptly.
    public func watch(path: String, query: Query = [:]) async throws -> AsyncThrowingStream<WatchEvent, any Error> {
        var query = query
        if query["watch"] == nil { query.append("watch", "true") }
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: WatchEvent.self)
        let consumer = WatchDecoder(continuation: continuation)
        let head = try await perform(
            Request(method: .get, path: path, query: query), consumer: consumer, timeout: nil)
        guard head.isSuccess else { throw StatusError(response: head) }
        return stream
    }
}
