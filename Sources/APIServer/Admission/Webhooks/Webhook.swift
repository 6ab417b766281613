import APIMachinery
import Foundation

/// One webhook of a Mutating- or ValidatingWebhookConfiguration, read once from the stored (defaulted and
/// validated) configuration when the cache sees it change, so a request only matches and calls.
struct Webhook: Sendable, Equatable {
    /// Where the AdmissionReview goes: a URL, or a Service the server resolves on each call.
    enum Endpoint: Sendable, Equatable {
        case url(String)
        case service(namespace: String, name: String, port: Int, path: String)
    }

    enum FailurePolicy: String, Sendable {
        case fail = "Fail"
        case ignore = "Ignore"
    }

    enum MatchPolicy: String, Sendable {
        case exact = "Exact"
        case equivalent = "Equivalent"
    }

    /// The webhook's own name (`deny.example.com`), which errors and metrics name.
    var name: String
    /// The configuration holding it; with `index`, a stable identity for reinvocation.
    var configurationName: String
    var index: Int
    var endpoint: Endpoint
    /// PEM roots for the webhook's serving certificate; nil trusts the system roots.
    var caBundle: [UInt8]?
    var rules: [WebhookRule]
    var failurePolicy: FailurePolicy
    var matchPolicy: MatchPolicy
    var namespaceSelector: LabelSelector
    var objectSelector: LabelSelector
    /// `None` and `NoneOnDryRun` may be called on dry runs; any other value refuses them.
    var sideEffects: String
    var timeoutSeconds: Int
    /// The first version of `admissionReviewVersions` this server speaks (`v1` or `v1beta1`).
    var reviewVersion: String
    /// Mutating webhooks only: `IfNeeded` asks to be called again when a later webhook changed the object.
    var reinvokeIfNeeded: Bool
    /// Evaluated after the rules and selectors match: any false skips the call.
    var matchConditions: MatchConditions

    /// Whether the webhook may be called for a dry-run request.
    var allowsDryRun: Bool { sideEffects == "None" || sideEffects == "NoneOnDryRun" }

    /// Reads `configuration`'s webhooks; a webhook whose selectors cannot be parsed is kept with a selector
    /// that matches nothing, so it is never silently called too widely.
    static func parse(configuration: JSON) -> [Webhook] {
        let configurationName = configuration.name ?? ""
        var webhooks: [Webhook] = []
        for (index, item) in (configuration["webhooks"]?.arrayValue ?? []).enumerated() {
            guard let name = item["name"]?.stringValue, let endpoint = endpoint(item["clientConfig"]) else { continue }
            let versions = (item["admissionReviewVersions"]?.arrayValue ?? []).compactMap(\.stringValue)
            guard let reviewVersion = versions.first(where: { $0 == "v1" || $0 == "v1beta1" }) else { continue }
            let timeout = Int(item["timeoutSeconds"]?.intValue ?? 10)
            webhooks.append(
                Webhook(
                    name: name, configurationName: configurationName, index: index, endpoint: endpoint,
                    caBundle: item["clientConfig"]?["caBundle"]?.stringValue.flatMap(Base64.decode),
                    rules: (item["rules"]?.arrayValue ?? []).map(WebhookRule.init(json:)),
                    failurePolicy: FailurePolicy(rawValue: item["failurePolicy"]?.stringValue ?? "") ?? .fail,
                    matchPolicy: MatchPolicy(rawValue: item["matchPolicy"]?.stringValue ?? "") ?? .equivalent,
                    namespaceSelector: selector(item["namespaceSelector"]),
                    objectSelector: selector(item["objectSelector"]),
                    sideEffects: item["sideEffects"]?.stringValue ?? "Unknown",
                    timeoutSeconds: min(max(timeout, 1), 30), reviewVersion: reviewVersion,
                    reinvokeIfNeeded: item["reinvocationPolicy"]?.stringValue == "IfNeeded",
                    matchConditions: MatchConditions(
                        json: item["matchConditions"], variables: CELAdmission.webhookVariables)))
        }
        return webhooks
    }

    private static func endpoint(_ client: JSON?) -> Endpoint? {
        if let url = client?["url"]?.stringValue { return .url(url) }
        guard let service = client?["service"], let namespace = service["namespace"]?.stringValue,
            let name = service["name"]?.stringValue
        else { return nil }
        return .service(
            namespace: namespace, name: name, port: Int(service["port"]?.intValue ?? 443),
            path: service["path"]?.stringValue ?? "")
    }

    private static func selector(_ json: JSON?) -> LabelSelector {
        guard let json, json != .null else { return .everything }
        // `In` with no values matches nothing, whatever the labels.
        return (try? LabelSelector(object: json)) ?? LabelSelector(requirements: [.in("", [])])
    }
}

/// One entry of a webhook's `rules`: operations × apiGroups × apiVersions × resources, within a scope.
struct WebhookRule: Sendable, Equatable {
    var operations: [String]
    var apiGroups: [String]
    var apiVersions: [String]
    var resources: [String]
    /// `*`, `Cluster` or `Namespaced`.
    var scope: String

    init(operations: [String], apiGroups: [String], apiVersions: [String], resources: [String], scope: String = "*") {
        self.operations = operations
        self.apiGroups = apiGroups
        self.apiVersions = apiVersions
        self.resources = resources
        self.scope = scope
    }

    init(json: JSON) {
        func strings(_ field: String) -> [String] { json[field]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        self.init(
            operations: strings("operations"), apiGroups: strings("apiGroups"), apiVersions: strings("apiVersions"),
            resources: strings("resources"), scope: json["scope"]?.stringValue ?? "*")
    }
}

/// Standard base64 with padding, as `[]byte` fields travel in Kubernetes JSON.
enum Base64 {
    static func decode(_ text: String) -> [UInt8]? {
        Data(base64Encoded: text).map { Array($0) }
    }

    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
    }
}
