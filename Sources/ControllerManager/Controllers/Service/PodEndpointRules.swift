public import Client

/// Upstream's rules for which pods back a service and how (`endpointsliceutil.ShouldPodBeInEndpoints`,
/// `podutil.FindPort`, `IsPodReady`, `ShouldSetHostname`), shared by the Endpoints and EndpointSlice controllers.
public enum PodEndpointRules {
    /// The label upstream puts on the Endpoints and EndpointSlices of a service without a cluster IP.
    public static let headlessLabel = "service.kubernetes.io/headless"
    /// The annotation holding when the last change behind an Endpoints or EndpointSlice happened.
    public static let lastChangeTriggerTimeAnnotation = "endpoints.kubernetes.io/last-change-trigger-time"

    /// Whether `pod` has an address to publish and is neither finished nor (unless `includeTerminating`)
    /// being deleted.
    public static func shouldBeInEndpoints(_ pod: Pod, includeTerminating: Bool) -> Bool {
        guard !ips(of: pod).isEmpty else { return false }
        if !includeTerminating && pod.metadata.deletionTimestamp != nil { return false }
        let phase = pod.status.phase
        switch pod.spec.restartPolicy {
        case "Never": return phase != "Failed" && phase != "Succeeded"
        case "OnFailure": return phase != "Succeeded"
        default: return true
        }
    }

    /// Whether the pod's `Ready` condition is `True`.
    public static func isReady(_ pod: Pod) -> Bool {
        pod.status.conditions.contains { $0.type == "Ready" && $0.status == "True" }
    }

    /// The pod's addresses: `status.podIPs`, or `status.podIP` when the list is absent.
    public static func ips(of pod: Pod) -> [String] {
        let listed = pod.status.podIPs.compactMap(\.ip).filter { !$0.isEmpty }
        if !listed.isEmpty { return listed }
        return pod.status.podIP.map { $0.isEmpty ? [] : [$0] } ?? []
    }

    /// The container port `servicePort` targets on `pod`: a number as given, a name looked up among the
    /// containers' (and sidecar init containers') ports of the same protocol; nil when the pod has no such port.
    public static func findPort(_ pod: Pod, _ servicePort: ServicePort) -> Int32? {
        let target = servicePort.targetPort ?? servicePort.port.map(IntOrString.int)
        switch target {
        case .int(let number)?:
            return number
        case .string(let name)?:
            let wanted = servicePort.protocol ?? "TCP"
            let sidecars = pod.spec.initContainers.filter { $0.restartPolicy == "Always" }
            for container in pod.spec.containers + sidecars {
                for port in container.ports where port.name == name && (port.protocol ?? "TCP") == wanted {
                    return port.containerPort
                }
            }
            return nil
        case nil:
            return nil
        }
    }

    /// Whether the pod's `spec.hostname` names it within the service (`spec.subdomain` is the service's name).
    public static func shouldSetHostname(_ pod: Pod, service: Service) -> Bool {
        guard let hostname = pod.spec.hostname, !hostname.isEmpty else { return false }
        return pod.spec.subdomain == service.metadata.name && pod.metadata.namespace == service.metadata.namespace
    }

    /// Whether the service has a cluster IP (it is neither headless nor unallocated).
    public static func hasClusterIP(_ service: Service) -> Bool {
        guard let ip = service.spec.clusterIP else { return false }
        return !ip.isEmpty && ip != "None"
    }

    /// Whether `address` is an IPv6 address (upstream's `utilnet.IsIPv6String`, as far as a textual test goes).
    public static func isIPv6(_ address: String) -> Bool { address.contains(":") }

    /// The service's selector, nil when it has none (its endpoints are managed by someone else).
    public static func selector(of service: Service) -> [String: String]? {
        service.spec.selector.isEmpty ? nil : service.spec.selector
    }

    /// The services in `services` whose selector matches `labels`.
    public static func services(_ services: [Service], selecting labels: [String: String]) -> [Service] {
        services.filter { service in
            guard let selector = selector(of: service) else { return false }
            return selector.allSatisfy { labels[$0.key] == $0.value }
        }
    }

    /// The services to sync after `old` became `new`: those selecting either label set when the labels
    /// changed, else those selecting the pod when anything they publish about it changed; none on a resync.
    public static func servicesToSync(old: Pod, new: Pod, in services: [Service]) -> [Service] {
        if old.metadata.resourceVersion == new.metadata.resourceVersion { return [] }
        if old.metadata.labels != new.metadata.labels {
            var seen = Set<String>()
            return
                (Self.services(services, selecting: old.metadata.labels)
                + Self.services(services, selecting: new.metadata.labels))
                .filter { seen.insert($0.metadata.name ?? "").inserted }
        }
        guard endpointsChanged(old, new) else { return [] }
        return Self.services(services, selecting: new.metadata.labels)
    }

    /// Whether anything an Endpoints or EndpointSlice records about the pod differs.
    static func endpointsChanged(_ old: Pod, _ new: Pod) -> Bool {
        ips(of: old) != ips(of: new) || isReady(old) != isReady(new)
            || (old.metadata.deletionTimestamp == nil) != (new.metadata.deletionTimestamp == nil)
            || old.spec.hostname != new.spec.hostname || old.spec.subdomain != new.spec.subdomain
            || old.spec.nodeName != new.spec.nodeName || old.status.phase != new.status.phase
            || old.spec.containers.map(\.ports) != new.spec.containers.map(\.ports)
            || old.status.conditions.first { $0.type == "Ready" }?.lastTransitionTime
                != new.status.conditions.first { $0.type == "Ready" }?.lastTransitionTime
    }

    /// A `targetRef` to `pod`, as both controllers write it.
    static func targetRef(_ pod: Pod) -> ObjectReference {
        ObjectReference(kind: "Pod", name: pod.metadata.name, namespace: pod.metadata.namespace, uid: pod.metadata.uid)
    }
}
