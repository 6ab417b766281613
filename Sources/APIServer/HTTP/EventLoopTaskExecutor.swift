import NIOCore

/// Runs a request's task on the event loop that read the request, so decoding, admission, registry work,
/// encoding and the response's write happen on one thread: a request only leaves its loop when it awaits
/// storage or another executor, instead of hopping to the global pool and back for every step (on two cores
/// those hops, with their wake-ups, cost as much CPU as a small GET's own work).
///
/// Work that can run long without awaiting (lists, watches' streams, large gzipped bodies) opts out with
/// `withTaskExecutorPreference(globalConcurrentExecutor)`, so it never holds up the loop's other connections.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    /// The executor of the request being served: tasks a request starts (`Task {}` does not inherit a
    /// preference) pass it on, so they stay on the request's loop too.
    @TaskLocal static var current: EventLoopTaskExecutor?

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
