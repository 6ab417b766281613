import APIMachinery
import Client
import Component
import Foundation
import Logging
import NIOConcurrencyHelpers

/// Upstream's horizontal pod autoscaler: every sync period each HPA reads its target's scale subresource, turns
/// its resource metrics into a replica count (stabilized, rate-limited and clamped as upstream does), scales the
/// target through the subresource and reports what it saw and decided in its status and conditions.
public final class HorizontalPodAutoscalerController: Controller {
    public static let descriptor = ControllerDescriptor(
        name: "horizontal-pod-autoscaler-controller", aliases: ["horizontalpodautoscaling"],
        serviceAccount: "horizontal-pod-autoscaler",
        flags: [
            FlagDefinition("concurrent-horizontal-pod-autoscaler-syncs", default: "5"),
            FlagDefinition("horizontal-pod-autoscaler-sync-period", default: "15s"),
            FlagDefinition("horizontal-pod-autoscaler-tolerance", default: "0.1"),
            FlagDefinition("horizontal-pod-autoscaler-downscale-stabilization", default: "5m0s"),
            FlagDefinition("horizontal-pod-autoscaler-cpu-initialization-period", default: "5m0s"),
            FlagDefinition("horizontal-pod-autoscaler-initial-readiness-delay", default: "30s"),
        ],
        workersFlag: "concurrent-horizontal-pod-autoscaler-syncs"
    ) { context in try HorizontalPodAutoscalerController(context: context) }

    let context: ControllerContext
    let queue: RateLimitingQueue<ObjectKey>
    let autoscalers: Lister<HorizontalPodAutoscaler>
    let pods: Lister<Pod>
    let metrics: any MetricsSource
    let syncPeriod: Duration
    let downscaleStabilization: Duration
    let calculator: ReplicaCalculator
    /// Per HPA: recent recommendations and scale changes, kept in memory as upstream keeps them.
    let histories = NIOLockedValueBox<[ObjectKey: ScaleHistory]>([:])
    /// Scale targets of kinds outside the generated models, resolved once through discovery.
    let discovered = NIOLockedValueBox<[String: ResourceDescriptor]>([:])

    /// Builds the controller on `metrics` (the resource metrics API when nil).
    public init(context: ControllerContext, metrics: (any MetricsSource)? = nil) throws {
        self.context = context
        self.metrics = metrics ?? ResourceMetricsAPISource(client: context.client)
        syncPeriod = try context.duration("horizontal-pod-autoscaler-sync-period")
        downscaleStabilization = try context.duration("horizontal-pod-autoscaler-downscale-stabilization")
        let toleranceText = context.flags.string("horizontal-pod-autoscaler-tolerance")
        guard let tolerance = Double(toleranceText), tolerance >= 0 else {
            throw FlagError(
                message: "invalid argument \"\(toleranceText)\" for \"--horizontal-pod-autoscaler-tolerance\" flag")
        }
        calculator = ReplicaCalculator(
            tolerance: tolerance,
            cpuInitializationPeriod: try context.duration("horizontal-pod-autoscaler-cpu-initialization-period"),
            initialReadinessDelay: try context.duration("horizontal-pod-autoscaler-initial-readiness-delay"))
        queue = RateLimitingQueue(name: "horizontalpodautoscaler", time: context.time)
        let informer = context.informers.informer(for: HorizontalPodAutoscaler.self)
        autoscalers = informer.lister
        pods = context.informers.lister(for: Pod.self)
        // Upstream adds every HPA with the sync period's delay, and an HPA already waiting is not added again, so
        // each is reconciled once a period however often it (or its own status) changes.
        informer.addEventHandler(
            ResourceEventHandler(
                onAdd: { [self] autoscaler, _ in queue.add(autoscaler.key, after: syncPeriod) },
                onUpdate: { [self] old, new in
                    // A spec change is acted on at once; status writes wait for the period.
                    queue.add(new.key, after: old.spec == new.spec ? syncPeriod : .zero)
                },
                onDelete: { [self] event in histories.withLockedValue { _ = $0.removeValue(forKey: event.key) } }))
    }

    public func run(workers: Int) async {
        await queue.runWorkers(max(1, workers), logger: context.logger) { key in try await self.sync(key) }
    }

    /// Reconciles one HPA and schedules its next look; a failed reconcile is reported in its status and events and
    /// retried at the next period, as upstream's fixed-interval queue does.
    func sync(_ key: ObjectKey) async throws {
        guard let autoscaler = autoscalers.get(namespace: key.namespace, name: key.name) else {
            histories.withLockedValue { _ = $0.removeValue(forKey: key) }
            return
        }
        defer { queue.add(key, after: syncPeriod) }
        do {
            try await reconcile(autoscaler, key: key)
        } catch {
            context.logger.error(
                "failed to reconcile HorizontalPodAutoscaler", metadata: ["hpa": "\(key)", "error": "\(error)"])
        }
    }

    /// Records an event; rescales are the `Scale` action, everything else the `Sync` that found it.
    func event(_ autoscaler: HorizontalPodAutoscaler, _ type: EventType, _ reason: String, _ note: String) {
        let action = reason.hasSuffix("Rescale") ? "Scale" : "Sync"
        context.recorder.eventf(
            regarding: ObjectReference(to: autoscaler), type: type, reason: reason, action: action, note: note)
    }

    /// Sets a condition, keeping its transition time while its status holds (upstream's `setConditionInList`).
    static func setCondition(
        _ status: inout HorizontalPodAutoscalerStatus, _ type: String, _ value: Bool, _ reason: String,
        _ message: String, now: String
    ) {
        let text = value ? "True" : "False"
        if let index = status.conditions.firstIndex(where: { $0.type == type }) {
            if status.conditions[index].status != text { status.conditions[index].lastTransitionTime = now }
            status.conditions[index].status = text
            status.conditions[index].reason = reason
            status.conditions[index].message = message
            return
        }
        status.conditions.append(
            HorizontalPodAutoscalerCondition(
                type: type, status: text, lastTransitionTime: now, message: message, reason: reason))
    }

    /// Writes the status when it differs from what the HPA had.
    func write(_ status: HorizontalPodAutoscalerStatus, to autoscaler: HorizontalPodAutoscaler) async throws {
        guard status != autoscaler.status else { return }
        do {
            try await StatusWriter.write(autoscaler, client: context.client) { $0.status = status }
        } catch {
            event(autoscaler, .warning, "FailedUpdateStatus", "\(error)")
            throw error
        }
    }

    // MARK: The scale subresource

    /// The target's scale as the subresource shows it.
    struct Scale {
        var object: JSON
        var resource: ResourceDescriptor
        var replicas: Int32 { Int32(clamping: object[path: "spec", "replicas"]?.intValue ?? 0) }
        var selector: String { object[path: "status", "selector"]?.stringValue ?? "" }
    }

    /// Reads the scale of the HPA's target, mapping its apiVersion and kind to a resource as a REST mapper would.
    func scale(of autoscaler: HorizontalPodAutoscaler) async throws -> Scale {
        let target = autoscaler.spec.scaleTargetRef ?? CrossVersionObjectReference()
        let resource = try await resource(apiVersion: target.apiVersion ?? "", kind: target.kind ?? "")
        let path = resource.path(
            namespace: autoscaler.metadata.namespace, name: target.name ?? "", subresource: "scale")
        return Scale(object: try await context.client.getJSON(path: path), resource: resource)
    }

    /// Writes `replicas` through the scale subresource (optimistically, on the version just read).
    func update(_ scale: Scale, replicas: Int32, namespace: String?) async throws {
        var object = scale.object
        object.set(["spec", "replicas"], to: .int(Int64(replicas)))
        let path = scale.resource.path(namespace: namespace, name: object.name ?? "", subresource: "scale")
        _ = try await context.client.putJSON(path: path, object)
    }

    private func resource(apiVersion: String, kind: String) async throws -> ResourceDescriptor {
        let parts = apiVersion.split(separator: "/", omittingEmptySubsequences: false)
        guard !apiVersion.isEmpty, parts.count <= 2, !parts.contains(where: \.isEmpty) else {
            throw MetricsError("unexpected GroupVersion string: \(apiVersion)")
        }
        let group = parts.count == 2 ? String(parts[0]) : ""
        if let known = ModelKinds.all.map({ $0.resource }).first(where: { $0.group == group && $0.kind == kind }) {
            return known
        }
        let cacheKey = "\(apiVersion)/\(kind)"
        if let cached = discovered.withLockedValue({ $0[cacheKey] }) { return cached }
        let found = try await ResourceDiscovery.discover(client: context.client)
            .resource(apiVersion: apiVersion, kind: kind)
        guard let found else {
            throw MetricsError("no matches for kind \"\(kind)\" in group \"\(group)\"")
        }
        discovered.withLockedValue { $0[cacheKey] = found }
        return found
    }
}
