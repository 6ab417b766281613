public import Logging

extension RateLimitingQueue {
    /// Runs `workers` concurrent loops that take keys and `sync` them, as every upstream controller's
    /// `processNextWorkItem` does: a key is never synced by two workers at once, a failed sync is retried
    /// after the rate limiter's delay, a successful one clears the key's failure history. Returns when the
    /// calling task is cancelled (the queue is shut down then) or the queue is shut down elsewhere.
    public func runWorkers(
        _ workers: Int, logger: Logger, sync: @escaping @Sendable (Key) async throws -> Void
    ) async {
        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<max(1, workers) {
                    group.addTask {
                        while let key = await self.get() {
                            do {
                                try await sync(key)
                                self.forget(key)
                            } catch is CancellationError {
                                self.done(key)
                                return
                            } catch {
                                logger.info("error syncing \(key), requeuing: \(error)")
                                self.addRateLimited(key)
                            }
                            self.done(key)
                        }
                    }
                }
            }
        } onCancel: {
            shutDown()
        }
    }
}
