import NIOConcurrencyHelpers
import Storage

/// Storage's current revision for consistent reads, fetched once for every read waiting at that moment:
/// 16 concurrent reads cost one or two storage round trips, not 16. A read never takes the answer of a
/// request that began before it arrived (that revision could predate a write the reader saw
/// acknowledged); it joins the next request instead, which starts when the one in flight returns.
final class RevisionCoalescer: Sendable {
    typealias Answer = Result<Revision, any Error>

    private struct State {
        var inFlight = false
        var next: [CheckedContinuation<Answer, Never>] = []
        var requests = 0
    }

    private let storage: any KeyValueStore
    private let state = NIOLockedValueBox(State())

    init(storage: any KeyValueStore) { self.storage = storage }

    /// Storage requests made so far, for tests and figures.
    var requests: Int { state.withLockedValue { $0.requests } }

    /// A revision at least as new as every write acknowledged before this call.
    func fresh() async throws -> Revision {
        let answer = await withCheckedContinuation { (continuation: CheckedContinuation<Answer, Never>) in
            let starts = state.withLockedValue { state -> Bool in
                state.next.append(continuation)
                if state.inFlight { return false }
                state.inFlight = true
                return true
            }
            if starts { Task { await self.run() } }
        }
        return try answer.get()
    }

    /// Serves batches until none is waiting: everyone who arrived during a request gets the next one.
    private func run() async {
        while true {
            let batch = state.withLockedValue { state -> [CheckedContinuation<Answer, Never>] in
                defer { state.next = [] }
                if state.next.isEmpty { state.inFlight = false } else { state.requests += 1 }
                return state.next
            }
            if batch.isEmpty { return }
            let answer: Answer
            do {
                answer = .success(try await storage.currentRevision())
            } catch {
                answer = .failure(error)
            }
            for continuation in batch { continuation.resume(returning: answer) }
        }
    }
}
