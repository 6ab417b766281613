import APIMachinery
import Client
import Component
import Foundation
import Logging
import TestSupport
import XCTest

@testable import ControllerManager

/// A lifecycle controller running against the in-process API server for one test, with its own client,
/// informers and event recorder, stopped by `stop()`.
final class LifecycleHarness: Sendable {
    let client: RESTClient
    let context: ControllerContext
    private let tasks: [Task<Void, Never>]

    /// Builds a context, lets `make` build the controller from it, then runs informers, recorder and controller.
    static func start(
        workers: Int = 5, _ make: (ControllerContext) throws -> any Controller
    ) async throws -> LifecycleHarness {
        let client = try await fastClient()
        let logger = Logger(label: "lifecycle-tests") { _ in SwiftLogNoOpLogHandler() }
        var flags = FlagSet(ControllerManagerCommand.flags)
        try flags.parse([])
        let recorder = EventRecorder(
            client: client, reportingController: "lifecycle-test", reportingInstance: "test", logger: logger)
        let informers = SharedInformerFactory(client: client, logger: logger)
        let context = ControllerContext(
            client: client, informers: informers, flags: flags, recorder: recorder, logger: logger)
        let controller = try make(context)
        informers.start()
        _ = await informers.waitForCacheSync()
        let tasks = [
            Task { await recorder.run() },
            Task { await controller.run(workers: workers) },
        ]
        return LifecycleHarness(client: client, context: context, tasks: tasks)
    }

    private init(client: RESTClient, context: ControllerContext, tasks: [Task<Void, Never>]) {
        self.client = client
        self.context = context
        self.tasks = tasks
    }

    func stop() async {
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        await context.informers.shutdown()
        await client.shutdown()
    }

    /// An admin client for the in-process server, its rate limit raised: discovery and one list and watch per
    /// resource would take seconds at client-go's default 5 requests a second.
    static func fastClient() async throws -> RESTClient {
        let endpoint = try await LocalAPIServer.shared.start()
        var configuration = try ClientConfiguration.load(kubeconfigPath: endpoint.kubeconfigPath)
        configuration.qps = 500
        configuration.burst = 1000
        return try RESTClient(configuration: configuration)
    }

    /// Polls `condition` until it returns a value or `timeout` passes.
    static func eventually<T: Sendable>(
        timeout: Duration = .seconds(20), _ condition: @Sendable () async throws -> T?
    ) async throws -> T? {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            if let value = try await condition() { return value }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// The object `name` of `resources`, or nil once it is gone.
    static func find<Object>(_ resources: ResourceClient<Object>, _ name: String) async throws -> Object? {
        do {
            return try await resources.get(name)
        } catch let error as StatusError where error.code == 404 {
            return nil
        }
    }
}
