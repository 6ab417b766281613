import APIMachinery
import Client
import Component
import Foundation
import Logging
import NIOConcurrencyHelpers

/// A configured scheduler process: client, informers, scheduler, serving and election, wired together.
struct Setup: Sendable {
    let configuration: SchedulerConfiguration
    let election: LeaderElectionConfiguration
    let serving: ServingConfiguration
    let client: RESTClient
    let eventClient: RESTClient
    let informers: SharedInformerFactory
    let scheduler: Scheduler
    let recorder: EventRecorder
    /// The scheduler's pod and node handlers; it schedules once they have seen the first lists.
    let registrations: [HandlerRegistration]
    let identity: String
    let logger: Logger

    init(flags: FlagSet, logger: Logger) async throws {
        var configuration = SchedulerConfiguration()
        if !flags.string("config").isEmpty {
            configuration = try SchedulerConfiguration(contentsOf: flags.string("config"))
        }
        var election = try LeaderElectionConfiguration(flags: flags, resourceName: "kube-scheduler")
        try Self.apply(configuration.leaderElection, to: &election, explicitFlags: flags)
        let problems = election.validate()
        guard problems.isEmpty else { throw SchedulerConfigError(problems.joined(separator: "; ")) }
        serving = try ServingConfiguration(flags: flags)

        let kubeconfig = flags.isSet("kubeconfig") ? flags.string("kubeconfig") : configuration.kubeconfig
        var clientConfiguration = try ClientConfiguration.forComponent(
            kubeconfig: kubeconfig, master: flags.string("master"), logger: logger)
        clientConfiguration.qps =
            flags.isSet("kube-api-qps") ? Double(flags.string("kube-api-qps")) ?? 50 : configuration.qps ?? 50
        clientConfiguration.burst =
            flags.isSet("kube-api-burst") ? (try flags.int("kube-api-burst")) : configuration.burst ?? 100
        clientConfiguration.userAgent = "kube-scheduler/v1.32.0 (linux/amd64) kubeswift"
        let client = try RESTClient(configuration: clientConfiguration)
        identity = LeaderElector.defaultIdentity()
        // Events get a client (and so a rate limiter) of their own, as upstream's, so a burst of events
        // never delays bindings.
        eventClient = try RESTClient(configuration: clientConfiguration)
        recorder = EventRecorder(
            client: eventClient, reportingController: "default-scheduler", reportingInstance: identity,
            logger: logger)
        // Upstream's scheduler drops its pods' managedFields: it never reads them, and it writes pods only
        // through bindings, status patches and deletes, so a stripped object is never written back whole.
        // Here every kind's are dropped (the scheduler writes none of the others), and watches never build them.
        informers = SharedInformerFactory(client: client, logger: logger, transform: StripManagedFields())
        let served = await Self.servedResources(client, groupVersion: "storage.k8s.io/v1")
        let csiNodes = served.contains("csinodes") ? informers.informer(for: CSINode.self) : nil
        let storageClasses = served.contains("storageclasses") ? informers.informer(for: StorageClass.self) : nil
        let pvcs = informers.lister(for: PersistentVolumeClaim.self)
        let pvs = informers.lister(for: PersistentVolume.self)
        let budgets = informers.lister(for: PodDisruptionBudget.self)
        let namespaces = informers.lister(for: Namespace.self)
        // The handle's closures are made before the scheduler they read; it is set once, right after.
        let scheduler = NIOLockedValueBox<Scheduler?>(nil)
        let recorder = recorder
        let handle = FrameworkHandle(
            client: client,
            recordEvent: { pod, type, reason, action, note in
                recorder.eventf(
                    regarding: ObjectReference(to: pod), type: EventType(rawValue: type) ?? .normal, reason: reason,
                    action: action, note: note)
            },
            disruptionBudgets: { budgets.list() },
            nominatedPods: { node in scheduler.withLockedValue { $0 }?.queue.nominatedPods(on: node) ?? [] },
            persistentVolumeClaim: { namespace, name in pvcs.get(namespace: namespace, name: name) },
            persistentVolume: { name in pvs.get(name: name) },
            storageClass: { name in storageClasses?.lister.get(name: name) },
            csiNode: { name in csiNodes?.lister.get(name: name) },
            namespaceLabels: { name in namespaces.get(name: name)?.metadata.labels },
            profile: { name in scheduler.withLockedValue { $0 }?.profiles[name] },
            parallelism: configuration.parallelism)
        var profiles: [Profile] = []
        for profile in configuration.profiles {
            profiles.append(
                try Profile(
                    schedulerName: profile.schedulerName, plugins: profile.plugins, pluginArgs: profile.pluginArgs,
                    handle: handle))
        }
        let built = Scheduler(
            profiles: profiles, client: client, recorder: recorder,
            percentageOfNodesToScore: configuration.percentageOfNodesToScore,
            parallelism: configuration.parallelism, logger: logger)
        scheduler.withLockedValue { $0 = built }
        registrations = built.addEventHandlers(
            pods: informers.informer(for: Pod.self), nodes: informers.informer(for: Node.self),
            persistentVolumeClaims: informers.informer(for: PersistentVolumeClaim.self),
            persistentVolumes: informers.informer(for: PersistentVolume.self), storageClasses: storageClasses,
            csiNodes: csiNodes)
        self.configuration = configuration
        self.election = election
        self.client = client
        self.scheduler = built
        self.logger = logger
    }

    /// The resources a group version serves (empty when the server does not serve it), so the scheduler
    /// does not wait forever on an informer for a kind an older or smaller API server lacks.
    static func servedResources(_ client: RESTClient, groupVersion: String) async -> Set<String> {
        guard let list = try? await client.getJSON(path: "/apis/\(groupVersion)") else { return [] }
        return Set((list["resources"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
    }

    /// The configuration file's `leaderElection` values, under flags given explicitly on the command line.
    static func apply(_ file: JSONObject, to election: inout LeaderElectionConfiguration, explicitFlags flags: FlagSet)
        throws
    {
        func duration(_ key: String, _ flag: String) throws -> Duration? {
            guard !flags.isSet(flag), let text = file[key]?.stringValue else { return nil }
            guard let value = GoDuration.parse(text) else {
                throw SchedulerConfigError("leaderElection.\(key): invalid duration \"\(text)\"")
            }
            return value
        }
        if !flags.isSet("leader-elect"), let elect = file["leaderElect"]?.boolValue { election.leaderElect = elect }
        if let value = try duration("leaseDuration", "leader-elect-lease-duration") { election.leaseDuration = value }
        if let value = try duration("renewDeadline", "leader-elect-renew-deadline") { election.renewDeadline = value }
        if let value = try duration("retryPeriod", "leader-elect-retry-period") { election.retryPeriod = value }
        if !flags.isSet("leader-elect-resource-name"), let name = file["resourceName"]?.stringValue {
            election.resourceName = name
        }
        if !flags.isSet("leader-elect-resource-namespace"), let namespace = file["resourceNamespace"]?.stringValue {
            election.resourceNamespace = namespace
        }
    }
}
