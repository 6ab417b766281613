import APIMachinery
import Foundation

/// Deployments, ReplicaSets, StatefulSets, DaemonSets, ReplicationControllers, Jobs and CronJobs share
/// one shape: a selector, a pod template, and a status written by controllers.
struct WorkloadStrategy: Strategy {
    /// Which workload this is; it decides defaults and table columns.
    enum Kind: Sendable {
        case deployment, replicaSet, statefulSet, daemonSet, replicationController, job, cronJob
    }

    let kind: Kind

    /// ReplicationControllers orphan their pods unless told otherwise, as upstream keeps v1's old default.
    var defaultGarbageCollectionPolicy: String? { kind == .replicationController ? "Orphan" : nil }

    var tracksGeneration: Bool { true }

    /// The pod template's path inside the object's spec.
    var templatePath: [String] {
        kind == .cronJob ? ["spec", "jobTemplate", "spec", "template"] : ["spec", "template"]
    }

    func prepareForCreate(_ object: inout JSON) {
        object["status"] = nil
        if kind == .daemonSet { Self.setTemplateGeneration(&object, 1) }
        guard kind == .job, object["spec"]?["manualSelector"]?.boolValue != true, let uid = object.uid else { return }
        // Upstream's generated selector: the job's pods are found by its uid, never by labels a user chose.
        let name = JSON.string(object.name ?? "")
        if object["spec"]?["selector"] == nil {
            object.set(["spec", "selector"], to: ["matchLabels": ["batch.kubernetes.io/controller-uid": .string(uid)]])
        }
        var labels = object[path: templatePath + ["metadata", "labels"]]?.objectValue ?? JSONObject()
        for (key, value) in [
            ("batch.kubernetes.io/controller-uid", JSON.string(uid)), ("batch.kubernetes.io/job-name", name),
            ("controller-uid", JSON.string(uid)), ("job-name", name),
        ] where labels[key] == nil {
            labels[key] = value
        }
        object.set(templatePath + ["metadata", "labels"], to: .object(labels))
    }

    /// The annotation apps/v1 DaemonSets carry their template generation in.
    static let templateGenerationAnnotation = "deprecated.daemonset.template.generation"

    static func setTemplateGeneration(_ object: inout JSON, _ generation: Int64) {
        var annotations = object["metadata"]?["annotations"]?.objectValue ?? JSONObject()
        annotations[templateGenerationAnnotation] = .string(String(generation))
        object.setMeta("annotations", .object(annotations))
    }

    func prepareForUpdate(_ object: inout JSON, old: JSON) {
        object["status"] = old["status"]
        guard kind == .daemonSet else { return }
        // Clients may not set the template generation; it moves when the template, as defaulted, changes.
        let annotation = old[path: "metadata", "annotations", Self.templateGenerationAnnotation]?.stringValue
        let previous = annotation.flatMap { Int64($0) } ?? 0
        var defaulted = object
        applyDefaults(&defaulted)
        let changed = defaulted[path: templatePath] != old[path: templatePath]
        Self.setTemplateGeneration(&object, changed ? previous + 1 : previous)
    }

    /// Upstream's defaulting of a workload's update strategy, field by field, so a client's `strategy: {}` (as
    /// `kubectl create deployment` sends) is filled in as well as an absent one: an empty type becomes
    /// RollingUpdate, and a RollingUpdate strategy gets its `rollingUpdate` block and each missing parameter.
    /// StatefulSets make the block only when the type was empty (upstream's `onlyIfTypeWasEmpty` case): an
    /// explicit RollingUpdate without one keeps none.
    static func defaultUpdateStrategy(
        _ spec: inout JSON, field: String, rollingUpdate defaults: JSONObject, onlyIfTypeWasEmpty: Bool = false
    ) {
        var strategy = spec[field]?.objectValue ?? JSONObject()
        let typeWasEmpty = (strategy["type"]?.stringValue ?? "").isEmpty
        if typeWasEmpty { strategy["type"] = "RollingUpdate" }
        if strategy["type"]?.stringValue == "RollingUpdate" {
            if strategy["rollingUpdate"] == nil || strategy["rollingUpdate"]?.isNull == true {
                if !onlyIfTypeWasEmpty || typeWasEmpty { strategy["rollingUpdate"] = .object(JSONObject()) }
            }
            if var parameters = strategy["rollingUpdate"]?.objectValue {
                for (key, value) in defaults where parameters[key] == nil { parameters[key] = value }
                strategy["rollingUpdate"] = .object(parameters)
            }
        }
        spec[field] = .object(strategy)
    }

    func applyDefaults(_ object: inout JSON) {
        guard var spec = object["spec"], spec.objectValue != nil else { return }
        switch kind {
        case .deployment:
            if spec["replicas"] == nil { spec["replicas"] = 1 }
            Self.defaultUpdateStrategy(
                &spec, field: "strategy", rollingUpdate: ["maxUnavailable": "25%", "maxSurge": "25%"])
            if spec["revisionHistoryLimit"] == nil { spec["revisionHistoryLimit"] = 10 }
            if spec["progressDeadlineSeconds"] == nil { spec["progressDeadlineSeconds"] = 600 }
        case .replicaSet, .replicationController:
            if spec["replicas"] == nil { spec["replicas"] = 1 }
        case .statefulSet:
            if spec["replicas"] == nil { spec["replicas"] = 1 }
            if spec["podManagementPolicy"] == nil { spec["podManagementPolicy"] = "OrderedReady" }
            Self.defaultUpdateStrategy(
                &spec, field: "updateStrategy", rollingUpdate: ["partition": 0], onlyIfTypeWasEmpty: true)
            if spec["revisionHistoryLimit"] == nil { spec["revisionHistoryLimit"] = 10 }
            if spec["persistentVolumeClaimRetentionPolicy"] == nil {
                spec["persistentVolumeClaimRetentionPolicy"] = .object(JSONObject())
            }
            for field in ["whenDeleted", "whenScaled"]
            where spec["persistentVolumeClaimRetentionPolicy"]?[field] == nil {
                spec["persistentVolumeClaimRetentionPolicy"]?[field] = "Retain"
            }
            Self.defaultClaimTemplates(&spec)
        case .daemonSet:
            Self.defaultUpdateStrategy(
                &spec, field: "updateStrategy", rollingUpdate: ["maxUnavailable": 1, "maxSurge": 0])
            if spec["revisionHistoryLimit"] == nil { spec["revisionHistoryLimit"] = 10 }
        case .job:
            // A job given neither runs one pod to one completion; one given parallelism alone keeps no completions.
            if spec["completions"] == nil, spec["parallelism"] == nil { spec["completions"] = 1 }
            if spec["parallelism"] == nil { spec["parallelism"] = 1 }
            if spec["backoffLimit"] == nil { spec["backoffLimit"] = 6 }
            if spec["completionMode"] == nil { spec["completionMode"] = "NonIndexed" }
            if spec["suspend"] == nil { spec["suspend"] = false }
            if spec["podReplacementPolicy"] == nil {
                spec["podReplacementPolicy"] = spec["podFailurePolicy"] == nil ? "TerminatingOrFailed" : "Failed"
            }
        case .cronJob:
            if spec["concurrencyPolicy"] == nil { spec["concurrencyPolicy"] = "Allow" }
            if spec["suspend"] == nil { spec["suspend"] = false }
            if spec["successfulJobsHistoryLimit"] == nil { spec["successfulJobsHistoryLimit"] = 3 }
            if spec["failedJobsHistoryLimit"] == nil { spec["failedJobsHistoryLimit"] = 1 }
        }
        if kind == .replicationController, spec["selector"] == nil,
            let labels = spec["template"]?["metadata"]?["labels"]
        {
            spec["selector"] = labels
        }
        object["spec"] = spec
        // Upstream's SetDefaults_ReplicationController and SetDefaults_Job: an unlabelled object takes its
        // template's labels. A Job's include the selector's generated ones, which upstream adds on create to the
        // very map the defaulting shared between the two.
        if kind == .replicationController || kind == .job, (object["metadata"]?["labels"]?.objectValue ?? [:]).isEmpty,
            let labels = object[path: templatePath + ["metadata", "labels"]], !(labels.objectValue ?? [:]).isEmpty
        {
            object.setMeta("labels", labels)
        }
        let podSpecPath = templatePath + ["spec"]
        if var podSpec = object[path: podSpecPath], podSpec.objectValue != nil {
            PodSpecRules.applyDefaults(&podSpec)
            object.set(podSpecPath, to: podSpec)
        }
    }

    /// A StatefulSet's claim templates are whole PersistentVolumeClaims to upstream: typed, and defaulted as
    /// claims are.
    static func defaultClaimTemplates(_ spec: inout JSON) {
        guard var templates = spec["volumeClaimTemplates"]?.arrayValue else { return }
        for index in templates.indices where templates[index].objectValue != nil {
            var claim = templates[index]
            if claim["apiVersion"] == nil { claim["apiVersion"] = "v1" }
            if claim["kind"] == nil { claim["kind"] = "PersistentVolumeClaim" }
            PersistentVolumeDefaults.applyToClaim(&claim)
            templates[index] = claim
        }
        spec["volumeClaimTemplates"] = .array(templates)
    }

    func validate(_ object: JSON) -> [FieldError] {
        guard object["spec"]?.objectValue != nil else { return [.required("spec", "")] }
        var errors: [FieldError] = []
        if kind == .cronJob, (object["spec"]?["schedule"]?.stringValue ?? "").isEmpty {
            errors.append(.required("spec.schedule", ""))
        }
        let templateField = templatePath.joined(separator: ".")
        errors += PodSpecRules.validate(object[path: templatePath + ["spec"]], path: templateField + ".spec")
        // Upstream's job validation: the pod defaulting's Always, or no policy at all, is refused.
        if kind == .job || kind == .cronJob,
            ["Always", ""].contains(object[path: templatePath + ["spec", "restartPolicy"]]?.stringValue ?? "")
        {
            errors.append(.required(templateField + ".spec.restartPolicy", #"valid values: "OnFailure", "Never""#))
        }
        if let replicas = object["spec"]?["replicas"]?.intValue, replicas < 0 {
            errors.append(.invalid("spec.replicas", .int(replicas), "must be greater than or equal to 0"))
        }
        let needsSelector = kind != .replicationController && kind != .job && kind != .cronJob
        let labels = object[path: templatePath + ["metadata", "labels"]]?.objectValue ?? JSONObject()
        if needsSelector {
            guard let selectorJSON = object["spec"]?["selector"], selectorJSON.objectValue != nil else {
                return errors + [.required("spec.selector", "")]
            }
            guard let selector = try? LabelSelector(object: selectorJSON) else {
                return errors + [.invalid("spec.selector", selectorJSON, "invalid label selector")]
            }
            if selector.isEverything {
                errors.append(.invalid("spec.selector", selectorJSON, "empty selector is invalid for deployment"))
            }
            var labelMap: [String: String] = [:]
            for (key, value) in labels { labelMap[key] = value.stringValue }
            if !selector.matches(labelMap) {
                errors.append(
                    .invalid(
                        "\(templateField).metadata.labels", .string(Self.goMap(labelMap)),
                        "`selector` does not match template `labels`"))
            }
        }
        return errors
    }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        var errors = validate(object)
        if kind != .replicationController, kind != .cronJob, kind != .job,
            object["spec"]?["selector"] != old["spec"]?["selector"]
        {
            errors.append(.invalid("spec.selector", object["spec"]?["selector"] ?? .null, "field is immutable"))
        }
        return errors
    }

    /// How Go's %v prints a map[string]string, which upstream puts in this message.
    static func goMap(_ map: [String: String]) -> String {
        "map[" + map.keys.sorted().map { "\($0):\(map[$0] ?? "")" }.joined(separator: " ") + "]"
    }

    var columns: [Table.Column] {
        switch kind {
        case .deployment:
            return [
                .name, Table.Column("Ready"), Table.Column("Up-to-date", type: "integer"),
                Table.Column("Available", type: "integer"), .age,
            ] + Cells.wideContainers
        case .replicaSet, .replicationController:
            return [
                .name, Table.Column("Desired", type: "integer"), Table.Column("Current", type: "integer"),
                Table.Column("Ready", type: "integer"), .age,
            ] + Cells.wideContainers
        case .statefulSet:
            return [.name, Table.Column("Ready"), .age] + Cells.wideContainers.prefix(2)
        case .daemonSet:
            return [
                .name, Table.Column("Desired", type: "integer"), Table.Column("Current", type: "integer"),
                Table.Column("Ready", type: "integer"), Table.Column("Up-to-date", type: "integer"),
                Table.Column("Available", type: "integer"), Table.Column("Node Selector"), .age,
            ] + Cells.wideContainers
        case .job:
            return [.name, Table.Column("Status"), Table.Column("Completions"), Table.Column("Duration"), .age]
                + Cells.wideContainers
        case .cronJob:
            return [
                .name, Table.Column("Schedule"), Table.Column("Timezone"), Table.Column("Suspend", type: "boolean"),
                Table.Column("Active", type: "integer"), Table.Column("Last Schedule"), .age,
            ] + Cells.wideContainers
        }
    }

    /// Upstream's Duration column: from start to completion, or to now while the job runs; empty before it starts.
    static func jobDuration(_ status: JSON?) -> String {
        guard let start = status?["startTime"]?.stringValue.flatMap(Timestamp.parse) else { return "" }
        let end =
            status?["completionTime"]?.stringValue.flatMap(Timestamp.parse)
            ?? Int64(Date().timeIntervalSince1970)
        return Timestamp.humanDuration(seconds: max(end - start, 0))
    }

    func cells(_ object: JSON) -> [JSON] {
        let spec = object["spec"]
        let status = object["status"]
        let (names, images) = Cells.containers(object[path: templatePath + ["spec"]])
        let selector = Cells.selector(spec?["selector"])
        switch kind {
        case .deployment:
            let ready = status?["readyReplicas"]?.intValue ?? 0
            return [
                Cells.name(object), .string("\(ready)/\(spec?["replicas"]?.intValue ?? 0)"),
                Cells.int(status?["updatedReplicas"]), Cells.int(status?["availableReplicas"]), Cells.age(object),
                names, images, selector,
            ]
        case .replicaSet, .replicationController:
            return [
                Cells.name(object), Cells.int(spec?["replicas"]), Cells.int(status?["replicas"]),
                Cells.int(status?["readyReplicas"]), Cells.age(object), names, images, selector,
            ]
        case .statefulSet:
            let ready = status?["readyReplicas"]?.intValue ?? 0
            return [
                Cells.name(object), .string("\(ready)/\(spec?["replicas"]?.intValue ?? 0)"), Cells.age(object), names,
                images,
            ]
        case .daemonSet:
            return [
                Cells.name(object), Cells.int(status?["desiredNumberScheduled"]),
                Cells.int(status?["currentNumberScheduled"]),
                Cells.int(status?["numberReady"]), Cells.int(status?["updatedNumberScheduled"]),
                Cells.int(status?["numberAvailable"]), Cells.selector(spec?["template"]?["spec"]?["nodeSelector"]),
                Cells.age(object), names, images, selector,
            ]
        case .job:
            let succeeded = status?["succeeded"]?.intValue ?? 0
            let completions = spec?["completions"]?.intValue.map(String.init) ?? "1"
            let conditions = status?["conditions"]?.arrayValue ?? []
            let complete = conditions.contains {
                $0["type"]?.stringValue == "Complete" && $0["status"]?.stringValue == "True"
            }
            let failed = conditions.contains {
                $0["type"]?.stringValue == "Failed" && $0["status"]?.stringValue == "True"
            }
            let state =
                complete
                ? "Complete" : failed ? "Failed" : (spec?["suspend"]?.boolValue == true ? "Suspended" : "Running")
            return [
                Cells.name(object), .string(state), .string("\(succeeded)/\(completions)"),
                .string(Self.jobDuration(status)),
                Cells.age(object), names, images, selector,
            ]
        case .cronJob:
            let last = status?["lastScheduleTime"]?.stringValue
            return [
                Cells.name(object), Cells.string(spec?["schedule"]), Cells.string(spec?["timeZone"]),
                .bool(spec?["suspend"]?.boolValue ?? false), .int(Int64(status?["active"]?.arrayValue?.count ?? 0)),
                .string(last.map { Timestamp.age(of: $0) } ?? "<none>"), Cells.age(object), names, images,
                Cells.selector(spec?["jobTemplate"]?["spec"]?["selector"]),
            ]
        }
    }
}
