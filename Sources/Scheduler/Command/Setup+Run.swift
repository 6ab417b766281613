import Client
import Component
import Logging
import NIOConcurrencyHelpers

extension Setup {
    /// Serves health and metrics, syncs the informers, then schedules while leading; the exit code.
    func run() async -> Int32 {
        let health = HealthChecks()
        let readiness = HealthChecks()
        let synced = NIOLockedValueBox(false)
        readiness.add("informer-sync") { synced.withLockedValue { $0 } ? nil : "informers not synced" }
        let server: ComponentServer?
        do {
            server = try await ComponentServer.start(
                serving, health: health, readiness: readiness, metrics: { metricsText() }, logger: logger)
        } catch {
            logger.critical("failed to serve: \(error)")
            return 1
        }
        let returner = MemoryReturner().start()
        defer { returner.cancel() }
        let code = await withTaskGroup(of: Int32?.self) { group in
            group.addTask {
                await recorder.run()
                return nil
            }
            group.addTask { await schedule(synced: synced) }
            let code = await group.first { $0 != nil } ?? 0
            group.cancelAll()
            return code ?? 0
        }
        await informers.shutdown()
        await server?.close()
        await client.shutdown()
        await eventClient.shutdown()
        return code
    }

    /// Syncs the caches, then runs the loop, under leader election when it is on.
    private func schedule(synced: NIOLockedValueBox<Bool>) async -> Int32 {
        informers.start()
        guard await informers.waitForCacheSync() else { return 0 }
        // The caches are full; the handlers that fill the scheduler's own cache may still be catching up.
        while !registrations.allSatisfy(\.hasSynced) {
            do { try await Task.sleep(for: .milliseconds(20)) } catch { return 0 }
        }
        synced.withLockedValue { $0 = true }
        logger.info("Caches are synced; \(scheduler.cache.nodeCount) nodes")
        SystemdNotify.ready()
        guard election.leaderElect else {
            await scheduler.run()
            return 0
        }
        let elector: LeaderElector
        let electionClient: RESTClient
        do {
            electionClient = try Self.leaderElectionClient(client)
            let lock = LeaseLock(
                namespace: election.resourceNamespace, name: election.resourceName, client: electionClient)
            elector = try LeaderElector(lock: lock, configuration: election, identity: identity, logger: logger)
            scheduler.fence { elector.holdsValidLease }
        } catch {
            logger.critical("\(error)")
            return 1
        }
        await elector.run(
            onStartedLeading: { await scheduler.run() })
        await electionClient.shutdown()
        if Task.isCancelled { return 0 }
        // Upstream exits so that a new process competes afresh, never acting on a stale view.
        logger.critical("leaderelection lost")
        return 1
    }

    /// A client of its own for the lease, as upstream's (user agent `…/leader-election`): renewals then never
    /// queue behind the component's own requests in the client-side rate limiter, which at start-up (informers
    /// listing everything) can hold them past a tuned renew deadline.
    static func leaderElectionClient(_ client: RESTClient) throws -> RESTClient {
        var configuration = client.configuration
        configuration.userAgent += "/leader-election"
        return try RESTClient(configuration: configuration)
    }

    /// Upstream's headline scheduler metrics in the Prometheus text format.
    func metricsText() -> String {
        let counters = scheduler.statistics
        let queued = scheduler.queue.counts
        return """
            # HELP scheduler_schedule_attempts_total Number of attempts to schedule pods, by the result.
            # TYPE scheduler_schedule_attempts_total counter
            scheduler_schedule_attempts_total{result="scheduled"} \(counters.scheduled)
            scheduler_schedule_attempts_total{result="unschedulable"} \(counters.unschedulable)
            scheduler_schedule_attempts_total{result="error"} \(counters.errors)
            # HELP scheduler_pending_pods Number of pending pods, by the queue type.
            # TYPE scheduler_pending_pods gauge
            scheduler_pending_pods{queue="active"} \(queued.active)
            scheduler_pending_pods{queue="backoff"} \(queued.backoff)
            scheduler_pending_pods{queue="unschedulable"} \(queued.unschedulable)
            # HELP scheduler_bindings_total Bindings sent, by the result.
            # TYPE scheduler_bindings_total counter
            scheduler_bindings_total{result="success"} \(counters.bindings)
            scheduler_bindings_total{result="error"} \(counters.bindingErrors)

            """
    }
}
