import APIMachinery

/// autoscaling/v1 HorizontalPodAutoscaler ↔ the stored autoscaling/v2 one, as upstream converts them: v1's
/// `targetCPUUtilizationPercentage` is v2's CPU utilization metric, and what v1 cannot say (other metrics,
/// current metrics, conditions, behavior) rides in the `autoscaling.alpha.kubernetes.io/*` annotations, so a
/// v1 read-modify-write keeps it. A v1 object naming no metric gets upstream's implicit 80% CPU target.
struct AutoscalingConversion: VersionConversion {
    static let metricsAnnotation = "autoscaling.alpha.kubernetes.io/metrics"
    static let currentMetricsAnnotation = "autoscaling.alpha.kubernetes.io/current-metrics"
    static let conditionsAnnotation = "autoscaling.alpha.kubernetes.io/conditions"
    static let behaviorAnnotation = "autoscaling.alpha.kubernetes.io/behavior"
    static let roundTripAnnotations = [
        metricsAnnotation, currentMetricsAnnotation, conditionsAnnotation, behaviorAnnotation,
    ]

    var storageKind: GroupVersionKind {
        GroupVersionKind(group: "autoscaling", version: "v2", kind: "HorizontalPodAutoscaler")
    }

    func storageFieldLabel(_ label: String) throws(APIError) -> String { try metadataFieldLabel(label) }

    func toStorage(_ object: JSON) -> JSON {
        var stored = object
        stored["apiVersion"] = "autoscaling/v2"
        let annotations = object["metadata"]?["annotations"]?.objectValue ?? JSONObject()
        func annotation(_ key: String) -> JSON? {
            annotations[key]?.stringValue.flatMap { try? JSON.parse(Array($0.utf8)) }
        }

        if var spec = object["spec"], spec.objectValue != nil {
            var metrics = (annotation(Self.metricsAnnotation)?.arrayValue ?? []).map(V1Metrics.specToV2)
            if let cpu = spec["targetCPUUtilizationPercentage"] {
                metrics.append(V1Metrics.cpuMetric(target: ["type": "Utilization", "averageUtilization": cpu]))
            }
            if metrics.isEmpty {
                metrics = [HorizontalPodAutoscalerStrategy.cpuMetric]
            }
            spec["targetCPUUtilizationPercentage"] = nil
            spec["metrics"] = .array(metrics)
            if let behavior = annotation(Self.behaviorAnnotation).map(V1Metrics.behaviorFromInternal),
                behavior.objectValue?.isEmpty == false
            {
                spec["behavior"] = behavior
            }
            stored["spec"] = spec
        }
        if var status = object["status"], status.objectValue != nil {
            let current = status["currentCPUUtilizationPercentage"]
            status["currentCPUUtilizationPercentage"] = nil
            if let saved = annotation(Self.currentMetricsAnnotation)?.arrayValue {
                status["currentMetrics"] = .array(saved.map(V1Metrics.statusToV2))
            } else if let current {
                status["currentMetrics"] = [
                    ["type": "Resource", "resource": ["name": "cpu", "current": ["averageUtilization": current]]]
                ]
            }
            if let conditions = annotation(Self.conditionsAnnotation)?.arrayValue {
                status["conditions"] = .array(conditions)
            }
            stored["status"] = status
        }
        stored.setMeta("annotations", Self.withoutRoundTrip(annotations))
        return stored
    }

    func fromStorage(_ object: JSON) -> JSON {
        var served = object
        served["apiVersion"] = "autoscaling/v1"
        var annotations =
            Self.withoutRoundTrip(object["metadata"]?["annotations"]?.objectValue ?? JSONObject())?.objectValue
            ?? JSONObject()
        if var spec = object["spec"], spec.objectValue != nil {
            let metrics = spec["metrics"]?.arrayValue ?? []
            let cpu = metrics.first(where: V1Metrics.isCPUUtilization)
            let others = metrics.filter { !V1Metrics.isCPUUtilization($0) }
            if !others.isEmpty {
                annotations[Self.metricsAnnotation] = .string(JSON.array(others.map(V1Metrics.specFromV2)).jsonString)
            }
            if let behavior = spec["behavior"] {
                annotations[Self.behaviorAnnotation] = .string(V1Metrics.behaviorToInternal(behavior).jsonString)
            }
            spec["metrics"] = nil
            spec["behavior"] = nil
            spec["targetCPUUtilizationPercentage"] = cpu?["resource"]?["target"]?["averageUtilization"]
            served["spec"] = spec
        }
        if var status = object["status"], status.objectValue != nil {
            let current = status["currentMetrics"]?.arrayValue ?? []
            if !current.isEmpty {
                annotations[Self.currentMetricsAnnotation] = .string(
                    JSON.array(current.map(V1Metrics.statusFromV2)).jsonString)
            }
            if let conditions = status["conditions"]?.arrayValue, !conditions.isEmpty {
                annotations[Self.conditionsAnnotation] = .string(JSON.array(conditions).jsonString)
            }
            let cpu = current.first {
                $0["type"]?.stringValue == "Resource" && $0["resource"]?["name"]?.stringValue == "cpu"
            }
            status["currentCPUUtilizationPercentage"] = cpu?["resource"]?["current"]?["averageUtilization"]
            status["currentMetrics"] = nil
            status["conditions"] = nil
            served["status"] = status
        }
        served.setMeta("annotations", annotations.isEmpty ? nil : .object(annotations))
        return served
    }

    /// Annotations with the round-trip ones removed; nil when none are left.
    static func withoutRoundTrip(_ annotations: JSONObject) -> JSON? {
        var kept = annotations
        for key in roundTripAnnotations { kept[key] = nil }
        return kept.isEmpty ? nil : .object(kept)
    }
}
