import APIMachinery
import Foundation
import NIOCore

/// What both webhook plugins share: the configurations of their kind and the namespaces, both watch-fed,
/// matching, target resolution, and one call with upstream's outcome rules (failurePolicy, denial, metrics).
final class WebhookDispatcher: Sendable {
    let phase: WebhookMetrics.Phase
    let configurations: ClusterObjectCache<[Webhook]>
    private let namespaces = ClusterObjectCache<[String: String]>(folder: "namespaces") { $0.labels }
    private let services = NamespacedObjectCache(folder: "services/specs")
    private let endpoints = NamespacedObjectCache(folder: "services/endpoints")
    let matcher: WebhookMatcher
    let client: WebhookClient
    let metrics: WebhookMetrics

    init(
        mutating: Bool, matcher: WebhookMatcher = WebhookMatcher(), client: WebhookClient = WebhookClient(),
        metrics: WebhookMetrics = WebhookMetrics()
    ) {
        phase = mutating ? .admit : .validating
        configurations = ClusterObjectCache(
            folder: mutating ? "mutatingwebhookconfigurations" : "validatingwebhookconfigurations",
            transform: Webhook.parse(configuration:))
        self.matcher = matcher
        self.client = client
        self.metrics = metrics
    }

    /// Every webhook of every configuration, configurations in name order as upstream sorts them.
    func webhooks(context: RegistryContext) async throws -> [Webhook] {
        try await configurations.values(context: context).flatMap { $0 }
    }

    /// The webhooks to call for this request, each with the version it sees the object in.
    func invocations(
        of webhooks: [Webhook], for attributes: AdmissionAttributes, object: JSON?, context: RegistryContext
    ) async throws -> [WebhookInvocation?] {
        var labels: [String: String]?
        var result: [WebhookInvocation?] = []
        for webhook in webhooks {
            let invocation = try await matcher.invocation(of: webhook, for: attributes, object: object) {
                if let labels { return labels }
                let found = try await namespaceLabels(attributes, object: object, context: context)
                labels = found
                return found
            }
            guard let invocation, !webhook.matchConditions.isEmpty else {
                result.append(invocation)
                continue
            }
            result.append(try conditionsMatch(invocation, attributes: attributes, object: object) ? invocation : nil)
        }
        return result
    }

    /// Upstream evaluates a webhook's matchConditions once its rules and selectors match, on the objects in
    /// the version the webhook would see; a failure under `Fail` refuses the request as Forbidden.
    private func conditionsMatch(_ invocation: WebhookInvocation, attributes: AdmissionAttributes, object: JSON?)
        throws -> Bool
    {
        func present(_ object: JSON?) -> JSON? {
            object.map { invocation.conversion?.fromStorage($0) ?? $0 }
        }
        let bindings = CELAdmission.bindings(
            attributes, resource: invocation.resource, kind: invocation.kind, object: present(object),
            oldObject: present(attributes.oldObject))
        let webhook = invocation.webhook
        switch webhook.matchConditions.evaluate(bindings, ignoreErrors: webhook.failurePolicy == .ignore) {
        case .matches: return true
        case .skipped: return false
        case .failed(let message): throw attributes.forbidden(message, object: object)
        }
    }

    /// A Namespace's own create or update brings its labels; everything else reads the namespace cache.
    private func namespaceLabels(_ attributes: AdmissionAttributes, object: JSON?, context: RegistryContext)
        async throws -> [String: String]
    {
        if attributes.resource == WebhookMatcher.namespaces {
            if attributes.subresource.isEmpty, attributes.operation != .delete, let object { return object.labels }
            return try await namespaces.value(named: attributes.name, context: context) ?? [:]
        }
        return try await namespaces.value(named: attributes.namespace ?? "", context: context) ?? [:]
    }

    /// How a call ended, for the plugins to act on.
    enum Outcome: Sendable {
        case answered(AdmissionReview.Response)
        /// The call failed and `failurePolicy: Ignore` lets the request go on.
        case ignored
    }

    /// Calls one webhook. A failed call under `Fail` and a refusal throw, with upstream's status and text.
    func call(
        _ invocation: WebhookInvocation, attributes: AdmissionAttributes, object: JSON?, context: RegistryContext,
        annotationKey: String
    ) async throws -> Outcome {
        let webhook = invocation.webhook
        let operation = attributes.operation.rawValue
        if attributes.dryRun, !webhook.allowsDryRun {
            // Not a failed call: failurePolicy does not apply, as upstream's dispatchers treat it.
            metrics.observeRejection(
                webhook: webhook.name, phase: phase, operation: operation, kind: .apiserverInternal, code: 0)
            throw APIError.badRequest("admission webhook \"\(webhook.name)\" does not support dry run")
        }
        let started = ContinuousClock.now
        let uid = UUID().uuidString.lowercased()
        do {
            let target = try await target(webhook, context: context)
            let review = AdmissionReview.request(
                uid: uid, invocation: invocation, attributes: attributes, object: object)
            let answer: (status: Int, body: [UInt8])
            do {
                answer = try await client.post(
                    target, body: review.encoded(), caBundle: webhook.caBundle,
                    timeout: .seconds(Int64(webhook.timeoutSeconds)))
            } catch {
                throw WebhookCallFailure(message: "failed to call webhook: " + error.message)
            }
            guard answer.status / 100 == 2 else {
                throw WebhookCallFailure(
                    message:
                        "failed to call webhook: the server responded with the status code \(answer.status) but did not return more information"
                )
            }
            let response = try AdmissionReview.response(
                answer.body, uid: uid, version: webhook.reviewVersion, mutating: phase == .admit)
            let elapsed = ContinuousClock.now - started
            for annotation in response.auditAnnotations {
                AuditContext.current?.annotate(webhook.name + "/" + annotation.key, annotation.value)
            }
            AdmissionWarnings.current?.add(response.warnings)
            guard response.allowed else {
                let denial = AdmissionReview.denial(webhook: webhook.name, status: response.status)
                metrics.observeRejection(
                    webhook: webhook.name, phase: phase, operation: operation, kind: .none, code: denial.code)
                metrics.observe(
                    webhook: webhook.name, phase: phase, operation: operation, rejected: true, code: denial.code,
                    duration: elapsed)
                throw denial
            }
            metrics.observe(
                webhook: webhook.name, phase: phase, operation: operation, rejected: false, code: 200, duration: elapsed
            )
            return .answered(response)
        } catch let failure as WebhookCallFailure {
            let elapsed = ContinuousClock.now - started
            let reason = "failed calling webhook \"\(webhook.name)\": \(failure.message)"
            guard webhook.failurePolicy == .ignore else {
                metrics.observeRejection(
                    webhook: webhook.name, phase: phase, operation: operation, kind: .callingWebhook, code: 500)
                metrics.observe(
                    webhook: webhook.name, phase: phase, operation: operation, rejected: true, code: 500,
                    duration: elapsed)
                throw APIError(
                    code: 500, reason: .internalError, message: "Internal error occurred: \(reason)",
                    details: ["causes": [["message": .string(reason)]]])
            }
            metrics.observe(
                webhook: webhook.name, phase: phase, operation: operation, rejected: false, code: 500,
                duration: elapsed)
            metrics.observeFailOpen(webhook: webhook.name, phase: phase)
            AuditContext.current?.annotate("failed-open." + annotationKey, "true")
            return .ignored
        }
    }

    /// Where a webhook's calls go. A Service resolves to a ready endpoint of the named port when it has one,
    /// as upstream's endpoint resolver routes, else to its cluster IP; the certificate must name
    /// `<service>.<namespace>.svc` either way.
    func target(_ webhook: Webhook, context: RegistryContext) async throws(WebhookCallFailure) -> WebhookTarget {
        let timeout = "timeout=\(webhook.timeoutSeconds)s"
        switch webhook.endpoint {
        case .url(let text):
            guard let url = URLComponents(string: text), url.scheme == "https", let host = url.host, !host.isEmpty
            else {
                throw WebhookCallFailure(message: "failed to call webhook: invalid URL \"\(text)\"")
            }
            let query = (url.percentEncodedQuery.map { $0 + "&" } ?? "") + timeout
            let path = (url.percentEncodedPath.isEmpty ? "/" : url.percentEncodedPath) + "?" + query
            let port = url.port ?? 443
            let shown = "https://\(host)\(url.port.map { ":\($0)" } ?? "")\(path)"
            let isAddress = host.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" }
            return WebhookTarget(host: host, port: port, path: path, serverName: isAddress ? nil : host, url: shown)
        case .service(let namespace, let name, let port, let servicePath):
            let serverName = "\(name).\(namespace).svc"
            let path = (servicePath.isEmpty ? "/" : servicePath) + "?" + timeout
            let shown = "https://\(serverName):\(port)\(path)"
            let (host, targetPort) = try await resolve(
                namespace: namespace, name: name, port: port, shown: shown, context: context)
            return WebhookTarget(host: host, port: targetPort, path: path, serverName: serverName, url: shown)
        }
    }

    private func resolve(namespace: String, name: String, port: Int, shown: String, context: RegistryContext)
        async throws(WebhookCallFailure) -> (String, Int)
    {
        func failure(_ reason: String) -> WebhookCallFailure {
            WebhookCallFailure(message: "failed to call webhook: Post \"\(shown)\": \(reason)")
        }
        let service: JSON?
        let endpoints: JSON?
        do {
            service = try await services.objects(in: namespace, context: context).first { $0.name == name }
            endpoints = try await self.endpoints.objects(in: namespace, context: context).first { $0.name == name }
        } catch {
            throw failure("\(error)")
        }
        guard let service else { throw failure("service \"\(name)\" not found") }
        let servicePort = service["spec"]?["ports"]?.arrayValue?.first { $0["port"]?.intValue == Int64(port) }
        guard let servicePort else { throw failure("no service port \(port) found for service \"\(name)\"") }
        let portName = servicePort["name"]?.stringValue ?? ""
        for subset in endpoints?["subsets"]?.arrayValue ?? [] {
            guard let address = subset["addresses"]?.arrayValue?.first?["ip"]?.stringValue,
                let endpointPort = subset["ports"]?.arrayValue?.first(where: {
                    ($0["name"]?.stringValue ?? "") == portName
                })?["port"]?.intValue
            else { continue }
            return (address, Int(endpointPort))
        }
        guard let clusterIP = service["spec"]?["clusterIP"]?.stringValue, !clusterIP.isEmpty, clusterIP != "None"
        else { throw failure("service \"\(namespace)/\(name)\" has no ready endpoints and no cluster IP") }
        return (clusterIP, port)
    }
}
