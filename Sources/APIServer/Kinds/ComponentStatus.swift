import APIMachinery
public import Component
public import EtcdStore
import Logging
public import NIOCore

/// What `componentstatuses` probes, as upstream's kube-apiserver does: every etcd member of `--etcd-servers`
/// (`etcd-0`, `etcd-1`, … in flag order; the embedded store is `etcd-0`), the scheduler's and the
/// controller-manager's `/healthz` on their default secure ports.
public struct ComponentStatusTargets: Sendable {
    /// The etcd cluster storage is on, each member probed alone; nil for the embedded store.
    public var etcd: EtcdConfiguration?
    public var scheduler = HealthProbe(host: "127.0.0.1", port: 10259, path: "/healthz")
    public var controllerManager = HealthProbe(host: "127.0.0.1", port: 10257, path: "/healthz")
    /// How long one probe may take; every probe runs at once, so a list takes about this long at most.
    public var timeout: TimeAmount = .seconds(2)

    public init() {}

    /// The targets kube-apiserver's flags give: `--etcd-servers` and its TLS files.
    public init(flags: FlagSet) {
        guard flags.isSet("etcd-servers"),
            let endpoints = try? EtcdConfiguration.parseServers(flags.string("etcd-servers"))
        else { return }
        etcd = EtcdConfiguration(
            endpoints: endpoints, caFile: flags.string("etcd-cafile"), certificateFile: flags.string("etcd-certfile"),
            keyFile: flags.string("etcd-keyfile"))
    }
}

/// core/v1 ComponentStatus, computed on every get and list from probes and never stored, as upstream's
/// deprecated (v1.19) resource: one `Healthy` condition per component, `True` with the component's answer
/// (`ok`) or `False` with why not.
enum ComponentStatuses {
    static let deprecation = "v1 ComponentStatus is deprecated in v1.19+"

    static let resource = VirtualResource(
        group: "", resource: "componentstatuses", kind: "ComponentStatus",
        reads: VirtualReads(
            shortNames: ["cs"],
            columns: [.name, Table.Column("Status"), Table.Column("Message"), Table.Column("Error")],
            cells: cells, warning: deprecation,
            list: { server in await server.componentStatuses() },
            get: { name, server in
                guard let status = await server.componentStatus(named: name) else {
                    throw APIError.notFound(GroupResource(group: "", resource: "componentstatus"), name: name)
                }
                return status
            }))

    /// One component's probe: healthy or not, the message, and the error (etcd's failures carry an error
    /// and no message; the HTTP probes' carry the message, as upstream's probers report them).
    struct Outcome: Sendable {
        var healthy: Bool
        var message: String
        var error: String
    }

    /// The object upstream answers for one component.
    static func object(name: String, outcome: Outcome) -> JSON {
        var condition: JSONObject = ["type": "Healthy", "status": outcome.healthy ? "True" : "False"]
        if !outcome.message.isEmpty { condition["message"] = .string(outcome.message) }
        if !outcome.error.isEmpty { condition["error"] = .string(outcome.error) }
        // Go's zero creation time is encoded as null, which clients see on these objects.
        return ["metadata": ["name": .string(name), "creationTimestamp": .null], "conditions": [.object(condition)]]
    }

    /// kubectl's columns: `Healthy`/`Unhealthy`/`Unknown`, and the Healthy condition's message and error.
    @Sendable static func cells(_ object: JSON) -> [JSON] {
        let healthy = (object["conditions"]?.arrayValue ?? []).first { $0["type"]?.stringValue == "Healthy" }
        let status: String =
            switch healthy?["status"]?.stringValue {
            case nil: "Unknown"
            case "True": "Healthy"
            default: "Unhealthy"
            }
        return [
            .string(object.name ?? ""), .string(status), .string(healthy?["message"]?.stringValue ?? ""),
            .string(healthy?["error"]?.stringValue ?? ""),
        ]
    }
}

extension APIServer {
    /// Every component's status, probed concurrently, in name order.
    func componentStatuses() async -> [JSON] {
        let probes = componentProbes()
        return await withTaskGroup(of: JSON.self) { group in
            for (name, probe) in probes {
                group.addTask { ComponentStatuses.object(name: name, outcome: await probe()) }
            }
            var statuses: [JSON] = []
            for await status in group { statuses.append(status) }
            return statuses.sorted { ($0.name ?? "") < ($1.name ?? "") }
        }
    }

    /// The named component's status, probing only it; nil when no component has that name.
    func componentStatus(named name: String) async -> JSON? {
        guard let probe = componentProbes().first(where: { $0.name == name })?.probe else { return nil }
        return ComponentStatuses.object(name: name, outcome: await probe())
    }

    private func componentProbes() -> [(name: String, probe: @Sendable () async -> ComponentStatuses.Outcome)] {
        let targets = componentStatusTargets
        var probes: [(name: String, probe: @Sendable () async -> ComponentStatuses.Outcome)] = []
        for (name, target) in [("scheduler", targets.scheduler), ("controller-manager", targets.controllerManager)] {
            probes.append(
                (
                    name,
                    {
                        let (healthy, message) = await target.run(timeout: targets.timeout)
                        return ComponentStatuses.Outcome(healthy: healthy, message: message, error: "")
                    }
                ))
        }
        guard let etcd = targets.etcd else {
            let storage = storage
            probes.append(
                (
                    "etcd-0",
                    {
                        do {
                            _ = try await storage.currentRevision()
                            return ComponentStatuses.Outcome(healthy: true, message: "ok", error: "")
                        } catch {
                            return ComponentStatuses.Outcome(healthy: false, message: "", error: "\(error)")
                        }
                    }
                ))
            return probes
        }
        for (index, endpoint) in etcd.endpoints.enumerated() {
            var member = etcd
            member.endpoints = [endpoint]
            member.dialTimeout = targets.timeout
            member.callTimeout = targets.timeout
            member.connections = 1
            let probed = member
            probes.append(("etcd-\(index)", { await Self.probeEtcdMember(probed, timeout: targets.timeout) }))
        }
        return probes
    }

    /// One member's Maintenance/Status on a client of its own, so another member cannot answer for it.
    private static func probeEtcdMember(_ member: EtcdConfiguration, timeout: TimeAmount) async
        -> ComponentStatuses.Outcome
    {
        do {
            let store = try EtcdStore(
                configuration: member, logger: Logger(label: "etcd-probe") { _ in SwiftLogNoOpLogHandler() })
            defer { store.close() }
            _ = try await store.memberStatus(timeout: timeout)
            return ComponentStatuses.Outcome(healthy: true, message: "ok", error: "")
        } catch {
            return ComponentStatuses.Outcome(healthy: false, message: "", error: "\(error)")
        }
    }
}
