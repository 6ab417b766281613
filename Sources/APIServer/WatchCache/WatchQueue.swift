import NIOConcurrencyHelpers

/// What waits for one watcher: filled by the watch cache (or a storage watch of its own) and emptied by the
/// connection writer a batch at a time, so a watcher that falls behind gets its backlog in one write rather
/// than one write per change. Bounded: a push beyond `capacity` fails, and the producer then ends the watch.
///
/// `onTermination` runs once, outside the lock, when either side ends the watch: the producer with `finish()`,
/// or the consumer by cancelling the task waiting in `next()` or dropping its `Reader`.
final class WatchQueue: Sendable {
    enum PushResult {
        case queued
        /// The watcher is `capacity` behind; the caller should `finish()` it once it holds no lock.
        case full
        case finished
    }

    private struct State {
        var items: [WatchOutput] = []
        var waiter: CheckedContinuation<[WatchOutput], Never>?
        var finished = false
        var onTermination: (@Sendable () -> Void)?
    }

    private let state = NIOLockedValueBox(State())
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Runs when the watch ends, whichever side ends it; set it before anything can end the watch.
    func onTermination(_ action: @escaping @Sendable () -> Void) {
        let runNow = state.withLockedValue { state -> Bool in
            if state.finished { return true }
            state.onTermination = action
            return false
        }
        if runNow { action() }
    }

    @discardableResult
    func push(_ output: WatchOutput) -> PushResult {
        let (result, waiter) = state.withLockedValue {
            state -> (PushResult, CheckedContinuation<[WatchOutput], Never>?) in
            if state.finished { return (.finished, nil) }
            if let waiter = state.waiter {
                state.waiter = nil
                return (.queued, waiter)
            }
            guard state.items.count < capacity else { return (.full, nil) }
            state.items.append(output)
            return (.queued, nil)
        }
        waiter?.resume(returning: [output])
        return result
    }

    /// Ends the watch: the consumer gets what is queued, then the end.
    func finish() {
        let (waiter, termination) = state.withLockedValue { state in
            state.finished = true
            defer {
                state.waiter = nil
                state.onTermination = nil
            }
            return (state.waiter, state.onTermination)
        }
        waiter?.resume(returning: [])
        termination?()
    }

    /// Everything queued, waiting for at least one output; nil once the watch ended and nothing is left.
    func next() async -> [WatchOutput]? {
        let batch = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<[WatchOutput], Never>) in
                let ready = state.withLockedValue { state -> [WatchOutput]? in
                    if !state.items.isEmpty {
                        defer { state.items.removeAll(keepingCapacity: true) }
                        return state.items
                    }
                    if state.finished { return [] }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            finish()
        }
        return batch.isEmpty ? nil : batch
    }

    /// The consumer's handle: dropping it ends the watch, as dropping an AsyncStream's iterator does.
    final class Reader: Sendable {
        let queue: WatchQueue
        init(_ queue: WatchQueue) { self.queue = queue }
        deinit { queue.finish() }
        func next() async -> [WatchOutput]? { await queue.next() }
    }
}

extension WatchQueue: AsyncSequence {
    typealias Element = WatchOutput

    /// Output by output, for in-process consumers; ends when the watch ends or the task is cancelled.
    struct AsyncIterator: AsyncIteratorProtocol {
        let queue: WatchQueue
        var batch: [WatchOutput] = []
        var index = 0

        mutating func next() async -> WatchOutput? {
            if index == batch.count {
                guard let more = await queue.next() else { return nil }
                batch = more
                index = 0
            }
            defer { index += 1 }
            return batch[index]
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(queue: self) }
}
