import Foundation
import Operations
import XCTest

final class RenderTests: XCTestCase {
    static func layout(binDirectory: String? = nil) -> ClusterLayout {
        var layout = ClusterLayout(
            masters: [
                .init(name: "k8s-1", address: "192.168.103.146"), .init(name: "k8s-2", address: "192.168.103.147"),
                .init(name: "k8s-3", address: "192.168.103.148"),
            ],
            etcd: [
                .init(name: "k8s-2", address: "192.168.103.147"), .init(name: "k8s-3", address: "192.168.103.148"),
                .init(name: "k8s-4", address: "192.168.103.149"),
            ],
            loadBalancer: "k8s-1")
        if let binDirectory {
            layout.binDirectory = binDirectory
            layout.etcdBinary = binDirectory + "/etcd"
        }
        return layout
    }

    func testEachHostGetsItsRolesFiles() throws {
        let rendered = ClusterRenderer.render(Self.layout())
        XCTAssertEqual(Set(rendered.keys), ["k8s-1", "k8s-2", "k8s-3", "k8s-4"])
        let first = try XCTUnwrap(rendered["k8s-1"])
        XCTAssertNotNil(first["/etc/nginx/nginx.conf"])
        XCTAssertNil(first["/usr/lib/systemd/system/etcd.service"])
        XCTAssertEqual(try XCTUnwrap(rendered["k8s-4"]).keys.sorted(), ["/usr/lib/systemd/system/etcd.service"])
        let apiServer = RenderCheck.flags(in: try XCTUnwrap(rendered["k8s-2"]?["/etc/kubernetes/apiserver"]))
        XCTAssertEqual(apiServer["advertise-address"], "192.168.103.147")
        XCTAssertEqual(
            apiServer["etcd-servers"],
            "https://192.168.103.147:2379,https://192.168.103.148:2379,https://192.168.103.149:2379")
        XCTAssertEqual(apiServer["apiserver-count"], "3")
        let manager = RenderCheck.flags(in: try XCTUnwrap(first["/etc/kubernetes/controller-manager"]))
        XCTAssertEqual(manager["use-service-account-credentials"], "true")
        XCTAssertEqual(manager["leader-elect"], "true")
        XCTAssertEqual(manager["service-account-private-key-file"], "/etc/kubernetes/ssl/ca-key.pem")
        let etcd = RenderCheck.flags(in: try XCTUnwrap(rendered["k8s-4"]?["/usr/lib/systemd/system/etcd.service"]))
        XCTAssertEqual(etcd["experimental-watch-progress-notify-interval"], "5s")
        XCTAssertEqual(etcd["listen-peer-urls"], "https://192.168.103.149:2380")
        XCTAssertEqual(etcd["peer-client-cert-auth"], "true")
        let nginx = try XCTUnwrap(first["/etc/nginx/nginx.conf"])
        for master in Self.layout().masters {
            XCTAssertTrue(nginx.contains("server \(master.address):6443 max_fails=1 fail_timeout=2s;"), nginx)
        }
        XCTAssertTrue(nginx.contains("proxy_next_upstream on;"))
    }

    func testRenderedFilesHaveNoFindingsAndAChangedFlagIsNamedByItsCISNumber() throws {
        let layout = Self.layout()
        let files = ClusterRenderer.files(for: "k8s-2", in: layout)
        XCTAssertEqual(RenderCheck.check(files: files, expected: files), [])

        var changed = files
        changed["/etc/kubernetes/apiserver"] = files["/etc/kubernetes/apiserver"]?
            .replacingOccurrences(of: "--anonymous-auth=false", with: "--anonymous-auth=true")
            .replacingOccurrences(of: "--authorization-mode=Node,RBAC", with: "--authorization-mode=AlwaysAllow")
        changed["/etc/kubernetes/scheduler"] = files["/etc/kubernetes/scheduler"]?
            .replacingOccurrences(of: "--profiling=false", with: "--profiling=true")
        changed["/etc/kubernetes/controller-manager"] = files["/etc/kubernetes/controller-manager"]?
            .replacingOccurrences(of: " --use-service-account-credentials=true", with: "")
        changed["/usr/lib/systemd/system/etcd.service"] = files["/usr/lib/systemd/system/etcd.service"]?
            .replacingOccurrences(of: "--client-cert-auth=true", with: "--client-cert-auth=false")
        let findings = RenderCheck.check(files: changed, expected: files)
        let rules = Set(findings.map(\.rule))
        for rule in ["1.2.1", "1.2.6", "1.2.7", "1.2.8", "1.4.1", "1.3.3", "2.2"] {
            XCTAssertTrue(rules.contains(rule), "\(rule) not in \(findings.map(\.description))")
        }
        XCTAssertTrue(
            findings.map(\.description).contains(
                "CIS 1.2.1: /etc/kubernetes/apiserver: --anonymous-auth is \"true\"; should be false"),
            "\(findings.map(\.description))")
        // Without the rendering to compare with, the CIS checks still apply.
        XCTAssertTrue(RenderCheck.check(files: changed).contains { $0.rule == "1.2.1" })
        XCTAssertTrue(
            findings.contains {
                $0.rule == RenderCheck.guideRule && $0.message.contains("--anonymous-auth is \"true\"")
            })
    }

    func testThePlainPortIsACISFinding() {
        let flags = ["insecure-port": "8080", "insecure-bind-address": "127.0.0.1"]
        let text = "KUBE_API_ARGS=\"" + flags.map { "--\($0.key)=\($0.value)" }.joined(separator: " ") + "\"\n"
        let rules = RenderCheck.check(files: ["/etc/kubernetes/apiserver": text]).map(\.rule)
        XCTAssertTrue(rules.contains("1.2.19"))
        XCTAssertTrue(rules.contains("1.2.18"))
    }

    func testSystemdAcceptsTheUnits() throws {
        let directory = try makeTemporaryDirectory(self)
        let bin = directory + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        // systemd-analyze verify insists that ExecStart's program exists and is executable.
        for name in ["kube-apiserver", "kube-scheduler", "kube-controller-manager", "etcd"] {
            XCTAssertTrue(
                FileManager.default.createFile(
                    atPath: bin + "/" + name, contents: Data("#!/bin/sh\n".utf8),
                    attributes: [.posixPermissions: 0o755]))
        }
        let files = ClusterRenderer.files(for: "k8s-2", in: Self.layout(binDirectory: bin))
        var units: [String] = []
        for (path, text) in files where path.hasSuffix(".service") {
            let unit = directory + "/" + (path as NSString).lastPathComponent
            try text.write(toFile: unit, atomically: true, encoding: .utf8)
            units.append(unit)
        }
        XCTAssertEqual(units.count, 4)
        let run = try runTool("/usr/bin/systemd-analyze", ["verify"] + units.sorted())
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        XCTAssertFalse(run.stderr.contains(directory), run.stderr)
    }

    func testNginxAcceptsTheConfiguration() throws {
        guard FileManager.default.fileExists(atPath: NginxRenderer.defaultStreamModule) else {
            throw XCTSkip("Debian's libnginx-mod-stream is not installed")
        }
        let directory = try makeTemporaryDirectory(self)
        let file = directory + "/nginx.conf"
        let text = try XCTUnwrap(ClusterRenderer.files(for: "k8s-1", in: Self.layout())["/etc/nginx/nginx.conf"])
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let run = try runTool("/usr/sbin/nginx", ["-t", "-c", file])
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        XCTAssertTrue(run.stderr.contains("test is successful"), run.stderr)
    }
}
