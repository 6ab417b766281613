import APIMachinery
import Client
import Component
import Logging

/// Upstream's disruption controller: keeps each PodDisruptionBudget's status (healthy, desired and
/// expected pods, disruptions allowed, the `DisruptionAllowed` condition) true to the pods its selector
/// matches and the scale of their controllers, which the eviction API then consults.
public final class DisruptionController: Controller {
    public static let descriptor = ControllerDescriptor(
        name: "disruption-controller", aliases: ["disruption"], serviceAccount: "disruption-controller"
    ) { context in DisruptionController(context: context) }

    let context: ControllerContext
    let queue: RateLimitingQueue<ObjectKey>
    let budgets: Lister<PodDisruptionBudget>
    let pods: Lister<Pod>
    let replicaSets: Lister<ReplicaSet>
    let deployments: Lister<Deployment>
    let replicationControllers: Lister<ReplicationController>
    let statefulSets: Lister<StatefulSet>

    public init(context: ControllerContext) {
        self.context = context
        queue = RateLimitingQueue(name: "disruption", time: context.time)
        let budgetInformer = context.informers.informer(for: PodDisruptionBudget.self)
        let podInformer = context.informers.informer(for: Pod.self)
        budgets = budgetInformer.lister
        pods = podInformer.lister
        replicaSets = context.informers.lister(for: ReplicaSet.self)
        deployments = context.informers.lister(for: Deployment.self)
        replicationControllers = context.informers.lister(for: ReplicationController.self)
        statefulSets = context.informers.lister(for: StatefulSet.self)
        budgetInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { [self] budget, _ in queue.add(budget.key) },
                onUpdate: { [self] _, budget in queue.add(budget.key) }))
        podInformer.addEventHandler(
            ResourceEventHandler(
                onAdd: { [self] pod, _ in enqueueBudgets(for: pod) },
                onUpdate: { [self] old, new in
                    enqueueBudgets(for: new)
                    if old.metadata.labels != new.metadata.labels { enqueueBudgets(for: old) }
                },
                onDelete: { [self] event in enqueueBudgets(for: event.object) }))
    }

    public func run(workers: Int) async {
        await queue.runWorkers(workers, logger: context.logger) { key in try await self.sync(key) }
    }

    /// Every budget whose selector matches `pod` syncs (upstream's `getPdbForPod`, which takes the first).
    private func enqueueBudgets(for pod: Pod) {
        for budget in budgets.list(namespace: pod.metadata.namespace ?? "")
        where Self.selector(budget)?.matches(pod.metadata.labels) ?? false {
            queue.add(budget.key)
        }
    }

    /// The budget's pod selector; nil selects nothing (an empty one selects every pod, as policy/v1).
    static func selector(_ budget: PodDisruptionBudget) -> LabelSelector? {
        try? budget.spec.selector?.labelSelector()
    }

    /// Recomputes one budget's status from its pods and writes it when it changed.
    func sync(_ key: ObjectKey) async throws {
        guard let budget = budgets.get(namespace: key.namespace, name: key.name) else { return }
        let selected =
            Self.selector(budget).map { selector in
                pods.list(namespace: key.namespace).filter { selector.matches($0.metadata.labels) }
            } ?? []
        let reference = ObjectReference(to: budget)
        if selected.isEmpty {
            context.recorder.eventf(
                regarding: reference, type: .normal, reason: "NoPods", action: "Sync", note: "No matching pods found")
        }
        let now = Int64(context.time.wallNow.timeIntervalSince1970)
        var status = budget.status
        let expectations: (expectedCount: Int, desiredHealthy: Int)
        do {
            expectations = try DisruptionBudget.expectations(budget.spec, podCount: selected.count) {
                try expectedScale(selected)
            }
        } catch {
            context.recorder.eventf(
                regarding: reference, type: .warning, reason: "CalculateExpectedPodCountFailed", action: "Sync",
                note: "Failed to calculate the number of expected pods: \(error)")
            // Fail safe, as upstream: no disruptions while the budget cannot be evaluated.
            status.disruptionsAllowed = 0
            Self.setCondition(&status, allowed: false, reason: "SyncFailed", message: "\(error)", budget: budget)
            try await write(status, to: budget)
            return
        }
        let disrupted = DisruptionBudget.pendingDisruptions(
            status.disruptedPods.compactMapValues { Timestamp.parse($0) }, pods: selected, now: now)
        let healthy = DisruptionBudget.currentHealthy(selected, disrupted: disrupted)
        let allowed = DisruptionBudget.disruptionsAllowed(
            currentHealthy: healthy, desiredHealthy: expectations.desiredHealthy,
            expectedCount: expectations.expectedCount)
        status.currentHealthy = Int32(healthy)
        status.desiredHealthy = Int32(expectations.desiredHealthy)
        status.expectedPods = Int32(expectations.expectedCount)
        status.disruptionsAllowed = Int32(allowed)
        status.disruptedPods = status.disruptedPods.filter { disrupted[$0.key] != nil }
        Self.setCondition(
            &status, allowed: allowed > 0, reason: allowed > 0 ? "SufficientPods" : "InsufficientPods", message: "",
            budget: budget)
        try await write(status, to: budget)
        if let soonest = disrupted.values.min() {
            // Look again when the oldest awaited disruption times out.
            queue.add(key, after: .seconds(max(1, soonest + DisruptionBudget.deletionTimeoutSeconds - now)))
        }
    }

    /// The pods the selected pods' controllers want in all, each controller counted once; throws for a pod
    /// without a controller or with one of a kind the controller cannot scale.
    func expectedScale(_ selected: [Pod]) throws -> Int {
        var counted = Set<String>()
        var total = 0
        for pod in selected {
            guard let reference = pod.metadata.controllerRef else {
                throw DisruptionBudget.ExpectedCountError(
                    description: "found no controller ref for pod \"\(pod.metadata.name ?? "")\"")
            }
            guard let (uid, scale) = controllerScale(reference, namespace: pod.metadata.namespace ?? "") else {
                throw DisruptionBudget.ExpectedCountError(
                    description: "found no controllers for pod \"\(pod.metadata.name ?? "")\"")
            }
            if counted.insert(uid).inserted { total += scale }
        }
        return total
    }

    /// The UID and desired replicas of the controller `reference` names: a ReplicaSet's Deployment when it
    /// has one, else the ReplicaSet, a ReplicationController or a StatefulSet.
    private func controllerScale(_ reference: OwnerReference, namespace: String) -> (String, Int)? {
        let name = reference.name ?? ""
        switch (reference.apiVersion?.split(separator: "/").first.map(String.init), reference.kind) {
        case ("apps", "ReplicaSet"):
            guard let replicaSet = replicaSets.get(namespace: namespace, name: name),
                replicaSet.metadata.uid == reference.uid
            else { return nil }
            if let owner = replicaSet.metadata.controllerRef, owner.kind == "Deployment",
                let deployment = deployments.get(namespace: namespace, name: owner.name ?? ""),
                deployment.metadata.uid == owner.uid
            {
                return (owner.uid ?? "", Int(deployment.spec.replicas ?? 1))
            }
            return (reference.uid ?? "", Int(replicaSet.spec.replicas ?? 1))
        case ("v1", "ReplicationController"):
            guard let controller = replicationControllers.get(namespace: namespace, name: name),
                controller.metadata.uid == reference.uid
            else { return nil }
            return (reference.uid ?? "", Int(controller.spec.replicas ?? 1))
        case ("apps", "StatefulSet"):
            guard let statefulSet = statefulSets.get(namespace: namespace, name: name),
                statefulSet.metadata.uid == reference.uid
            else { return nil }
            return (reference.uid ?? "", Int(statefulSet.spec.replicas ?? 1))
        default:
            return nil
        }
    }

    /// Sets `DisruptionAllowed`, keeping its transition time while its status holds.
    static func setCondition(
        _ status: inout PodDisruptionBudgetStatus, allowed: Bool, reason: String, message: String,
        budget: PodDisruptionBudget
    ) {
        let value = allowed ? "True" : "False"
        let existing = status.conditions.first { $0.type == DisruptionBudget.conditionType }
        var condition = Condition()
        condition.type = DisruptionBudget.conditionType
        condition.status = value
        condition.reason = reason
        condition.message = message
        condition.observedGeneration = budget.metadata.generation
        condition.lastTransitionTime =
            existing?.status == value ? existing?.lastTransitionTime ?? Timestamp.now() : Timestamp.now()
        status.conditions.removeAll { $0.type == DisruptionBudget.conditionType }
        status.conditions.append(condition)
    }

    /// Writes `status` with the budget's generation observed, unless nothing changed.
    private func write(_ status: PodDisruptionBudgetStatus, to budget: PodDisruptionBudget) async throws {
        let generation = budget.metadata.generation
        try await StatusWriter.write(budget, client: context.client) {
            $0.status = status
            $0.status.observedGeneration = generation
        }
    }
}
