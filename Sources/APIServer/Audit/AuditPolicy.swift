import APIMachinery
import Foundation
import Operations

/// How much of a request an audit event records (audit.k8s.io/v1 `Level`), in increasing order.
public enum AuditLevel: String, Sendable, Comparable, CaseIterable {
    case none = "None"
    case metadata = "Metadata"
    case request = "Request"
    case requestResponse = "RequestResponse"

    private var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }
    public static func < (lhs: AuditLevel, rhs: AuditLevel) -> Bool { lhs.rank < rhs.rank }
}

/// The points in a request's life at which an event is written (audit.k8s.io/v1 `Stage`).
public enum AuditStage: String, Sendable, CaseIterable {
    case requestReceived = "RequestReceived"
    case responseStarted = "ResponseStarted"
    case responseComplete = "ResponseComplete"
    case panic = "Panic"
}

/// An audit.k8s.io/v1 `Policy`: the first rule that matches a request decides its level.
public struct AuditPolicy: Sendable, Equatable {
    /// One `GroupResources` entry of a rule.
    public struct GroupResources: Sendable, Equatable {
        public var group = ""
        /// Resource names, `*`, `resource/subresource`, `*/subresource` or `resource/*`.
        public var resources: [String] = []
        public var resourceNames: [String] = []
        public init(group: String = "", resources: [String] = [], resourceNames: [String] = []) {
            self.group = group
            self.resources = resources
            self.resourceNames = resourceNames
        }
    }

    /// One `PolicyRule`; an empty list matches everything for that attribute.
    public struct Rule: Sendable, Equatable {
        public var level: AuditLevel
        public var users: [String] = []
        public var userGroups: [String] = []
        public var verbs: [String] = []
        public var resources: [GroupResources] = []
        /// `""` matches cluster-scoped resources.
        public var namespaces: [String] = []
        public var nonResourceURLs: [String] = []
        public var omitStages: [AuditStage] = []
        /// Nil inherits the policy's setting.
        public var omitManagedFields: Bool?
        public init(level: AuditLevel) { self.level = level }
    }

    public var rules: [Rule]
    public var omitStages: [AuditStage] = []
    public var omitManagedFields = false

    public init(rules: [Rule], omitStages: [AuditStage] = [], omitManagedFields: Bool = false) {
        self.rules = rules
        self.omitStages = omitStages
        self.omitManagedFields = omitManagedFields
    }

    /// What the issue asks for when `--audit-log-path` is set without `--audit-policy-file`.
    public static let metadataForEverything = AuditPolicy(rules: [Rule(level: .metadata)])
}

/// A policy file that cannot be used; the message follows upstream's `loading audit policy file: …`.
public struct AuditPolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

extension AuditPolicy {
    /// Reads `--audit-policy-file` (YAML or JSON) and validates it as upstream's policy reader does.
    public static func load(file path: String) throws(AuditPolicyError) -> AuditPolicy {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AuditPolicyError(
                message: "loading audit policy file: failed to read file path \"\(path)\": "
                    + "open \(path): no such file or directory")
        }
        do {
            return try parse(Array(data))
        } catch {
            throw AuditPolicyError(message: "loading audit policy file: \(error.message): from file \(path)")
        }
    }

    /// Decodes and validates a policy document.
    public static func parse(_ bytes: [UInt8]) throws(AuditPolicyError) -> AuditPolicy {
        let document = try decodeDocument(bytes)
        guard case .object(let fields) = document else {
            throw AuditPolicyError(message: "failed decoding: the policy must be an object")
        }
        let apiVersion = fields["apiVersion"]?.stringValue ?? ""
        let kind = fields["kind"]?.stringValue ?? ""
        for (field, value) in [("Kind", kind), ("apiVersion", apiVersion)] where value.isEmpty {
            throw AuditPolicyError(
                message: "failed decoding: Object '\(field)' is missing in '\(String(decoding: bytes, as: UTF8.self))'")
        }
        guard apiVersion == "audit.k8s.io/v1", kind == "Policy" else {
            throw AuditPolicyError(
                message: "failed decoding: no kind \"\(kind)\" is registered for version \"\(apiVersion)\"")
        }
        var errors: [FieldError] = []
        var policy = AuditPolicy(rules: [])
        policy.omitStages = stages(fields["omitStages"], at: "omitStages", errors: &errors)
        policy.omitManagedFields = fields["omitManagedFields"]?.boolValue ?? false
        for (index, value) in (fields["rules"]?.arrayValue ?? []).enumerated() {
            policy.rules.append(rule(value, at: "rules[\(index)]", errors: &errors))
        }
        if !errors.isEmpty {
            let rendered = errors.map(\.description)
            throw AuditPolicyError(
                message: rendered.count == 1 ? rendered[0] : "[" + rendered.joined(separator: ", ") + "]")
        }
        guard !policy.rules.isEmpty else {
            throw AuditPolicyError(message: "loaded illegal policy with 0 rules")
        }
        return policy
    }

    /// JSON when the text is JSON, YAML otherwise.
    static func decodeDocument(_ bytes: [UInt8]) throws(AuditPolicyError) -> JSON {
        do {
            return try YAMLDocument.decode(bytes) ?? .null
        } catch {
            throw AuditPolicyError(message: "failed decoding: \(error)")
        }
    }

    private static func strings(_ value: JSON?) -> [String] {
        (value?.arrayValue ?? []).map { $0.stringValue ?? $0.jsonString }
    }

    private static func stages(_ value: JSON?, at path: String, errors: inout [FieldError]) -> [AuditStage] {
        var result: [AuditStage] = []
        for (index, text) in strings(value).enumerated() {
            if let stage = AuditStage(rawValue: text) {
                result.append(stage)
            } else {
                errors.append(
                    .invalid(
                        "\(path)[\(index)]", .string(text),
                        "allowed stages are " + AuditStage.allCases.map(\.rawValue).joined(separator: ",")))
            }
        }
        return result
    }

    private static func rule(_ value: JSON, at path: String, errors: inout [FieldError]) -> Rule {
        let levelText = value["level"]?.stringValue ?? ""
        var rule = Rule(level: AuditLevel(rawValue: levelText) ?? .none)
        if levelText.isEmpty {
            errors.append(.required(path + ".level"))
        } else if AuditLevel(rawValue: levelText) == nil {
            errors.append(.notSupported(path + ".level", .string(levelText), AuditLevel.allCases.map(\.rawValue)))
        }
        rule.users = strings(value["users"])
        rule.userGroups = strings(value["userGroups"])
        rule.verbs = strings(value["verbs"])
        rule.namespaces = strings(value["namespaces"])
        rule.nonResourceURLs = strings(value["nonResourceURLs"])
        rule.omitManagedFields = value["omitManagedFields"]?.boolValue
        for (index, url) in rule.nonResourceURLs.enumerated() where url != "*" {
            let field = "\(path).nonResourceURLs[\(index)]"
            if !url.hasPrefix("/") {
                errors.append(.invalid(field, .string(url), "non-resource URL rules must begin with a '/' character"))
            }
            if !url.isEmpty, url.dropLast().contains("*") {
                errors.append(
                    .invalid(
                        field, .string(url), "non-resource URL wildcards '*' must be the final character of the rule"))
            }
        }
        for entry in value["resources"]?.arrayValue ?? [] {
            let resources = GroupResources(
                group: entry["group"]?.stringValue ?? "", resources: strings(entry["resources"]),
                resourceNames: strings(entry["resourceNames"]))
            if !resources.group.isEmpty {
                let problems = NameValidation.dns1123Subdomain(resources.group)
                if !problems.isEmpty {
                    errors.append(
                        .invalid(path + ".resources.group", .string(resources.group), problems.joined(separator: ",")))
                }
            }
            if !resources.resourceNames.isEmpty, resources.resources.isEmpty {
                errors.append(
                    .invalid(
                        path + ".resources.resourceNames", .array(resources.resourceNames.map(JSON.string)),
                        "using resourceNames requires at least one resource"))
            }
            rule.resources.append(resources)
        }
        rule.omitStages = stages(value["omitStages"], at: path + ".omitStages", errors: &errors)
        if !rule.nonResourceURLs.isEmpty, !rule.resources.isEmpty || !rule.namespaces.isEmpty {
            errors.append(
                .invalid(
                    path + ".nonResourceURLs", .array(rule.nonResourceURLs.map(JSON.string)),
                    "rules cannot apply to both regular resources and non-resource URLs"))
        }
        return rule
    }
}
