/// A finite response body made a chunk at a time as the connection takes it (a large list), so the whole
/// body is never in memory at once. A value: each iteration makes the remaining chunks afresh.
public struct ChunkedBody: Sequence, Sendable {
    /// Chunks already made when the body was chosen.
    private let made: [[UInt8]]
    private let rest: any IteratorProtocol<[UInt8]> & Sendable

    /// The body `chunks` make: whole bytes when they end after the first chunk (so a small body keeps its
    /// Content-Length), else a chunked body that keeps the two chunks made to find out.
    static func body(_ chunks: some IteratorProtocol<[UInt8]> & Sendable) -> HTTPResponse.Body {
        var chunks = chunks
        guard let first = chunks.next() else { return .bytes([]) }
        guard let second = chunks.next() else { return .bytes(first) }
        return .chunked(ChunkedBody(made: [first, second], rest: chunks))
    }

    public func makeIterator() -> Iterator { Iterator(made: made[...], rest: rest) }

    /// The whole body at once, for a caller that needs it so (an audit of the response, an in-process client).
    public func collect() -> [UInt8] {
        var bytes: [UInt8] = []
        for chunk in self { bytes.append(contentsOf: chunk) }
        return bytes
    }

    /// The chunks in order: those already made, then the rest as they are made.
    public struct Iterator: IteratorProtocol {
        var made: ArraySlice<[UInt8]>
        var rest: any IteratorProtocol<[UInt8]> & Sendable

        public mutating func next() -> [UInt8]? { made.popFirst() ?? rest.next() }
    }
}
