import APIMachinery
import Client
import Component
import Foundation
import Logging

/// A configured controller-manager process: client, shared informers, serving and election, and the
/// controllers `--controllers` selects.
struct Setup: Sendable {
    let flags: FlagSet
    let election: LeaderElectionConfiguration
    let serving: ServingConfiguration
    let clientConfiguration: ClientConfiguration
    let client: RESTClient
    let informers: SharedInformerFactory
    let selected: [ControllerDescriptor]
    let identity: String
    let logger: Logger

    init(flags: FlagSet, logger: Logger) throws {
        election = try LeaderElectionConfiguration(flags: flags, resourceName: "kube-controller-manager")
        let problems = election.validate()
        guard problems.isEmpty else { throw FlagError(message: problems.joined(separator: "; ")) }
        serving = try ServingConfiguration(flags: flags)
        let selection = try ControllerSelection(flags.list("controllers"), known: ControllerRegistry.all)
        selected = ControllerRegistry.all.filter { selection.enabled.contains($0.name) }

        var configuration = try ClientConfiguration.forComponent(
            kubeconfig: flags.string("kubeconfig"), master: flags.string("master"), logger: logger)
        configuration.qps = Double(flags.string("kube-api-qps")) ?? 20
        configuration.burst = try flags.int("kube-api-burst")
        configuration.userAgent = "kube-controller-manager/v1.32.0 (linux/amd64) kubeswift"
        clientConfiguration = configuration
        client = try RESTClient(configuration: configuration)
        // Upstream's controller-manager trims managedFields from every informer's objects (trim.TrimManagedFields):
        // no controller reads them, and with 10,000 pods they would be a large share of the cache.
        informers = SharedInformerFactory(client: client, logger: logger, transform: StripManagedFields())
        identity = LeaderElector.defaultIdentity()
        self.flags = flags
        self.logger = logger
    }

    /// Builds the selected controllers, each on a client of its own (as its own service account with
    /// `--use-service-account-credentials`) and with its own event recorder.
    func makeControllers() async throws -> [StartedController] {
        let credentials =
            flags.bool("use-service-account-credentials")
            ? ServiceAccountCredentials(client: client, time: SystemTime(), logger: logger) : nil
        var started: [StartedController] = []
        // Clients that differ only in credentials and user agent share connections, as client-go's transport
        // cache makes them: one TLS connection (and its buffers) instead of one per controller.
        var clients = [client]
        for descriptor in selected {
            var configuration = clientConfiguration
            configuration.userAgent += "/\(descriptor.serviceAccount)"
            var renewal: (@Sendable () async -> Void)?
            // A controller without an account of its own (the token controller) acts as the manager, as upstream's.
            if let credentials, !descriptor.serviceAccount.isEmpty {
                let (accountConfiguration, token, expires) = try await credentials.configuration(
                    for: descriptor.serviceAccount, from: configuration)
                configuration = accountConfiguration
                let account = descriptor.serviceAccount
                renewal = { await credentials.keepRenewing(token, of: account, expires: expires) }
            }
            let client = try RESTClient(configuration: configuration, sharingConnectionsWith: clients)
            clients.append(client)
            let recorder = EventRecorder(
                client: client, reportingController: descriptor.name, reportingInstance: identity,
                logger: logger)
            var controllerLogger = logger
            controllerLogger[metadataKey: "controller"] = "\(descriptor.name)"
            let context = ControllerContext(
                client: client, informers: informers, flags: flags, recorder: recorder, logger: controllerLogger)
            guard let controller = try descriptor.make(context) else {
                logger.info("Skipping \(descriptor.name)")
                await client.shutdown()
                continue
            }
            let workers = try descriptor.workersFlag.map { try flags.int($0) } ?? 1
            started.append(
                StartedController(
                    name: descriptor.name, controller: controller, workers: workers, client: client,
                    recorder: recorder, renewal: renewal))
        }
        return started
    }
}

/// A controller built for this run, with its worker count and the client and recorder it owns.
struct StartedController: Sendable {
    let name: String
    let controller: any Controller
    let workers: Int
    let client: RESTClient
    let recorder: EventRecorder
    /// Keeps the controller's service-account token fresh, with `--use-service-account-credentials`.
    let renewal: (@Sendable () async -> Void)?
}
