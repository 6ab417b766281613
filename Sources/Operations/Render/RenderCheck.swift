import Foundation

/// One difference `kubeswift render --check` found between a host's files and a correct deployment.
public struct RenderFinding: Sendable, Hashable, CustomStringConvertible {
    /// The CIS Kubernetes Benchmark (v1.9) recommendation, e.g. `1.2.1`, or `render` for the guide's own rules.
    public var rule: String
    /// The file concerned (absolute path on the host).
    public var file: String
    /// What is wrong and what is expected.
    public var message: String

    public init(rule: String, file: String, message: String) {
        self.rule = rule
        self.file = file
        self.message = message
    }

    public var description: String {
        rule == RenderCheck.guideRule ? "\(file): \(message)" : "CIS \(rule): \(file): \(message)"
    }
}

/// Checks a host's rendered files: the CIS benchmark's flag checks that apply, the guide's unit settings, and (given
/// what ``ClusterRenderer`` would write) every flag that differs.
public enum RenderCheck {
    /// The rule name of findings that are not CIS recommendations.
    public static let guideRule = "render"

    /// Flags of a file: every `--name=value` (or bare `--name`, meaning true) in it, last one winning.
    public static func flags(in text: String) -> [String: String] {
        var flags: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.trimmingPrefix(" ").hasPrefix("#") {
            for token in line.split(whereSeparator: { $0 == " " || $0 == "\"" || $0 == "\t" })
            where token.hasPrefix("--") {
                let body = token.dropFirst(2)
                if let equals = body.firstIndex(of: "=") {
                    flags[String(body[..<equals])] = String(body[body.index(after: equals)...])
                } else {
                    flags[String(body)] = "true"
                }
            }
        }
        return flags
    }

    /// Every finding for `files` (absolute path to contents); `expected` is what should be there, when known.
    public static func check(files: [String: String], expected: [String: String]? = nil) -> [RenderFinding] {
        var findings: [RenderFinding] = []
        if let apiServer = files["/etc/kubernetes/apiserver"] {
            findings += apiServerFindings(flags(in: apiServer), file: "/etc/kubernetes/apiserver")
        }
        if let manager = files["/etc/kubernetes/controller-manager"] {
            findings += controllerManagerFindings(flags(in: manager), file: "/etc/kubernetes/controller-manager")
        }
        if let scheduler = files["/etc/kubernetes/scheduler"] {
            findings += schedulerFindings(flags(in: scheduler), file: "/etc/kubernetes/scheduler")
        }
        let etcdFile = "/usr/lib/systemd/system/etcd.service"
        if let etcd = files[etcdFile] {
            findings += etcdFindings(flags(in: etcd), file: etcdFile)
        }
        for (path, text) in files.sorted(by: { $0.key < $1.key }) where path.hasSuffix(".service") {
            findings += unitFindings(text, file: path)
        }
        if let expected { findings += differences(files: files, expected: expected) }
        return findings
    }

    /// Flag-by-flag differences for EnvironmentFiles and units, whole-file ones otherwise.
    static func differences(files: [String: String], expected: [String: String]) -> [RenderFinding] {
        var findings: [RenderFinding] = []
        for (path, want) in expected.sorted(by: { $0.key < $1.key }) {
            guard let have = files[path] else {
                findings.append(RenderFinding(rule: guideRule, file: path, message: "missing"))
                continue
            }
            guard path.hasPrefix("/etc/kubernetes/") || path.hasSuffix(".service") else {
                if have != want {
                    findings.append(
                        RenderFinding(rule: guideRule, file: path, message: "differs from the rendered file"))
                }
                continue
            }
            let haveFlags = flags(in: have)
            let wantFlags = flags(in: want)
            for (name, value) in wantFlags.sorted(by: { $0.key < $1.key }) where haveFlags[name] != value {
                let message =
                    haveFlags[name].map { "--\(name) is \"\($0)\", expected \"\(value)\"" }
                    ?? "--\(name) is missing, expected \"\(value)\""
                findings.append(RenderFinding(rule: guideRule, file: path, message: message))
            }
            for name in haveFlags.keys.sorted() where wantFlags[name] == nil {
                findings.append(RenderFinding(rule: guideRule, file: path, message: "--\(name) is not expected"))
            }
        }
        return findings
    }

    static func unitFindings(_ text: String, file: String) -> [RenderFinding] {
        let lines = Set(text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
        var findings: [RenderFinding] = []
        for required in ["Type=notify", "Restart=on-failure", "LimitNOFILE=65536"] where !lines.contains(required) {
            findings.append(RenderFinding(rule: guideRule, file: file, message: "lacks \(required)"))
        }
        for line in lines where line.hasPrefix("EnvironmentFile=") && !line.hasPrefix("EnvironmentFile=-") {
            findings.append(
                RenderFinding(
                    rule: guideRule, file: file,
                    message: "\(line) fails the unit when the file is missing; the guide writes EnvironmentFile=-"))
        }
        return findings
    }
}
