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

    /// Computes `body(i)` for a prefix of `0..<count`, stopping once `stop()` says enough, and returns the
    /// results in index order. Each chunk a thread claims is finished, and chunks are claimed in order, so the
    /// indices computed always form a prefix; the results take room for the work done, not for all `count`.
    /// `body` and `stop` run concurrently and must be thread-safe.
    func map<T: Sendable>(_ count: Int, stop: @Sendable () -> Bool = { false }, _ body: @Sendable (Int) -> T) -> [T] {
        guard workers > 1, count >= Self.minimumParallelItems else {
            var results: [T] = []
            for index in 0..<count {
                if stop() { break }
                results.append(body(index))
            }
            return results
        }
        let chunk = Self.chunkSize(count, workers: workers)
        let chunks = (count + chunk - 1) / chunk
        var perChunk = [[T]?](repeating: nil, count: chunks)
        let next = Atomic<Int>(0)
        perChunk.withUnsafeMutableBufferPointer { buffer in
            // Each chunk's results are written by the one thread that claimed it.
            nonisolated(unsafe) let output = buffer
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                while !stop() {
                    let claimed = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    if claimed >= chunks { return }
                    let range = (claimed * chunk)..<min(count, (claimed + 1) * chunk)
                    var results: [T] = []
                    results.reserveCapacity(range.count)
                    for index in range { results.append(body(index)) }
                    output[claimed] = results
                }
            }
        }
        var results: [T] = []
        for chunkResults in perChunk {
            guard let chunkResults else { break }
            results.append(contentsOf: chunkResults)
        }
        return results
    }

    /// `map` for a search that `stop` usually ends early: the first `expected` items (at most
    /// `minimumParallelItems`) run on the calling thread, and only a search still going past them is shared
    /// out. A filter pass where every node fits stops at upstream's adaptive count (500 of 5,000 nodes in
    /// SchedulingBasic), and deciding by the node count alone woke a second thread every cycle for work one
    /// thread finishes sooner, on cores the API server needs; where many nodes do not fit (anti-affinity,
    /// spreading) the search goes on past the count and the rest runs on all workers.
    func search<T: Sendable>(_ count: Int, expected: Int, stop: @Sendable () -> Bool, _ body: @Sendable (Int) -> T)
        -> [T]
    {
        let head = Swift.max(0, Swift.min(count, expected, Self.minimumParallelItems))
        var results: [T] = []
        // Once, rather than doubling as it fills (each growth a copy and a free, per cycle).
        results.reserveCapacity(head)
        for index in 0..<head {
            if stop() { return results }
            results.append(body(index))
        }
        guard head < count, !stop() else { return results }
        results.append(contentsOf: map(count - head, stop: stop) { body(head + $0) })
        return results
    }

    /// Upstream's `chunkSizeFor`: about the square root of the work, so an early stop wastes little (a worker
    /// finishes the chunk it holds) while claiming stays rare.
    static func chunkSize(_ count: Int, workers: Int) -> Int {
        max(1, min(Int(Double(count).squareRoot()), count / workers + 1))
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
        let chunk = Self.chunkSize(count, workers: workers)
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
