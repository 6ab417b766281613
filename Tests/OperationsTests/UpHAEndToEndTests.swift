import Foundation
import Operations
import XCTest

/// The real `kubeswift up --masters 3 --nodes 1`: three etcd members over TLS, three of each control-plane
/// executable and nginx, all children of one kubeswift process, started once for the whole class (slow: about a
/// minute on two busy cores). Uses 127.0.0.10–19, which no other test class uses.
final class UpHAEndToEndTests: XCTestCase {
    static let kubectl = "/usr/bin/kubectl"

    var binDirectory: String {
        // The test executable sits in the build products directory, next to kubeswift.
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    }

    func testThreeMastersBehindNginxSurviveAKilledAPIServerAndStopWithoutOrphans() throws {
        let missing = LocalCluster.loopback(masters: 3, stateDirectory: "/", binDirectory: binDirectory)
            .missingPrerequisites()
        guard missing.isEmpty else {
            return XCTFail("kubeswift up --masters 3 cannot run here:\n" + missing.joined(separator: "\n"))
        }
        let state = try makeTemporaryDirectory(self)
        let up = try KubeswiftProcess(
            binDirectory + "/kubeswift", ["up", "--masters", "3", "--nodes", "1", "--state-dir", state])
        var stopped = false
        defer { if !stopped { up.stop() } }
        let export = try up.waitForLine(containing: "export KUBECONFIG=", timeout: 300)
        XCTAssertEqual(export, "export KUBECONFIG=\(state)/admin.kubeconfig")
        let kubeconfig = "--kubeconfig=\(state)/admin.kubeconfig"

        // kubectl through nginx.
        var result = try runTool(
            Self.kubectl, [kubeconfig, "create", "configmap", "through-nginx", "--from-literal=a=b"])
        XCTAssertEqual(result.status, 0, result.stderr)
        result = try runTool(
            Self.kubectl, [kubeconfig, "config", "view", "-o", "jsonpath={.clusters[0].cluster.server}"])
        XCTAssertEqual(result.stdout, "https://127.0.0.10:6443")

        // status: three ready API servers, three healthy members with one leader, both lease holders.
        var status = ToolRun(status: 1, stdout: "", stderr: "")
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            status = try runTool(binDirectory + "/kubeswift", ["status", "--state-dir", state])
            if status.status == 0 { break }
            Thread.sleep(forTimeInterval: 1)
        }
        XCTAssertEqual(status.status, 0, status.stdout + status.stderr)
        let lines = status.stdout.split(separator: "\n").map(String.init)
        for master in 1...3 {
            XCTAssertTrue(
                lines.contains {
                    $0.contains("kube-apiserver@k8s-\(master) https://127.0.0.1\(master):6443")
                        && $0.hasSuffix("readyz ok")
                },
                status.stdout)
        }
        XCTAssertEqual(lines.filter { $0.contains("etcd@etcd-") && $0.contains(" healthy ") }.count, 3, status.stdout)
        XCTAssertEqual(lines.filter { $0.contains(" healthy leader ") }.count, 1, status.stdout)
        XCTAssertTrue(lines.contains { $0.contains("kube-scheduler: held by ") }, status.stdout)
        XCTAssertTrue(lines.contains { $0.contains("kube-controller-manager: held by ") }, status.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("kubernetes endpoints: ") }, status.stdout)

        // The simulated node joined with its own identity: a bootstrap-token CSR, then its Node.
        let joinDeadline = Date().addingTimeInterval(60)
        var requesters = ""
        var node = ToolRun(status: 1, stdout: "", stderr: "")
        while Date() < joinDeadline {
            requesters =
                try runTool(
                    Self.kubectl,
                    [kubeconfig, "get", "csr", "-o", "jsonpath={range .items[*]}{.spec.username}{\"\\n\"}{end}"]
                ).stdout
            node = try runTool(Self.kubectl, [kubeconfig, "get", "node", "sim-0", "-o", "name"])
            if requesters.contains("system:bootstrap:") && node.status == 0 { break }
            Thread.sleep(forTimeInterval: 1)
        }
        XCTAssertTrue(requesters.contains("system:bootstrap:"), "no CSR from a bootstrap token: \(requesters)")
        XCTAssertEqual(node.stdout, "node/sim-0\n", node.stderr)

        // kill -9 one API server: kubectl through nginx keeps working within a couple of seconds, and the
        // supervisor starts it again as systemd's Restart=on-failure would.
        let pidFile = state + "/run/kube-apiserver@k8s-1.pid"
        let killed = try XCTUnwrap(
            Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        XCTAssertEqual(kill(killed, SIGKILL), 0)
        let killedAt = Date()
        var served: TimeInterval?
        while Date().timeIntervalSince(killedAt) < 10 {
            result = try runTool(
                Self.kubectl, [kubeconfig, "get", "configmap", "through-nginx", "-o", "name", "--request-timeout=2s"])
            if result.status == 0 {
                served = Date().timeIntervalSince(killedAt)
                break
            }
        }
        let window = try XCTUnwrap(served, "kubectl through nginx failed for 10 s after the kill: \(result.stderr)")
        XCTAssertLessThan(window, 3, "kubectl through nginx took \(window) s to work again")
        for _ in 0..<5 {
            result = try runTool(Self.kubectl, [kubeconfig, "get", "configmap", "through-nginx", "-o", "name"])
            XCTAssertEqual(result.stdout, "configmap/through-nginx\n", result.stderr)
        }
        let restartDeadline = Date().addingTimeInterval(30)
        var restarted: Int32?
        while Date() < restartDeadline, restarted == nil {
            let text = (try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? ""
            if let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid != killed, kill(pid, 0) == 0 {
                restarted = pid
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        XCTAssertNotNil(restarted, "the killed API server was not started again")

        // Ctrl-C: every child goes, none is left behind.
        let children = try childPIDs(of: up.pid)
        XCTAssertGreaterThanOrEqual(children.count, 13, "etcd ×3, three of each component, nginx")
        up.interrupt()
        XCTAssertNoThrow(try up.waitForLine(containing: "KubeSwift control plane stopped.", timeout: 60))
        XCTAssertEqual(up.waitForExit(), 0)
        stopped = true
        let left = processes(mentioning: state)
        XCTAssertEqual(left, [], "processes left after Ctrl-C")
        for child in children { XCTAssertFalse(isAlive(child), "pid \(child) outlived kubeswift up") }
    }

    /// True while `pid` exists and is not a zombie waiting for its parent's wait.
    func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
    }

    /// Direct children of `pid`, from /proc.
    func childPIDs(of pid: Int32) throws -> [Int32] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap(Int32.init).filter { candidate in
            guard let stat = try? String(contentsOfFile: "/proc/\(candidate)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == pid
        }
    }

    /// Live processes whose command line names `text` (every child's flags name the state directory).
    func processes(mentioning text: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).compactMap { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else {
                return nil
            }
            let line = String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            return line.contains(text) ? "\(pid): \(line)" : nil
        }
    }
}

/// `kubeswift` run by a test, its standard output collected on a thread of its own.
final class KubeswiftProcess: @unchecked Sendable {
    private let process = Process()
    private let lock = NSLock()
    private var text = ""

    init(_ executable: String, _ arguments: [String]) throws {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw XCTSkip("\(executable) is not built; run swift build first")
        }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let handle = output.fileHandleForReading
        Thread { [weak self] in
            while true {
                let data = handle.availableData
                guard !data.isEmpty, let self else { return }
                self.lock.withLock { self.text += String(decoding: data, as: UTF8.self) }
            }
        }.start()
    }

    var pid: Int32 { process.processIdentifier }
    var output: String { lock.withLock { text } }

    /// The first output line containing `marker`, trimmed; throws with the output after `timeout` seconds or
    /// when the process exits without printing it.
    func waitForLine(containing marker: String, timeout: TimeInterval) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let line = output.split(separator: "\n").first(where: { $0.contains(marker) }) {
                return line.trimmingCharacters(in: .whitespaces)
            }
            if !process.isRunning && !output.contains(marker) {
                Thread.sleep(forTimeInterval: 0.2)
                if !output.contains(marker) { break }
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw KubeswiftOutputError(description: "no line containing \(marker) in:\n\(output)")
    }

    func interrupt() { Foundation.kill(process.processIdentifier, SIGINT) }

    /// Ctrl-C, then `waitForExit`.
    func stop() {
        interrupt()
        _ = waitForExit()
    }

    /// The exit status, or -1 (after SIGKILL) when the process has not exited within `timeout` seconds.
    func waitForExit(timeout: TimeInterval = 60) -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        guard !process.isRunning else {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return -1
        }
        return process.terminationStatus
    }
}

struct KubeswiftOutputError: Error, CustomStringConvertible {
    let description: String
}
