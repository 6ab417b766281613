public import Client
public import Component
public import Logging

/// A control loop the manager runs while it leads.
public protocol Controller: Sendable {
    /// Works until the calling task is cancelled, with `workers` concurrent syncs. The shared informers are
    /// started and synced before this is called.
    func run(workers: Int) async
}

/// Everything the manager knows about one controller: upstream's name and alias, whether `*` turns it on,
/// its own flags, the service account it acts as, and how to build it.
public struct ControllerDescriptor: Sendable {
    /// Upstream's name since v1.28 (`deployment-controller`), as `--controllers` and logs spell it.
    public let name: String
    /// The older names `--controllers` still accepts (`deployment`).
    public let aliases: [String]
    /// Whether `*` in `--controllers` includes it.
    public let enabledByDefault: Bool
    /// The `kube-system` service account it acts as with `--use-service-account-credentials`; empty for a
    /// controller that always acts with the manager's own credentials.
    public let serviceAccount: String
    /// Its flags (`--concurrent-…-syncs` and the like); the command accepts the union of every controller's.
    public let flags: [FlagDefinition]
    /// The flag holding its worker count, if it has one.
    public let workersFlag: String?
    /// Builds the controller, registering its informer handlers; nil when it has nothing to do in this
    /// configuration (upstream logs "Skipping" and runs on).
    public let make: @Sendable (ControllerContext) throws -> (any Controller)?

    public init(
        name: String, aliases: [String] = [], enabledByDefault: Bool = true, serviceAccount: String,
        flags: [FlagDefinition] = [], workersFlag: String? = nil,
        make: @escaping @Sendable (ControllerContext) throws -> (any Controller)?
    ) {
        self.name = name
        self.aliases = aliases
        self.enabledByDefault = enabledByDefault
        self.serviceAccount = serviceAccount
        self.flags = flags
        self.workersFlag = workersFlag
        self.make = make
    }
}

/// What a controller is built from: its client, the shared informers, its flags, its event recorder and clock.
public struct ControllerContext: Sendable {
    /// The controller's own client: its service account's when `--use-service-account-credentials` is on.
    public let client: RESTClient
    /// Informers shared by every controller of the process; a controller only registers handlers and reads listers.
    public let informers: SharedInformerFactory
    /// The parsed command line; each controller reads its own flags from it.
    public let flags: FlagSet
    /// Records events as this controller (`reportingController` is its name).
    public let recorder: EventRecorder
    public let time: any TimeSource
    public let logger: Logger

    public init(
        client: RESTClient, informers: SharedInformerFactory, flags: FlagSet, recorder: EventRecorder,
        time: any TimeSource = SystemTime(), logger: Logger
    ) {
        self.client = client
        self.informers = informers
        self.flags = flags
        self.recorder = recorder
        self.time = time
        self.logger = logger
    }

    /// A duration flag in Go's syntax (`40s`, `5m0s`).
    public func duration(_ flag: String) throws -> Duration { try flags.duration(flag) }
}
