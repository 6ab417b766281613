import APIMachinery

/// Pod spec defaulting and validation, shared by pods and every kind with a pod template.
enum PodSpecRules {
    static func applyDefaults(_ spec: inout JSON) {
        let defaults: [(String, JSON)] = [
            ("restartPolicy", "Always"), ("terminationGracePeriodSeconds", 30), ("dnsPolicy", "ClusterFirst"),
            ("securityContext", .object(JSONObject())), ("schedulerName", "default-scheduler"),
        ]
        for (field, value) in defaults where spec[field] == nil { spec[field] = value }
        for list in ["containers", "initContainers", "ephemeralContainers"] {
            guard var containers = spec[list]?.arrayValue else { continue }
            for index in containers.indices { applyContainerDefaults(&containers[index]) }
            spec[list] = .array(containers)
        }
        applyVolumeDefaults(&spec)
    }

    static func applyContainerDefaults(_ container: inout JSON) {
        guard container.objectValue != nil else { return }
        if container["terminationMessagePath"] == nil { container["terminationMessagePath"] = "/dev/termination-log" }
        if container["terminationMessagePolicy"] == nil { container["terminationMessagePolicy"] = "File" }
        if container["resources"] == nil { container["resources"] = .object(JSONObject()) }
        if container["imagePullPolicy"] == nil, let image = container["image"]?.stringValue {
            // Upstream pulls `latest` (or untagged) images always, pinned ones only when missing.
            let lastPart = image.split(separator: "/").last.map(String.init) ?? image
            let tagged = lastPart.contains(":") || image.contains("@")
            let latest = !tagged || lastPart.hasSuffix(":latest")
            container["imagePullPolicy"] = .string(latest ? "Always" : "IfNotPresent")
        }
        if var ports = container["ports"]?.arrayValue {
            for index in ports.indices where ports[index]["protocol"] == nil && ports[index].objectValue != nil {
                ports[index]["protocol"] = "TCP"
            }
            container["ports"] = .array(ports)
        }
        applyHandlerDefaults(&container)
    }

    static func validate(_ spec: JSON?, path: String) -> [FieldError] {
        guard let spec, spec.objectValue != nil else { return [.required(path, "")] }
        var errors: [FieldError] = []
        let containers = spec["containers"]?.arrayValue ?? []
        if containers.isEmpty { errors.append(.required("\(path).containers", "")) }
        var names = Set<String>()
        for list in ["initContainers", "containers"] {
            for (index, container) in (spec[list]?.arrayValue ?? []).enumerated() {
                let field = "\(path).\(list)[\(index)]"
                let name = container["name"]?.stringValue ?? ""
                if name.isEmpty {
                    errors.append(.required("\(field).name", ""))
                } else {
                    for problem in NameValidation.dns1123Label(name) {
                        errors.append(.invalid("\(field).name", .string(name), problem))
                    }
                    if !names.insert(name).inserted { errors.append(.duplicate("\(field).name", .string(name))) }
                }
                if (container["image"]?.stringValue ?? "").isEmpty { errors.append(.required("\(field).image", "")) }
            }
        }
        if let policy = spec["restartPolicy"]?.stringValue, !["Always", "OnFailure", "Never"].contains(policy) {
            errors.append(.notSupported("\(path).restartPolicy", .string(policy), ["Always", "OnFailure", "Never"]))
        }
        return errors
    }
}

/// Pods: defaults, validation, Pending status on create, graceful deletion once bound to a node.
struct PodStrategy: Strategy {
    var tracksGeneration: Bool { false }

    func prepareForCreate(_ object: inout JSON) {
        object["status"] = ["phase": "Pending", "qosClass": .string(qosClass(object["spec"]))]
    }

    func prepareForUpdate(_ object: inout JSON, old: JSON) {
        object["status"] = old["status"]
    }

    func applyDefaults(_ object: inout JSON) {
        guard var spec = object["spec"], spec.objectValue != nil else { return }
        PodSpecRules.applyDefaults(&spec)
        Self.defaultRequestsToLimits(&spec)
        // Pods only, as upstream's SetDefaults_Pod: templates keep these unset.
        if spec["enableServiceLinks"] == nil { spec["enableServiceLinks"] = true }
        if spec["hostNetwork"]?.boolValue == true { Self.defaultHostPorts(&spec) }
        object["spec"] = spec
    }

    /// With the host's network a container port is a host port.
    static func defaultHostPorts(_ spec: inout JSON) {
        for list in ["containers", "initContainers"] {
            guard var containers = spec[list]?.arrayValue else { continue }
            for index in containers.indices {
                guard var ports = containers[index]["ports"]?.arrayValue else { continue }
                for port in ports.indices where (ports[port]["hostPort"]?.intValue ?? 0) == 0 {
                    ports[port]["hostPort"] = ports[port]["containerPort"]
                }
                containers[index]["ports"] = .array(ports)
            }
            spec[list] = .array(containers)
        }
    }

    /// upstream's `SetDefaults_Pod`: a resource with a limit and no request is requested at its limit. Pods only,
    /// not pod templates, so a Deployment's stored template keeps what its author wrote.
    static func defaultRequestsToLimits(_ spec: inout JSON) {
        for list in ["containers", "initContainers"] {
            guard var containers = spec[list]?.arrayValue else { continue }
            for index in containers.indices {
                guard let limits = containers[index]["resources"]?["limits"]?.objectValue, !limits.isEmpty else {
                    continue
                }
                var requests = containers[index]["resources"]?["requests"]?.objectValue ?? JSONObject()
                for (name, quantity) in limits where requests[name] == nil { requests[name] = quantity }
                containers[index].set(["resources", "requests"], to: .object(requests))
            }
            spec[list] = .array(containers)
        }
    }

    func validate(_ object: JSON) -> [FieldError] { PodSpecRules.validate(object["spec"], path: "spec") }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        var errors = validate(object)
        var newSpec = object["spec"] ?? .null
        var oldSpec = old["spec"] ?? .null
        // Only images, activeDeadlineSeconds and tolerations additions may change, as upstream allows.
        for spec in [0, 1] {
            var value = spec == 0 ? newSpec : oldSpec
            for list in ["containers", "initContainers"] {
                guard var containers = value[list]?.arrayValue else { continue }
                for index in containers.indices { containers[index]["image"] = nil }
                value[list] = .array(containers)
            }
            value["activeDeadlineSeconds"] = nil
            value["tolerations"] = nil
            if spec == 0 { newSpec = value } else { oldSpec = value }
        }
        if newSpec != oldSpec {
            errors.append(
                .forbidden(
                    "spec",
                    "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
                ))
        }
        return errors
    }

    func prepareForDelete(_ object: inout JSON, gracePeriodSeconds: Int?) -> Bool {
        // An unbound pod has no kubelet to stop it, so it goes at once, as upstream does.
        guard let node = object["spec"]?["nodeName"]?.stringValue, !node.isEmpty else { return false }
        let grace = gracePeriodSeconds ?? Int(object["spec"]?["terminationGracePeriodSeconds"]?.intValue ?? 30)
        guard grace > 0 else { return false }
        if object["metadata"]?["deletionTimestamp"] == nil {
            object.setMeta("deletionTimestamp", .string(Timestamp.now()))
            object.setMeta("deletionGracePeriodSeconds", .int(Int64(grace)))
        }
        return true
    }

    func qosClass(_ spec: JSON?) -> String {
        let containers = spec?["containers"]?.arrayValue ?? []
        var anyResources = false
        var guaranteed = !containers.isEmpty
        for container in containers {
            let requests = container["resources"]?["requests"]?.objectValue ?? JSONObject()
            let limits = container["resources"]?["limits"]?.objectValue ?? JSONObject()
            if !requests.isEmpty || !limits.isEmpty { anyResources = true }
            for resource in ["cpu", "memory"] {
                guard let limit = limits[resource] else {
                    guaranteed = false
                    continue
                }
                if let request = requests[resource], request != limit { guaranteed = false }
            }
        }
        if !anyResources { return "BestEffort" }
        return guaranteed ? "Guaranteed" : "Burstable"
    }

    func selectableFields(_ object: JSON) -> [String: String] {
        let spec = object["spec"]
        return [
            "spec.nodeName": spec?["nodeName"]?.stringValue ?? "",
            "spec.restartPolicy": spec?["restartPolicy"]?.stringValue ?? "",
            "spec.schedulerName": spec?["schedulerName"]?.stringValue ?? "",
            "spec.serviceAccountName": spec?["serviceAccountName"]?.stringValue ?? "",
            "spec.hostNetwork": String(spec?["hostNetwork"]?.boolValue ?? false),
            "status.phase": object["status"]?["phase"]?.stringValue ?? "",
            "status.podIP": object["status"]?["podIP"]?.stringValue ?? "",
            "status.nominatedNodeName": object["status"]?["nominatedNodeName"]?.stringValue ?? "",
        ]
    }

    var columns: [Table.Column] {
        [
            .name, Table.Column("Ready"), Table.Column("Status"), Table.Column("Restarts", type: "string"), .age,
            Table.Column("IP", priority: 1), Table.Column("Node", priority: 1),
            Table.Column("Nominated Node", priority: 1), Table.Column("Readiness Gates", priority: 1),
        ]
    }

    func cells(_ object: JSON) -> [JSON] {
        let statuses = object["status"]?["containerStatuses"]?.arrayValue ?? []
        let total = object["spec"]?["containers"]?.arrayValue?.count ?? 0
        let ready = statuses.filter { $0["ready"]?.boolValue == true }.count
        let restarts = statuses.reduce(Int64(0)) { $0 + ($1["restartCount"]?.intValue ?? 0) }
        var reason = object["status"]?["reason"]?.stringValue ?? object["status"]?["phase"]?.stringValue ?? "Pending"
        for status in statuses {
            if let waiting = status["state"]?["waiting"]?["reason"]?.stringValue, !waiting.isEmpty {
                reason = waiting
            } else if let terminated = status["state"]?["terminated"]?["reason"]?.stringValue, !terminated.isEmpty {
                reason = terminated
            }
        }
        if object["metadata"]?["deletionTimestamp"] != nil { reason = "Terminating" }
        let gates = object["spec"]?["readinessGates"]?.arrayValue ?? []
        return [
            Cells.name(object), .string("\(ready)/\(total)"), .string(reason), .string(String(restarts)),
            Cells.age(object),
            Cells.string(object["status"]?["podIP"]), Cells.string(object["spec"]?["nodeName"]),
            Cells.string(object["status"]?["nominatedNodeName"]),
            .string(gates.isEmpty ? "<none>" : "0/\(gates.count)"),
        ]
    }
}
