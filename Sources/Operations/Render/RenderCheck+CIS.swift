extension RenderCheck {
    /// A CIS check: the flag must satisfy `passes`; `expectation` says what it should be.
    private struct Rule {
        var id: String
        var flag: String
        var expectation: String
        var passes: (String?) -> Bool
    }

    private static func equals(_ value: String) -> (String?) -> Bool { { $0 == value } }
    private static func isSet(_ value: String?) -> Bool { !(value ?? "").isEmpty }
    private static func atLeast(_ minimum: Int) -> (String?) -> Bool { { ($0.flatMap { Int($0) } ?? 0) >= minimum } }
    private static func list(_ value: String?) -> [String] { (value ?? "").split(separator: ",").map(String.init) }

    private static func evaluate(_ rules: [Rule], _ flags: [String: String], file: String) -> [RenderFinding] {
        rules.compactMap { rule in
            let value = flags[rule.flag]
            guard !rule.passes(value) else { return nil }
            let now = value.map { "is \"\($0)\"" } ?? "is not set"
            return RenderFinding(rule: rule.id, file: file, message: "--\(rule.flag) \(now); \(rule.expectation)")
        }
    }

    static func apiServerFindings(_ flags: [String: String], file: String) -> [RenderFinding] {
        let plugins = list(flags["enable-admission-plugins"] ?? flags["admission-control"])
        let modes = list(flags["authorization-mode"])
        var findings = evaluate(
            [
                Rule(id: "1.2.1", flag: "anonymous-auth", expectation: "should be false", passes: equals("false")),
                Rule(id: "1.2.4", flag: "kubelet-client-certificate", expectation: "should be set", passes: isSet),
                Rule(id: "1.2.4", flag: "kubelet-client-key", expectation: "should be set", passes: isSet),
                Rule(
                    id: "1.2.6", flag: "authorization-mode", expectation: "should not be AlwaysAllow",
                    passes: { list($0).contains("AlwaysAllow") == false && $0 != nil }),
                Rule(id: "1.2.15", flag: "profiling", expectation: "should be false", passes: equals("false")),
                Rule(id: "1.2.16", flag: "audit-log-path", expectation: "should be set", passes: isSet),
                Rule(id: "1.2.17", flag: "audit-log-maxage", expectation: "should be 30 or more", passes: atLeast(30)),
                Rule(
                    id: "1.2.18", flag: "audit-log-maxbackup", expectation: "should be 10 or more", passes: atLeast(10)),
                Rule(
                    id: "1.2.19", flag: "audit-log-maxsize", expectation: "should be 100 or more", passes: atLeast(100)),
                Rule(
                    id: "1.2.21", flag: "service-account-lookup", expectation: "should be true",
                    passes: { $0 == nil || $0 == "true" }),
                Rule(id: "1.2.22", flag: "service-account-key-file", expectation: "should be set", passes: isSet),
                Rule(id: "1.2.23", flag: "etcd-certfile", expectation: "should be set", passes: isSet),
                Rule(id: "1.2.23", flag: "etcd-keyfile", expectation: "should be set", passes: isSet),
                Rule(id: "1.2.24", flag: "tls-cert-file", expectation: "should be set", passes: isSet),
                Rule(id: "1.2.24", flag: "tls-private-key-file", expectation: "should be set", passes: isSet),
                Rule(id: "1.2.25", flag: "client-ca-file", expectation: "should be set", passes: isSet),
                Rule(id: "1.2.26", flag: "etcd-cafile", expectation: "should be set", passes: isSet),
            ], flags, file: file)
        for (id, mode) in [("1.2.7", "Node"), ("1.2.8", "RBAC")] where !modes.contains(mode) {
            findings.append(
                RenderFinding(rule: id, file: file, message: "--authorization-mode should include \(mode)"))
        }
        if plugins.contains("AlwaysAdmit") {
            findings.append(
                RenderFinding(
                    rule: "1.2.10", file: file, message: "the AlwaysAdmit admission plugin should not be enabled"))
        }
        for (id, plugin) in [
            ("1.2.12", "ServiceAccount"), ("1.2.13", "NamespaceLifecycle"), ("1.2.14", "NodeRestriction"),
        ]
        where !plugins.contains(plugin) {
            findings.append(
                RenderFinding(rule: id, file: file, message: "the \(plugin) admission plugin should be enabled"))
        }
        // The guide era's plain port (CIS v1.6 1.2.18/1.2.19, before upstream removed it): any value but 0 opens it.
        for name in ["insecure-port", "port"] where (flags[name].map { $0 != "0" }) ?? false {
            findings.append(
                RenderFinding(
                    rule: "1.2.19", file: file,
                    message: "--\(name) opens the unauthenticated plain port; leave it unset or 0 (CIS v1.6)"))
        }
        for name in ["insecure-bind-address", "address"] where flags[name] != nil {
            findings.append(
                RenderFinding(rule: "1.2.18", file: file, message: "--\(name) should not be set (CIS v1.6)"))
        }
        return findings
    }

    static func controllerManagerFindings(_ flags: [String: String], file: String) -> [RenderFinding] {
        evaluate(
            [
                Rule(
                    id: "1.3.1", flag: "terminated-pod-gc-threshold", expectation: "should be set", passes: isSet),
                Rule(id: "1.3.2", flag: "profiling", expectation: "should be false", passes: equals("false")),
                Rule(
                    id: "1.3.3", flag: "use-service-account-credentials", expectation: "should be true",
                    passes: equals("true")),
                Rule(
                    id: "1.3.4", flag: "service-account-private-key-file", expectation: "should be set", passes: isSet),
                Rule(id: "1.3.5", flag: "root-ca-file", expectation: "should be set", passes: isSet),
                Rule(
                    id: "1.3.7", flag: "bind-address", expectation: "should be 127.0.0.1", passes: equals("127.0.0.1")),
                Rule(id: guideRule, flag: "leader-elect", expectation: "should be true", passes: equals("true")),
                Rule(id: guideRule, flag: "kubeconfig", expectation: "should be set", passes: isSet),
            ], flags, file: file) + plainMaster(flags, file: file)
    }

    static func schedulerFindings(_ flags: [String: String], file: String) -> [RenderFinding] {
        evaluate(
            [
                Rule(id: "1.4.1", flag: "profiling", expectation: "should be false", passes: equals("false")),
                Rule(
                    id: "1.4.2", flag: "bind-address", expectation: "should be 127.0.0.1", passes: equals("127.0.0.1")),
                Rule(id: guideRule, flag: "leader-elect", expectation: "should be true", passes: equals("true")),
                Rule(id: guideRule, flag: "kubeconfig", expectation: "should be set", passes: isSet),
            ], flags, file: file) + plainMaster(flags, file: file)
    }

    /// `--master=http://…` is the guide era's way in through the plain port, with no identity at all.
    private static func plainMaster(_ flags: [String: String], file: String) -> [RenderFinding] {
        guard let master = flags["master"], master.hasPrefix("http://") else { return [] }
        return [
            RenderFinding(
                rule: guideRule, file: file,
                message: "--master=\(master) uses the plain port; use a kubeconfig with a client certificate")
        ]
    }

    static func etcdFindings(_ flags: [String: String], file: String) -> [RenderFinding] {
        evaluate(
            [
                Rule(id: "2.1", flag: "cert-file", expectation: "should be set", passes: isSet),
                Rule(id: "2.1", flag: "key-file", expectation: "should be set", passes: isSet),
                Rule(id: "2.2", flag: "client-cert-auth", expectation: "should be true", passes: equals("true")),
                Rule(id: "2.3", flag: "auto-tls", expectation: "should not be true", passes: { $0 != "true" }),
                Rule(id: "2.4", flag: "peer-cert-file", expectation: "should be set", passes: isSet),
                Rule(id: "2.4", flag: "peer-key-file", expectation: "should be set", passes: isSet),
                Rule(id: "2.5", flag: "peer-client-cert-auth", expectation: "should be true", passes: equals("true")),
                Rule(id: "2.6", flag: "peer-auto-tls", expectation: "should not be true", passes: { $0 != "true" }),
                Rule(
                    id: guideRule, flag: "experimental-watch-progress-notify-interval", expectation: "should be 5s",
                    passes: isSet),
            ], flags, file: file)
    }
}
