import APIMachinery

/// Services: defaults, cluster IP and NodePort allocation with the write, release on delete.
struct ServiceStrategy: Strategy {
    static let types = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]

    func validateName(_ name: String) -> [String] { NameValidation.dns1035Label(name) }

    func prepareForCreate(_ object: inout JSON) {
        object["status"] = ["loadBalancer": .object(JSONObject())]
    }

    func prepareForUpdate(_ object: inout JSON, old: JSON) {
        object["status"] = old["status"]
    }

    func applyDefaults(_ object: inout JSON) {
        guard var spec = object["spec"], spec.objectValue != nil else { return }
        let type = spec["type"]?.stringValue ?? "ClusterIP"
        if spec["type"] == nil { spec["type"] = "ClusterIP" }
        if spec["sessionAffinity"] == nil { spec["sessionAffinity"] = "None" }
        // Upstream's SetDefaults_Service: ClientIP affinity lasts three hours unless told otherwise; None has no
        // configuration.
        if spec["sessionAffinity"]?.stringValue == "None" { spec["sessionAffinityConfig"] = nil }
        if spec["sessionAffinity"]?.stringValue == "ClientIP",
            spec[path: "sessionAffinityConfig", "clientIP", "timeoutSeconds"] == nil
        {
            spec["sessionAffinityConfig"] = ["clientIP": ["timeoutSeconds": 10800]]
        }
        if type != "ExternalName" {
            if spec["internalTrafficPolicy"] == nil { spec["internalTrafficPolicy"] = "Cluster" }
            // A single-stack cluster's one family, headless Services included (upstream's initIPFamilyFields).
            if spec["ipFamilies"] == nil { spec["ipFamilies"] = ["IPv4"] }
            if spec["ipFamilyPolicy"] == nil { spec["ipFamilyPolicy"] = "SingleStack" }
        }
        if type == "NodePort" || type == "LoadBalancer", spec["externalTrafficPolicy"] == nil {
            spec["externalTrafficPolicy"] = "Cluster"
        }
        if type == "LoadBalancer", spec["allocateLoadBalancerNodePorts"] == nil {
            spec["allocateLoadBalancerNodePorts"] = true
        }
        if var ports = spec["ports"]?.arrayValue {
            for index in ports.indices where ports[index].objectValue != nil {
                if ports[index]["protocol"] == nil { ports[index]["protocol"] = "TCP" }
                // Typed clients send a zero targetPort for "unset"; upstream defaults both to the port.
                let target = ports[index]["targetPort"]
                if target == nil || target == .int(0) || target == .string(""), let port = ports[index]["port"] {
                    ports[index]["targetPort"] = port
                }
            }
            spec["ports"] = .array(ports)
        }
        object["spec"] = spec
    }

    func validate(_ object: JSON) -> [FieldError] {
        guard let spec = object["spec"], spec.objectValue != nil else { return [.required("spec", "")] }
        var errors: [FieldError] = []
        let type = spec["type"]?.stringValue ?? "ClusterIP"
        if !Self.types.contains(type) { errors.append(.notSupported("spec.type", .string(type), Self.types)) }
        let ports = spec["ports"]?.arrayValue ?? []
        if ports.isEmpty, type != "ExternalName", spec["clusterIP"]?.stringValue != "None" {
            errors.append(.required("spec.ports", ""))
        }
        var names = Set<String>()
        for (index, port) in ports.enumerated() {
            let field = "spec.ports[\(index)]"
            if ports.count > 1, (port["name"]?.stringValue ?? "").isEmpty {
                errors.append(.required("\(field).name", ""))
            }
            if let name = port["name"]?.stringValue, !name.isEmpty, !names.insert(name).inserted {
                errors.append(.duplicate("\(field).name", .string(name)))
            }
            guard let number = port["port"]?.intValue else {
                errors.append(.required("\(field).port", ""))
                continue
            }
            if !(1...65535).contains(number) {
                errors.append(.invalid("\(field).port", .int(number), "must be between 1 and 65535, inclusive"))
            }
            if let proto = port["protocol"]?.stringValue, !["TCP", "UDP", "SCTP"].contains(proto) {
                errors.append(.notSupported("\(field).protocol", .string(proto), ["SCTP", "TCP", "UDP"]))
            }
        }
        if type == "ExternalName", (spec["externalName"]?.stringValue ?? "").isEmpty {
            errors.append(.required("spec.externalName", ""))
        }
        return errors
    }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        var errors = validate(object)
        let oldIP = old["spec"]?["clusterIP"]?.stringValue ?? ""
        let newIP = object["spec"]?["clusterIP"]?.stringValue ?? ""
        if !oldIP.isEmpty, newIP != oldIP, old["spec"]?["type"]?.stringValue != "ExternalName" {
            errors.append(.invalid("spec.clusterIPs[0]", .string(newIP), "may not change once set"))
        }
        return errors
    }

    func beforeCreate(_ object: inout JSON, context: RegistryContext) async throws {
        guard var spec = object["spec"] else { return }
        let type = spec["type"]?.stringValue ?? "ClusterIP"
        var allocatedIP: String?
        do {
            if type != "ExternalName" {
                let requested =
                    spec["clusterIP"]?.stringValue ?? spec["clusterIPs"]?.arrayValue?.first?.stringValue ?? ""
                if requested == "None" {
                    spec["clusterIPs"] = ["None"]
                } else {
                    let ip =
                        requested.isEmpty
                        ? try await context.serviceIPs.allocateNext(dryRun: context.dryRun)
                        : try await context.serviceIPs.allocate(requested, dryRun: context.dryRun)
                    allocatedIP = context.dryRun ? nil : ip
                    spec["clusterIP"] = .string(ip)
                    spec["clusterIPs"] = [.string(ip)]
                }
            }
            if type == "NodePort" || type == "LoadBalancer" {
                try await allocateNodePorts(&spec, context: context)
            }
        } catch {
            if let allocatedIP { await context.serviceIPs.release(allocatedIP) }
            throw error
        }
        object["spec"] = spec
    }

    private func allocateNodePorts(_ spec: inout JSON, context: RegistryContext) async throws {
        guard var ports = spec["ports"]?.arrayValue else { return }
        var taken: [Int] = []
        do {
            for index in ports.indices {
                let field = "spec.ports[\(index)].nodePort"
                if let requested = ports[index]["nodePort"]?.intValue, requested != 0 {
                    try await context.nodePorts.allocate(Int(requested), field: field, dryRun: context.dryRun)
                    taken.append(Int(requested))
                } else {
                    let port = try await context.nodePorts.allocateNext(field: field, dryRun: context.dryRun)
                    ports[index]["nodePort"] = .int(Int64(port))
                    taken.append(port)
                }
            }
        } catch {
            if !context.dryRun { for port in taken { await context.nodePorts.release(port) } }
            throw error
        }
        spec["ports"] = .array(ports)
    }

    func beforeUpdate(_ object: inout JSON, old: JSON, context: RegistryContext) async throws {
        // The cluster IP is immutable; an update that omits it keeps the allocated one.
        if (object["spec"]?["clusterIP"]?.stringValue ?? "").isEmpty, let ip = old["spec"]?["clusterIP"] {
            object.set(["spec", "clusterIP"], to: ip)
            object.set(["spec", "clusterIPs"], to: old["spec"]?["clusterIPs"])
        }
    }

    func afterDelete(_ object: JSON, context: RegistryContext) async {
        if let ip = object["spec"]?["clusterIP"]?.stringValue, ip != "None", !ip.isEmpty {
            await context.serviceIPs.release(ip)
        }
        for port in object["spec"]?["ports"]?.arrayValue ?? [] {
            if let nodePort = port["nodePort"]?.intValue { await context.nodePorts.release(Int(nodePort)) }
        }
    }

    var columns: [Table.Column] {
        [
            .name, Table.Column("Type"), Table.Column("Cluster-IP"), Table.Column("External-IP"),
            Table.Column("Port(s)"), .age, Table.Column("Selector", priority: 1),
        ]
    }

    func cells(_ object: JSON) -> [JSON] {
        let spec = object["spec"]
        let type = spec?["type"]?.stringValue ?? "ClusterIP"
        let ports = (spec?["ports"]?.arrayValue ?? []).map { port -> String in
            let number = port["port"]?.intValue ?? 0
            let proto = port["protocol"]?.stringValue ?? "TCP"
            if let nodePort = port["nodePort"]?.intValue { return "\(number):\(nodePort)/\(proto)" }
            return "\(number)/\(proto)"
        }
        var external = "<none>"
        if type == "ExternalName" { external = spec?["externalName"]?.stringValue ?? "<none>" }
        if let ips = spec?["externalIPs"]?.arrayValue, !ips.isEmpty {
            external = ips.compactMap(\.stringValue).joined(separator: ",")
        } else if type == "LoadBalancer" {
            let ingress = object["status"]?["loadBalancer"]?["ingress"]?.arrayValue ?? []
            let addresses = ingress.compactMap { $0["ip"]?.stringValue ?? $0["hostname"]?.stringValue }
            external = addresses.isEmpty ? "<pending>" : addresses.joined(separator: ",")
        }
        return [
            Cells.name(object), .string(type), Cells.string(spec?["clusterIP"]), .string(external),
            .string(ports.isEmpty ? "<none>" : ports.joined(separator: ",")), Cells.age(object),
            Cells.selector(spec?["selector"]),
        ]
    }
}
