import NIOConcurrencyHelpers
import Storage

/// Storage's current revision for consistent reads, fetched once for every read waiting at that moment:
/// 16 concurrent reads cost one or two storage round trips, not 16. A read never takes the answer of a
/// request that began before it arrived (that revision could predate a write the reader saw
/// acknowledged); it joins the next request instead, which starts when the one in flight returns.
///
/// The request is made by one of the reads themselves, in its own task: the first read to find none in
/// flight leads, and when its answer comes it hands the lead to the first read that arrived meanwhile. No
/// task is started for it, so an in-process store, whose revision is a memory read, costs no thread hop.
final class RevisionCoalescer: Sendable {
    /// What a waiting read is resumed with: the revision, or the lead of the next request.
    private enum Answer {
        case revision(Result<Revision, any Error>)
        case lead
    }

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
        let leads = state.withLockedValue { state -> Bool in
            if state.inFlight { return false }
            state.inFlight = true
            return true
        }
        if !leads {
            let answer = await withCheckedContinuation { (continuation: CheckedContinuation<Answer, Never>) in
                // The request in flight may have ended since: then this read leads the next one at once.
                let leadsNow = state.withLockedValue { state -> Bool in
                    if state.inFlight {
                        state.next.append(continuation)
                        return false
                    }
                    state.inFlight = true
                    return true
                }
                if leadsNow { continuation.resume(returning: .lead) }
            }
            if case .revision(let result) = answer { return try result.get() }
        }
        return try await lead().get()
    }

    /// Makes one request for every read waiting now, answers them, and passes the lead on to the first read
    /// that arrived during the request (or ends it when none did).
    private func lead() async -> Result<Revision, any Error> {
        let batch = state.withLockedValue { state in
            state.requests += 1
            defer { state.next = [] }
            return state.next
        }
        let result: Result<Revision, any Error>
        do {
            result = .success(try await storage.currentRevision())
        } catch {
            result = .failure(error)
        }
        for continuation in batch { continuation.resume(returning: .revision(result)) }
        let successor = state.withLockedValue { state -> CheckedContinuation<Answer, Never>? in
            guard !state.next.isEmpty else {
                state.inFlight = false
                return nil
            }
            return state.next.removeFirst()
        }
        successor?.resume(returning: .lead)
        return result
    }
}
