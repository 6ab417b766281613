import APIMachinery
public import Prometheus

/// `MutatingAdmissionWebhook`: calls the MutatingWebhookConfigurations' webhooks one after another, in
/// configuration-name order, each seeing the object as the previous ones patched it (JSON patch). A webhook
/// with `reinvocationPolicy: IfNeeded` is called once more when a later webhook changed the object after it.
/// Deletes have no object to patch; their webhooks are called from the validating step and may only refuse.
struct MutatingAdmissionWebhook: AdmissionPlugin {
    var name: String { "MutatingAdmissionWebhook" }
    let dispatcher: WebhookDispatcher

    init(dispatcher: WebhookDispatcher = WebhookDispatcher(mutating: true)) {
        self.dispatcher = dispatcher
    }

    func admit(_ attributes: AdmissionAttributes, object: inout JSON, context: RegistryContext) async throws {
        let webhooks = try await dispatcher.webhooks(context: context)
        guard !webhooks.isEmpty else { return }
        var current: JSON? = object
        try await run(webhooks, attributes: attributes, object: &current, context: context)
        if let current { object = current }
    }

    func validate(_ attributes: AdmissionAttributes, object: JSON, context: RegistryContext) async throws {
        guard attributes.operation == .delete else { return }
        let webhooks = try await dispatcher.webhooks(context: context)
        guard !webhooks.isEmpty else { return }
        var none: JSON?
        try await run(webhooks, attributes: attributes, object: &none, context: context)
    }

    /// Upstream's mutating dispatch: one round over every webhook, then, when some webhook changed the object,
    /// a second round over the `IfNeeded` webhooks that had been called before that change. A webhook skipped
    /// in the first round is never called in the second.
    private func run(
        _ webhooks: [Webhook], attributes: AdmissionAttributes, object: inout JSON?, context: RegistryContext
    ) async throws {
        var calledBeforeChange: Set<Int> = []
        var reinvoke: Set<Int> = []
        var changed = false
        for round in 0..<2 {
            if round == 1, !changed || reinvoke.isEmpty { return }
            let invocations = try await dispatcher.invocations(
                of: webhooks, for: attributes, object: object, context: context)
            for (index, invocation) in invocations.enumerated() {
                guard let invocation, round == 0 || reinvoke.contains(index) else { continue }
                let key = "mutation.webhook.admission.k8s.io/round_\(round)_index_\(index)"
                let outcome = try await dispatcher.call(
                    invocation, attributes: attributes, object: object, context: context,
                    annotationKey: key)
                var mutated = false
                if case .answered(let response) = outcome, let patch = response.patch, let before = object {
                    let after = try Self.apply(patch, to: before, invocation: invocation)
                    mutated = after != before
                    object = after
                }
                if case .answered = outcome {
                    AuditContext.current?.annotate(
                        key,
                        JSON.object([
                            "configuration": .string(invocation.webhook.configurationName),
                            "webhook": .string(invocation.webhook.name), "mutated": .bool(mutated),
                        ]).jsonString)
                }
                if mutated, round == 0 {
                    changed = true
                    reinvoke.formUnion(calledBeforeChange)
                    calledBeforeChange = []
                }
                if invocation.webhook.reinvokeIfNeeded, round == 0 { calledBeforeChange.insert(index) }
            }
        }
    }

    /// Applies a webhook's patch to the object in the version the webhook saw, and returns it stored-shaped.
    static func apply(_ patch: JSON, to object: JSON, invocation: WebhookInvocation) throws -> JSON {
        let presented = invocation.conversion?.fromStorage(object) ?? object
        do {
            let patched = try JSONPatch.apply(patch, to: presented)
            return invocation.conversion?.toStorage(patched) ?? patched
        } catch {
            // Upstream fails the request as an internal error whatever the failurePolicy.
            throw APIError.internalError(error.message)
        }
    }
}

/// `ValidatingAdmissionWebhook`: calls every matching ValidatingWebhookConfiguration webhook at once and
/// refuses the write if any refuses (the first refusal in configuration order is reported).
struct ValidatingAdmissionWebhook: AdmissionPlugin {
    var name: String { "ValidatingAdmissionWebhook" }
    let dispatcher: WebhookDispatcher

    init(dispatcher: WebhookDispatcher = WebhookDispatcher(mutating: false)) {
        self.dispatcher = dispatcher
    }

    func validate(_ attributes: AdmissionAttributes, object: JSON, context: RegistryContext) async throws {
        let webhooks = try await dispatcher.webhooks(context: context)
        guard !webhooks.isEmpty else { return }
        let subject: JSON? = attributes.operation == .delete ? nil : object
        let invocations = try await dispatcher.invocations(
            of: webhooks, for: attributes, object: subject, context: context)
        let failures = await withTaskGroup(of: (Int, (any Error)?).self) { group in
            for (index, invocation) in invocations.enumerated() {
                guard let invocation else { continue }
                group.addTask {
                    do {
                        _ = try await dispatcher.call(
                            invocation, attributes: attributes, object: subject, context: context,
                            annotationKey: "validating.webhook.admission.k8s.io/round_0_index_\(index)")
                        return (index, nil)
                    } catch {
                        return (index, error)
                    }
                }
            }
            var failures: [(Int, any Error)] = []
            for await (index, error) in group {
                if let error { failures.append((index, error)) }
            }
            return failures
        }
        if let first = failures.min(by: { $0.0 < $1.0 }) { throw first.1 }
    }
}

extension AdmissionChain {
    /// The chain with its webhook plugins reporting to `registry`, the server's `/metrics` registry.
    public func reportingWebhookMetrics(to registry: PrometheusCollectorRegistry) -> AdmissionChain {
        let metrics = WebhookMetrics(registry: registry)
        return AdmissionChain(
            plugins: plugins.map { plugin in
                switch plugin {
                case is MutatingAdmissionWebhook:
                    MutatingAdmissionWebhook(dispatcher: WebhookDispatcher(mutating: true, metrics: metrics))
                case is ValidatingAdmissionWebhook:
                    ValidatingAdmissionWebhook(dispatcher: WebhookDispatcher(mutating: false, metrics: metrics))
                default: plugin
                }
            })
    }
}
