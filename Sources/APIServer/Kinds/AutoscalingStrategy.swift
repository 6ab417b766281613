import APIMachinery

/// autoscaling HorizontalPodAutoscalers, stored as autoscaling/v2 (autoscaling/v1 is served through
/// `AutoscalingConversion`): defaults as upstream's v2 defaults (one replica at least, 80% CPU when no metric
/// is named, scaling rules filled in once `behavior` is given), status written by the controller.
struct HorizontalPodAutoscalerStrategy: Strategy {
    /// Upstream's `DefaultCPUUtilization`.
    static let defaultCPUUtilization: Int64 = 80

    static let cpuMetric: JSON = [
        "type": "Resource",
        "resource": [
            "name": "cpu", "target": ["type": "Utilization", "averageUtilization": .int(defaultCPUUtilization)],
        ],
    ]
    static let scaleUpRules: JSON = [
        "stabilizationWindowSeconds": 0, "selectPolicy": "Max",
        "policies": [
            ["type": "Pods", "value": 4, "periodSeconds": 15], ["type": "Percent", "value": 100, "periodSeconds": 15],
        ],
    ]
    static let scaleDownRules: JSON = [
        "selectPolicy": "Max", "policies": [["type": "Percent", "value": 100, "periodSeconds": 15]],
    ]

    var tracksGeneration: Bool { true }
    /// Upstream's HPA strategy clears status but never sets a generation.
    var generation: GenerationRule { .untracked }

    func applyDefaults(_ object: inout JSON) {
        guard var spec = object["spec"], spec.objectValue != nil else { return }
        if spec["minReplicas"] == nil { spec["minReplicas"] = 1 }
        if (spec["metrics"]?.arrayValue ?? []).isEmpty { spec["metrics"] = [Self.cpuMetric] }
        if var behavior = spec["behavior"], behavior.objectValue != nil {
            behavior["scaleUp"] = Self.filled(behavior["scaleUp"], from: Self.scaleUpRules)
            behavior["scaleDown"] = Self.filled(behavior["scaleDown"], from: Self.scaleDownRules)
            spec["behavior"] = behavior
        }
        object["spec"] = spec
    }

    /// Scaling rules with every unset field taken from `defaults`, as upstream's GenerateHPAScale*Rules.
    static func filled(_ rules: JSON?, from defaults: JSON) -> JSON {
        guard var rules, rules.objectValue != nil else { return defaults }
        for field in ["stabilizationWindowSeconds", "selectPolicy", "policies"] where rules[field] == nil {
            rules[field] = defaults[field]
        }
        return rules
    }

    func validate(_ object: JSON) -> [FieldError] {
        let spec = object["spec"]
        var errors: [FieldError] = []
        let reference = spec?["scaleTargetRef"]
        for field in ["kind", "name"] where (reference?[field]?.stringValue ?? "").isEmpty {
            errors.append(.required("spec.scaleTargetRef.\(field)", ""))
        }
        let minReplicas = spec?["minReplicas"]?.intValue ?? 1
        if minReplicas < 1 {
            errors.append(.invalid("spec.minReplicas", .int(minReplicas), "must be greater than or equal to 1"))
        }
        let maxReplicas = spec?["maxReplicas"]?.intValue ?? 0
        if maxReplicas < 1 {
            errors.append(.invalid("spec.maxReplicas", .int(maxReplicas), "must be greater than 0"))
        }
        if maxReplicas < minReplicas {
            errors.append(
                .invalid("spec.maxReplicas", .int(maxReplicas), "must be greater than or equal to `minReplicas`"))
        }
        for (index, metric) in (spec?["metrics"]?.arrayValue ?? []).enumerated() {
            let path = "spec.metrics[\(index)]"
            let type = metric["type"]?.stringValue ?? ""
            guard let source = Self.sourceField[type] else {
                errors.append(
                    type.isEmpty
                        ? .required("\(path).type", "")
                        : .notSupported("\(path).type", .string(type), Self.sourceField.keys.sorted()))
                continue
            }
            guard let target = metric[source]?["target"] else {
                errors.append(.required("\(path).\(source)", "must populate information for the given metric source"))
                continue
            }
            if let utilization = target["averageUtilization"]?.intValue, utilization <= 0 {
                errors.append(
                    .invalid("\(path).\(source).target.averageUtilization", .int(utilization), "must be greater than 0")
                )
            }
        }
        return errors
    }

    /// Where each metric type keeps its source.
    static let sourceField = [
        "ContainerResource": "containerResource", "External": "external", "Object": "object", "Pods": "pods",
        "Resource": "resource",
    ]

    var columns: [Table.Column] {
        [
            .name, Table.Column("Reference"), Table.Column("Targets"), Table.Column("MinPods"),
            Table.Column("MaxPods"), Table.Column("Replicas"), .age,
        ]
    }

    func cells(_ object: JSON) -> [JSON] {
        let spec = object["spec"]
        let reference =
            "\(spec?["scaleTargetRef"]?["kind"]?.stringValue ?? "")/\(spec?["scaleTargetRef"]?["name"]?.stringValue ?? "")"
        return [
            Cells.name(object), .string(reference),
            .string(
                Self.targets(spec?["metrics"]?.arrayValue ?? [], object["status"]?["currentMetrics"]?.arrayValue ?? [])),
            .string(spec?["minReplicas"]?.intValue.map(String.init) ?? "<unset>"), Cells.int(spec?["maxReplicas"]),
            Cells.int(object["status"]?["currentReplicas"]), Cells.age(object),
        ]
    }

    /// Upstream's Targets cell: the first two metrics as `current/target`, then how many more.
    static func targets(_ specs: [JSON], _ statuses: [JSON]) -> String {
        if specs.isEmpty { return "<none>" }
        let texts = specs.enumerated().map { index, spec in
            target(spec, status: index < statuses.count ? statuses[index] : nil)
        }
        let shown = texts.prefix(2).joined(separator: ", ")
        return texts.count > 2 ? "\(shown) + \(texts.count - 2) more..." : shown
    }

    static func target(_ spec: JSON, status: JSON?) -> String {
        func text(_ value: JSON?) -> String {
            value?.stringValue ?? value?.intValue.map(String.init) ?? "<unknown>"
        }
        let type = spec["type"]?.stringValue ?? ""
        guard let field = sourceField[type], let source = spec[field] else { return "<unknown type>" }
        let target = source["target"]
        let current = status?[field]?["current"]
        switch type {
        case "External", "Object":
            if let average = target?["averageValue"] {
                return "\(text(current?["averageValue"]))/\(text(average)) (avg)"
            }
            return "\(status?[field] == nil ? "<unknown>" : text(current?["value"]))/\(text(target?["value"]))"
        case "Pods":
            return "\(text(current?["averageValue"]))/\(text(target?["averageValue"]))"
        default:
            let name = source["name"]?.stringValue ?? ""
            if let average = target?["averageValue"] {
                return "\(name): \(text(current?["averageValue"]))/\(text(average))"
            }
            let now = current?["averageUtilization"]?.intValue.map { "\($0)%" } ?? "<unknown>"
            let goal = target?["averageUtilization"]?.intValue.map { "\($0)%" } ?? "<auto>"
            return "\(name): \(now)/\(goal)"
        }
    }
}
