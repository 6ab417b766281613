import NIOCore

/// A response body as it arrives. Reading it is what lets more arrive: with a few chunks unread the connection
/// stops reading, so TCP's flow control slows the peer, as Go's proxy slows a backend by copying at its
/// client's pace; a slow watcher never makes this server buffer a backend's stream.
struct OutboundBody: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    typealias Chunks = NIOThrowingAsyncSequenceProducer<
        [UInt8], any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, OutboundBodyDemand
    >

    /// Chunks (each at most one read's worth) that may wait for the reader before the connection stops reading.
    static let bufferedChunks = 8

    private let chunks: Chunks
    private let exchange: NIOLoopBoundBox<OutboundExchange?>

    /// A body fed by the exchange `exchange` will hold, and the source that exchange yields to.
    static func make(exchange: NIOLoopBoundBox<OutboundExchange?>) -> (sequence: OutboundBody, source: Chunks.Source) {
        let new = Chunks.makeSequence(
            elementType: [UInt8].self, failureType: (any Error).self,
            backPressureStrategy: .init(lowWatermark: bufferedChunks / 2, highWatermark: bufferedChunks),
            finishOnDeinit: false, delegate: OutboundBodyDemand(exchange: exchange))
        return (OutboundBody(chunks: new.sequence, exchange: exchange), new.source)
    }

    func makeAsyncIterator() -> Chunks.AsyncIterator { chunks.makeAsyncIterator() }

    /// The whole body; fails once it passes `limit` bytes, or when `deadline` comes first (the connection is
    /// closed either way).
    func collect(upTo limit: Int, before deadline: NIODeadline) async throws(OutboundFailure) -> [UInt8] {
        let exchange = exchange
        let timer = exchange.eventLoop.scheduleTask(deadline: deadline) {
            exchange.value?.abort(.deadlineExceeded)
        }
        defer { timer.cancel() }
        var bytes: [UInt8] = []
        do {
            for try await chunk in chunks {
                bytes += chunk
                if bytes.count > limit { throw OutboundFailure.tooLarge(limit: limit) }
            }
        } catch let failure as OutboundFailure {
            throw failure
        } catch {
            throw OutboundFailure(error)
        }
        return bytes
    }

    /// The body for a streamed server response: each chunk is pulled when the writer asks for the next one,
    /// so the back-pressure reaches the client's socket. A failure ends the stream (the client sees the watch
    /// end, as upstream's proxy ends it); dropping or cancelling the stream closes the connection.
    func stream() -> AsyncStream<[UInt8]> {
        let reader = OutboundBodyReader(chunks.makeAsyncIterator())
        return AsyncStream(unfolding: { await reader.next() })
    }
}

/// The iterator an `AsyncStream(unfolding:)` advances. Only the one task reading that stream calls `next`, one
/// call at a time, which is what makes sharing it across that closure safe.
private final class OutboundBodyReader: @unchecked Sendable {
    private var iterator: OutboundBody.Chunks.AsyncIterator

    init(_ iterator: OutboundBody.Chunks.AsyncIterator) {
        self.iterator = iterator
    }

    func next() async -> [UInt8]? {
        try? await iterator.next()
    }
}

/// Carries the reader's demand to the exchange on its event loop: read again once the reader caught up, and
/// close the connection once the reader is done or gone.
struct OutboundBodyDemand: NIOAsyncSequenceProducerDelegate {
    let exchange: NIOLoopBoundBox<OutboundExchange?>

    func produceMore() {
        let exchange = exchange
        exchange.eventLoop.execute { exchange.value?.resumeReading() }
    }

    func didTerminate() {
        let exchange = exchange
        exchange.eventLoop.execute {
            exchange.value?.close()
            exchange.value = nil
        }
    }
}
