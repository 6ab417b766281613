import APIMachinery
public import Storage

/// What strategies may reach beyond their own object: the store (for namespaces), the IP and port
/// allocators, and whether this write is a dry run (then nothing is allocated).
public struct RegistryContext: Sendable {
    public var storage: any KeyValueStore
    public var storagePrefix: String
    public var dryRun = false
    public var serviceIPs: ServiceIPAllocator
    public var nodePorts: NodePortAllocator
    /// The admission plugins every write goes through.
    public var admission: AdmissionChain
    /// Leases for `--event-ttl`; nil keeps events forever.
    public var eventLeases: EventLeaseManager?

    public init(
        storage: any KeyValueStore, storagePrefix: String, serviceIPs: ServiceIPAllocator, nodePorts: NodePortAllocator,
        admission: AdmissionChain = AdmissionChain(), eventLeases: EventLeaseManager? = nil
    ) {
        self.storage = storage
        self.storagePrefix = storagePrefix
        self.serviceIPs = serviceIPs
        self.nodePorts = nodePorts
        self.admission = admission
        self.eventLeases = eventLeases
    }
}
