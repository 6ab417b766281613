import GRDB

/// Group commit: writes that arrive while the writer connection is busy are queued and then run
/// together in one transaction, in arrival order, each seeing the previous ones' effects. That
/// pays the transaction and WAL costs (and with `.powerLoss`, the fsync) once per batch instead of
/// once per write, which is what concurrent API requests need.
extension SQLiteStore {
    /// One queued write. `run` returns how to acknowledge it once the batch has committed.
    struct PendingWrite: Sendable {
        let run: @Sendable (Database, inout WriteContext) throws -> @Sendable () -> Void
        let fail: @Sendable (any Error) -> Void
    }

    struct PendingWrites {
        var queue: [PendingWrite] = []
        /// True while a drain is scheduled on the writer and has not yet taken the queue.
        var scheduled = false
    }

    /// Runs `body` on the writer connection inside a transaction, possibly shared with other
    /// writes, and returns once that transaction has committed and its events are published.
    ///
    /// `body` must throw a `StorageError` only before it changes anything: such an error fails
    /// this write alone. Any other error (SQLite's) rolls back the whole batch.
    ///
    /// GRDB's callback API is used rather than its async one because that one interrupts the
    /// transaction when the calling task is cancelled; a write that reached the queue runs to its end.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database, inout WriteContext) throws -> T) async throws -> T {
        if state.withLock({ $0.closed }) { throw StorageError.unavailable("store closed") }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let write = PendingWrite(
                run: { db, context in
                    let value = try body(db, &context)
                    return { continuation.resume(returning: value) }
                }, fail: { continuation.resume(throwing: $0) })
            let schedule = pending.withLock { pending in
                pending.queue.append(write)
                defer { pending.scheduled = true }
                return !pending.scheduled
            }
            if schedule { pool.asyncWriteWithoutTransaction { db in self.drain(db) } }
        }
    }

    private func drain(_ db: Database) {
        let batch = pending.withLock { pending in
            defer {
                pending.queue = []
                pending.scheduled = false
            }
            return pending.queue
        }
        let start = state.withLock { state in state.closed ? nil : (state.revision, state.compacted) }
        guard let start else {
            for write in batch { write.fail(StorageError.unavailable("store closed")) }
            return
        }
        var context = WriteContext(revision: start.0, compacted: start.1)
        var outcomes: [Result<@Sendable () -> Void, StorageError>] = []
        outcomes.reserveCapacity(batch.count)
        do {
            try db.inTransaction {
                for write in batch {
                    do { outcomes.append(.success(try write.run(db, &context))) } catch let error as StorageError {
                        outcomes.append(.failure(error))
                    }
                }
                return .commit
            }
        } catch {
            let failure = Self.storageError(error)
            for (index, write) in batch.enumerated() {
                if index < outcomes.count, case .failure(let refusal) = outcomes[index] {
                    write.fail(refusal)
                } else {
                    write.fail(failure)
                }
            }
            return
        }
        state.withLock { state in
            state.revision = context.revision
            for apply in context.afterCommit { apply(&state) }
            for event in context.events {
                switch event.kind {
                case .put: state.current[Array(event.current.key.utf8)] = event.current
                case .delete: state.current[Array(event.current.key.utf8)] = nil
                }
            }
        }
        hub.publish(context.events)
        for (write, outcome) in zip(batch, outcomes) {
            switch outcome {
            case .success(let acknowledge): acknowledge()
            case .failure(let refusal): write.fail(refusal)
            }
        }
    }
}
