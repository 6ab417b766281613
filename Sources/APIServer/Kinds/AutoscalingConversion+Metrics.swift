import APIMachinery

/// autoscaling/v1's metric shapes (kept only in annotations) ↔ autoscaling/v2's, field for field as upstream's
/// conversion functions map them. v1 quantities Go never omits are written as "0" when v2 has none.
enum V1Metrics {
    /// An object of the given fields in order, leaving out those that are nil.
    static func object(_ fields: KeyValuePairs<String, JSON?>) -> JSON {
        var result = JSONObject()
        for (key, value) in fields { if let value { result[key] = value } }
        return .object(result)
    }

    static func cpuMetric(target: JSON) -> JSON {
        ["type": "Resource", "resource": ["name": "cpu", "target": target]]
    }

    /// The metric v1's `targetCPUUtilizationPercentage` stands for.
    static func isCPUUtilization(_ metric: JSON) -> Bool {
        metric["type"]?.stringValue == "Resource" && metric["resource"]?["name"]?.stringValue == "cpu"
            && metric["resource"]?["target"]?["averageUtilization"] != nil
    }

    // MARK: specs

    static func specToV2(_ metric: JSON) -> JSON {
        let type = metric["type"] ?? ""
        switch type.stringValue {
        case "Resource", "ContainerResource":
            let field = type.stringValue == "Resource" ? "resource" : "containerResource"
            let source = metric[field]
            let utilization = source?["targetAverageUtilization"]
            let target = object([
                "type": .string(utilization == nil ? "AverageValue" : "Utilization"),
                "averageUtilization": utilization, "averageValue": source?["targetAverageValue"],
            ])
            return object([
                "type": type,
                field: object(["name": source?["name"], "container": source?["container"], "target": target]),
            ])
        case "Pods":
            let source = metric["pods"]
            return object([
                "type": type,
                "pods": object([
                    "metric": object(["name": source?["metricName"], "selector": source?["selector"]]),
                    "target": object(["type": "AverageValue", "averageValue": source?["targetAverageValue"]]),
                ]),
            ])
        case "Object":
            let source = metric["object"]
            let average = source?["averageValue"]
            return object([
                "type": type,
                "object": object([
                    "describedObject": source?["target"],
                    "metric": object(["name": source?["metricName"], "selector": source?["selector"]]),
                    "target": object([
                        "type": .string(average == nil ? "Value" : "AverageValue"), "value": source?["targetValue"],
                        "averageValue": average,
                    ]),
                ]),
            ])
        case "External":
            let source = metric["external"]
            let value = source?["targetValue"]
            return object([
                "type": type,
                "external": object([
                    "metric": object(["name": source?["metricName"], "selector": source?["metricSelector"]]),
                    "target": object([
                        "type": .string(value == nil ? "AverageValue" : "Value"), "value": value,
                        "averageValue": source?["targetAverageValue"],
                    ]),
                ]),
            ])
        default:
            return metric
        }
    }

    static func specFromV2(_ metric: JSON) -> JSON {
        let type = metric["type"] ?? ""
        switch type.stringValue {
        case "Resource", "ContainerResource":
            let field = type.stringValue == "Resource" ? "resource" : "containerResource"
            let source = metric[field]
            return object([
                "type": type,
                field: object([
                    "name": source?["name"], "targetAverageUtilization": source?["target"]?["averageUtilization"],
                    "targetAverageValue": source?["target"]?["averageValue"], "container": source?["container"],
                ]),
            ])
        case "Pods":
            let source = metric["pods"]
            return object([
                "type": type,
                "pods": object([
                    "metricName": source?["metric"]?["name"] ?? "",
                    "targetAverageValue": source?["target"]?["averageValue"] ?? "0",
                    "selector": source?["metric"]?["selector"],
                ]),
            ])
        case "Object":
            let source = metric["object"]
            return object([
                "type": type,
                "object": object([
                    "target": source?["describedObject"], "metricName": source?["metric"]?["name"] ?? "",
                    "targetValue": source?["target"]?["value"] ?? "0", "selector": source?["metric"]?["selector"],
                    "averageValue": source?["target"]?["averageValue"],
                ]),
            ])
        case "External":
            let source = metric["external"]
            return object([
                "type": type,
                "external": object([
                    "metricName": source?["metric"]?["name"] ?? "", "metricSelector": source?["metric"]?["selector"],
                    "targetValue": source?["target"]?["value"],
                    "targetAverageValue": source?["target"]?["averageValue"],
                ]),
            ])
        default:
            return metric
        }
    }

    // MARK: statuses

    static func statusToV2(_ metric: JSON) -> JSON {
        let type = metric["type"] ?? ""
        switch type.stringValue {
        case "Resource", "ContainerResource":
            let field = type.stringValue == "Resource" ? "resource" : "containerResource"
            let source = metric[field]
            return object([
                "type": type,
                field: object([
                    "name": source?["name"], "container": source?["container"],
                    "current": object([
                        "averageUtilization": source?["currentAverageUtilization"],
                        "averageValue": source?["currentAverageValue"],
                    ]),
                ]),
            ])
        case "Pods":
            let source = metric["pods"]
            return object([
                "type": type,
                "pods": object([
                    "metric": object(["name": source?["metricName"], "selector": source?["selector"]]),
                    "current": object(["averageValue": source?["currentAverageValue"]]),
                ]),
            ])
        case "Object":
            let source = metric["object"]
            return object([
                "type": type,
                "object": object([
                    "describedObject": source?["target"],
                    "metric": object(["name": source?["metricName"], "selector": source?["selector"]]),
                    "current": object(["value": source?["currentValue"], "averageValue": source?["averageValue"]]),
                ]),
            ])
        case "External":
            let source = metric["external"]
            return object([
                "type": type,
                "external": object([
                    "metric": object(["name": source?["metricName"], "selector": source?["metricSelector"]]),
                    "current": object([
                        "value": source?["currentValue"], "averageValue": source?["currentAverageValue"],
                    ]),
                ]),
            ])
        default:
            return metric
        }
    }

    static func statusFromV2(_ metric: JSON) -> JSON {
        let type = metric["type"] ?? ""
        switch type.stringValue {
        case "Resource", "ContainerResource":
            let field = type.stringValue == "Resource" ? "resource" : "containerResource"
            let source = metric[field]
            return object([
                "type": type,
                field: object([
                    "name": source?["name"], "currentAverageUtilization": source?["current"]?["averageUtilization"],
                    "currentAverageValue": source?["current"]?["averageValue"] ?? "0",
                    "container": source?["container"],
                ]),
            ])
        case "Pods":
            let source = metric["pods"]
            return object([
                "type": type,
                "pods": object([
                    "metricName": source?["metric"]?["name"] ?? "",
                    "currentAverageValue": source?["current"]?["averageValue"] ?? "0",
                    "selector": source?["metric"]?["selector"],
                ]),
            ])
        case "Object":
            let source = metric["object"]
            return object([
                "type": type,
                "object": object([
                    "target": source?["describedObject"], "metricName": source?["metric"]?["name"] ?? "",
                    "currentValue": source?["current"]?["value"] ?? "0", "selector": source?["metric"]?["selector"],
                    "averageValue": source?["current"]?["averageValue"],
                ]),
            ])
        case "External":
            let source = metric["external"]
            return object([
                "type": type,
                "external": object([
                    "metricName": source?["metric"]?["name"] ?? "", "metricSelector": source?["metric"]?["selector"],
                    "currentValue": source?["current"]?["value"] ?? "0",
                    "currentAverageValue": source?["current"]?["averageValue"],
                ]),
            ])
        default:
            return metric
        }
    }

    // MARK: behavior

    /// v2's behavior as upstream writes it into the annotation: its internal Go type marshalled without JSON
    /// names, so every field is capitalised and unset pointers are null.
    static func behaviorToInternal(_ behavior: JSON) -> JSON {
        func rules(_ value: JSON?) -> JSON {
            guard let value, value.objectValue != nil else { return .null }
            let policies = value["policies"]?.arrayValue.map { list in
                JSON.array(
                    list.map {
                        [
                            "Type": $0["type"] ?? "", "Value": $0["value"] ?? 0,
                            "PeriodSeconds": $0["periodSeconds"] ?? 0,
                        ]
                    })
            }
            return [
                "StabilizationWindowSeconds": value["stabilizationWindowSeconds"] ?? .null,
                "SelectPolicy": value["selectPolicy"] ?? .null, "Policies": policies ?? .null,
            ]
        }
        return ["ScaleUp": rules(behavior["scaleUp"]), "ScaleDown": rules(behavior["scaleDown"])]
    }

    /// The annotation's behavior read back as Go reads it (field names matched without regard to case, nulls
    /// left unset), in v2's JSON names.
    static func behaviorFromInternal(_ behavior: JSON) -> JSON {
        switch behavior {
        case .object(let fields):
            var result = JSONObject()
            for entry in fields.entries where entry.value != .null {
                let key = entry.key.prefix(1).lowercased() + entry.key.dropFirst()
                result[key] = behaviorFromInternal(entry.value)
            }
            return .object(result)
        case .array(let items):
            return .array(items.map(behaviorFromInternal))
        default:
            return behavior
        }
    }
}
