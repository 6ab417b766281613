import Dispatch
import Foundation
import Synchronization

/// Runs per-node work on up to `parallelism` threads, as upstream's `parallelize.Until`: the nodes are cut
/// into chunks handed out in order, so the nodes evaluated always form a prefix of the search order and
/// stopping early ("enough feasible nodes found") leaves no gaps.
struct Parallelizer: Sendable {
    /// Threads at most (`parallelism` in the configuration, capped by the machine's cores).
    let workers: Int
    /// Below this many items the work runs on the calling thread: handing out chunks costs more than it saves.
    /// Filtering or scoring a node takes well under a microsecond, so waking a second thread for the few hundred
    /// nodes of a cycle cost more CPU than it saved (SchedulingBasic on 2 cores: 0.85-1.0 ms of scheduler CPU
    /// per pod on one thread, 1.1 ms on two, and the API server beside it needs that CPU).
    static let minimumParallelItems = 1024

    init(parallelism: Int) {
        workers = max(1, min(parallelism, ProcessInfo.processInfo.activeProcessorCount))
    }

    /// Computes `body(i)` for `i` in `0..<count` until `stop()` says enough; returns the results, nil for
    /// items never reached. `body` and `stop` run concurrently and must be thread-safe.
    func map<T: Sendable>(_ count: Int, stop: @Sendable () -> Bool = { false }, _ body: @Sendable (Int) -> T) -> [T?] {
        var results = [T?](repeating: nil, count: count)
        results.withUnsafeMutableBufferPointer { buffer in
            // Each index is written by exactly one thread (its chunk's), so the buffer needs no lock.
            nonisolated(unsafe) let output = buffer
            forEach(count, stop: stop) { output[$0] = body($0) }
        }
        return results
    }

    /// Runs `body` over consecutive ranges covering `0..<count` (one range when the work stays on this thread)
    /// and returns its results in range order: for work that accumulates, such as PreFilter's counts over every
    /// node, each range into a value of its own that the caller merges.
    func mapChunks<T: Sendable>(_ count: Int, _ body: @Sendable (Range<Int>) -> T) -> [T] {
        guard workers > 1, count >= Self.minimumParallelItems else { return [body(0..<count)] }
        let chunk = max(16, count / (workers * 4))
        let chunks = (count + chunk - 1) / chunk
        var results = [T?](repeating: nil, count: chunks)
        let next = Atomic<Int>(0)
        results.withUnsafeMutableBufferPointer { buffer in
            // Each chunk's result is written by the one thread that claimed it.
            nonisolated(unsafe) let output = buffer
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                while true {
                    let claimed = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    if claimed >= chunks { return }
                    output[claimed] = body((claimed * chunk)..<min(count, (claimed + 1) * chunk))
                }
            }
        }
        return results.compactMap { $0 }
    }

    /// Runs `body(i)` for `i` in `0..<count` (a prefix of it once `stop()` says enough), on up to `workers`
    /// threads; `body` and `stop` run concurrently and must be thread-safe.
    func forEach(_ count: Int, stop: @Sendable () -> Bool = { false }, _ body: @Sendable (Int) -> Void) {
        guard workers > 1, count >= Self.minimumParallelItems else {
            for index in 0..<count {
                if stop() { break }
                body(index)
            }
            return
        }
        let chunk = max(16, count / (workers * 4))
        let chunks = (count + chunk - 1) / chunk
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let claimed = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if claimed >= chunks || stop() { return }
                for index in (claimed * chunk)..<min(count, (claimed + 1) * chunk) { body(index) }
            }
        }
    }
}
