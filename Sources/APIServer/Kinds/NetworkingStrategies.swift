import APIMachinery

/// networking.k8s.io Ingresses: HTTP routing rules to service backends; status written by the controller.
struct IngressStrategy: Strategy {
    static let pathTypes = ["Exact", "ImplementationSpecific", "Prefix"]

    var tracksGeneration: Bool { true }

    func validate(_ object: JSON) -> [FieldError] {
        guard let spec = object["spec"], spec.objectValue != nil else {
            return [.invalid("spec", .array([]), "either `defaultBackend` or `rules` must be specified")]
        }
        var errors: [FieldError] = []
        let rules = spec["rules"]?.arrayValue ?? []
        if let backend = spec["defaultBackend"] {
            errors += Self.validateBackend(backend, path: "spec.defaultBackend")
        } else if rules.isEmpty {
            errors.append(.invalid("spec.rules", .array([]), "either `defaultBackend` or `rules` must be specified"))
        }
        if let className = spec["ingressClassName"]?.stringValue {
            errors += NameValidation.dns1123Subdomain(className).map {
                .invalid("spec.ingressClassName", .string(className), $0)
            }
        }
        for (index, rule) in rules.enumerated() {
            let path = "spec.rules[\(index)]"
            if let host = rule["host"]?.stringValue, !host.isEmpty, IPv4Range(cidr: host + "/32") != nil {
                errors.append(.invalid("\(path).host", .string(host), "must be a DNS name, not an IP address"))
            }
            guard let http = rule["http"] else { continue }
            let paths = http["paths"]?.arrayValue ?? []
            if paths.isEmpty { errors.append(.required("\(path).http.paths", "")) }
            for (number, item) in paths.enumerated() {
                errors += Self.validatePath(item, path: "\(path).http.paths[\(number)]")
            }
        }
        return errors
    }

    static func validatePath(_ item: JSON, path: String) -> [FieldError] {
        var errors: [FieldError] = []
        let text = item["path"]?.stringValue ?? ""
        if let pathType = item["pathType"] {
            let type = pathType.stringValue ?? ""
            if !pathTypes.contains(type) {
                errors.append(.notSupported("\(path).pathType", pathType, pathTypes))
            } else if type != "ImplementationSpecific", !text.hasPrefix("/") {
                errors.append(.invalid("\(path).path", .string(text), "must be an absolute path"))
            }
        } else {
            errors.append(.required("\(path).pathType", "pathType must be specified"))
        }
        return errors + validateBackend(item["backend"] ?? .object(JSONObject()), path: "\(path).backend")
    }

    static func validateBackend(_ backend: JSON, path: String) -> [FieldError] {
        let service = backend["service"]
        switch (service != nil, backend["resource"] != nil) {
        case (true, true): return [.invalid(path, "", "cannot set both resource and service backends")]
        case (false, true): return []
        case (false, false): return [.invalid(path, "", "resource or service backend is required")]
        case (true, false): break
        }
        var errors: [FieldError] = []
        let name = service?["name"]?.stringValue ?? ""
        if name.isEmpty {
            errors.append(.required("\(path).service.name", ""))
        } else {
            errors += NameValidation.dns1035Label(name).map { .invalid("\(path).service.name", .string(name), $0) }
        }
        let portName = service?["port"]?["name"]?.stringValue ?? ""
        let portNumber = service?["port"]?["number"]?.intValue ?? 0
        if !portName.isEmpty, portNumber != 0 {
            errors.append(.invalid(path, "", "cannot set both port name & port number"))
        } else if portName.isEmpty, portNumber == 0 {
            errors.append(.required("\(path).service.port", "port name or number is required"))
        } else if portNumber != 0, !(1...65535).contains(portNumber) {
            errors.append(
                .invalid("\(path).service.port.number", .int(portNumber), "must be between 1 and 65535, inclusive"))
        }
        return errors
    }

    var columns: [Table.Column] {
        [.name, Table.Column("Class"), Table.Column("Hosts"), Table.Column("Address"), Table.Column("Ports"), .age]
    }

    func cells(_ object: JSON) -> [JSON] {
        let spec = object["spec"]
        let rules = spec?["rules"]?.arrayValue ?? []
        let hosts = rules.prefix(3).compactMap { $0["host"]?.stringValue }.filter { !$0.isEmpty }
        var hostText = hosts.isEmpty ? "*" : hosts.joined(separator: ",")
        if rules.count > 3 { hostText += " + \(rules.count - 3) more..." }
        let addresses = (object["status"]?["loadBalancer"]?["ingress"]?.arrayValue ?? []).compactMap {
            $0["ip"]?.stringValue ?? $0["hostname"]?.stringValue
        }
        var address = addresses.joined(separator: ",")
        if address.count > 16 { address = String(address.prefix(13)) + "..." }
        let tls = !(spec?["tls"]?.arrayValue ?? []).isEmpty
        return [
            Cells.name(object), Cells.string(spec?["ingressClassName"]), .string(hostText), .string(address),
            .string(tls ? "80, 443" : "80"), Cells.age(object),
        ]
    }
}

/// networking.k8s.io IngressClasses: which controller implements a class of Ingresses (fixed once set).
struct IngressClassStrategy: Strategy {
    var tracksGeneration: Bool { true }

    /// Upstream's SetDefaults_IngressClass: parameters without a scope are the cluster's.
    func applyDefaults(_ object: inout JSON) {
        guard var parameters = object["spec"]?["parameters"], parameters.objectValue != nil,
            parameters["scope"] == nil
        else { return }
        parameters["scope"] = "Cluster"
        object.set(["spec", "parameters"], to: parameters)
    }

    func validate(_ object: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        let controller = object["spec"]?["controller"]?.stringValue ?? ""
        if controller.isEmpty {
            errors.append(.required("spec.controller", ""))
        } else if controller.count > 250 {
            errors.append(FieldError(.tooLong(250), "spec.controller", value: .string(controller)))
        }
        if let parameters = object["spec"]?["parameters"] {
            if (parameters["kind"]?.stringValue ?? "").isEmpty {
                errors.append(.required("spec.parameters.kind", "kind is required"))
            }
            if (parameters["name"]?.stringValue ?? "").isEmpty {
                errors.append(.required("spec.parameters.name", "name is required"))
            }
            if let scope = parameters["scope"], !["Cluster", "Namespace"].contains(scope.stringValue ?? "") {
                errors.append(.notSupported("spec.parameters.scope", scope, ["Cluster", "Namespace"]))
            }
        }
        return errors
    }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        var errors = validate(object)
        if object["spec"]?["controller"] != old["spec"]?["controller"] {
            errors.append(.invalid("spec.controller", object["spec"]?["controller"] ?? .null, "field is immutable"))
        }
        return errors
    }

    var columns: [Table.Column] { [.name, Table.Column("Controller"), Table.Column("Parameters"), .age] }

    func cells(_ object: JSON) -> [JSON] {
        var parameters = "<none>"
        if let reference = object["spec"]?["parameters"] {
            parameters = reference["kind"]?.stringValue ?? ""
            if let group = reference["apiGroup"]?.stringValue { parameters += "." + group }
            parameters += "/" + (reference["name"]?.stringValue ?? "")
        }
        return [
            Cells.name(object), Cells.string(object["spec"]?["controller"], default: ""), .string(parameters),
            Cells.age(object),
        ]
    }
}

/// networking.k8s.io NetworkPolicies: policy types default from the rules present, ports to TCP.
struct NetworkPolicyStrategy: Strategy {
    static let policyTypes = ["Egress", "Ingress"]

    var tracksGeneration: Bool { true }

    func applyDefaults(_ object: inout JSON) {
        guard var spec = object["spec"], spec.objectValue != nil else { return }
        if spec["policyTypes"] == nil {
            spec["policyTypes"] = spec["egress"] == nil ? ["Ingress"] : ["Ingress", "Egress"]
        }
        for direction in ["ingress", "egress"] {
            guard var rules = spec[direction]?.arrayValue else { continue }
            for index in rules.indices {
                guard var ports = rules[index]["ports"]?.arrayValue else { continue }
                for port in ports.indices where ports[port]["protocol"] == nil { ports[port]["protocol"] = "TCP" }
                rules[index]["ports"] = .array(ports)
            }
            spec[direction] = .array(rules)
        }
        object["spec"] = spec
    }

    func validate(_ object: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        if let selector = object["spec"]?["podSelector"], (try? LabelSelector(object: selector)) == nil {
            errors.append(.invalid("spec.podSelector", selector, "invalid label selector"))
        }
        let types = object["spec"]?["policyTypes"]?.arrayValue ?? []
        for (index, type) in types.enumerated() where !Self.policyTypes.contains(type.stringValue ?? "") {
            errors.append(.notSupported("spec.policyTypes[\(index)]", type, Self.policyTypes))
        }
        if types.count > 2 {
            errors.append(.invalid("spec.policyTypes", .array(types), "may not specify more than two policyTypes"))
        }
        return errors
    }

    var columns: [Table.Column] { [.name, Table.Column("Pod-Selector"), .age] }
    func cells(_ object: JSON) -> [JSON] {
        let selector = object["spec"]?["podSelector"]
        let text: JSON = selector.map { Cells.selector($0) } ?? "<none>"
        return [Cells.name(object), text, Cells.age(object)]
    }
}
