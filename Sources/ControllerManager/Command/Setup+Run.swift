import Client
import Component
import Logging
import NIOConcurrencyHelpers

extension Setup {
    /// Serves health and metrics, then runs the controllers while leading; the exit code.
    func run() async -> Int32 {
        let health = HealthChecks()
        let readiness = HealthChecks()
        let running = NIOLockedValueBox<[StartedController]>([])
        let server: ComponentServer?
        do {
            server = try await ComponentServer.start(
                serving, health: health, readiness: readiness,
                metrics: { Self.metricsText(running.withLockedValue { $0 }) }, logger: logger)
        } catch {
            logger.critical("failed to serve: \(error)")
            return 1
        }
        SystemdNotify.ready()
        let returner = MemoryReturner().start()
        defer { returner.cancel() }
        let code: Int32
        if election.leaderElect {
            code = await runElected(running: running)
        } else {
            code = await runControllers(running: running)
        }
        await informers.shutdown()
        for controller in running.withLockedValue({ $0 }) { await controller.client.shutdown() }
        await server?.close()
        await client.shutdown()
        return code
    }

    /// Competes for the lease and runs the controllers while holding it.
    private func runElected(running: NIOLockedValueBox<[StartedController]>) async -> Int32 {
        let elector: LeaderElector
        let electionClient: RESTClient
        do {
            electionClient = try Self.leaderElectionClient(client)
            let lock = LeaseLock(
                namespace: election.resourceNamespace, name: election.resourceName, client: electionClient)
            elector = try LeaderElector(lock: lock, configuration: election, identity: identity, logger: logger)
        } catch {
            logger.critical("\(error)")
            return 1
        }
        let code = NIOLockedValueBox<Int32>(0)
        await elector.run(onStartedLeading: {
            let result = await runControllers(running: running)
            code.withLockedValue { $0 = result }
        })
        await electionClient.shutdown()
        if Task.isCancelled { return code.withLockedValue { $0 } }
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
        return try RESTClient(configuration: configuration, sharingConnectionsWith: [client])
    }

    /// Builds the controllers, syncs the shared informers, then runs every controller until cancelled.
    private func runControllers(running: NIOLockedValueBox<[StartedController]>) async -> Int32 {
        let controllers: [StartedController]
        do {
            controllers = try await makeControllers()
        } catch {
            logger.critical("\(error)")
            return 1
        }
        running.withLockedValue { $0 = controllers }
        informers.start()
        guard await informers.waitForCacheSync() else { return 0 }
        logger.info("Caches are synced; starting \(controllers.map(\.name).joined(separator: ", "))")
        await withTaskGroup(of: Void.self) { group in
            for started in controllers {
                group.addTask { await started.recorder.run() }
                if let renewal = started.renewal { group.addTask { await renewal() } }
                group.addTask { await started.controller.run(workers: started.workers) }
            }
        }
        return 0
    }

    /// Upstream's headline controller-manager metrics in the Prometheus text format.
    static func metricsText(_ controllers: [StartedController]) -> String {
        var text = """
            # HELP kubeswift_controller_running Controllers running in this process.
            # TYPE kubeswift_controller_running gauge

            """
        for started in controllers { text += "kubeswift_controller_running{name=\"\(started.name)\"} 1\n" }
        return text
    }
}
