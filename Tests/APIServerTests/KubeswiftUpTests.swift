import Foundation
import TestSupport
import XCTest

/// `kubeswift up`, as a new user runs it: prints the KUBECONFIG line, serves kubectl, stops on Ctrl-C,
/// and reuses its certificates and data on the next run.
final class KubeswiftUpTests: XCTestCase {
    func startUp(stateDirectory: String, port: Int) throws -> (Process, Pipe) {
        let binary = TestCluster.productsDirectory.appendingPathComponent("kubeswift")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw TestClusterError("kubeswift is not built at \(binary.path); run `swift build` first")
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = ["up", "--state-dir", stateDirectory, "--address", "127.0.0.25", "--port", String(port)]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, output)
    }

    /// Collects a pipe's output on a background thread, so waiting for a line can time out.
    final class OutputCollector: @unchecked Sendable {
        private let lock = NSLock()
        private var text = ""

        init(_ pipe: Pipe) {
            let handle = pipe.fileHandleForReading
            Thread {
                while true {
                    let data = handle.availableData
                    if data.isEmpty { return }
                    self.lock.lock()
                    self.text += String(decoding: data, as: UTF8.self)
                    self.lock.unlock()
                }
            }.start()
        }

        var output: String {
            lock.lock()
            defer { lock.unlock() }
            return text
        }

        /// Waits up to 30 s for a line containing `marker`.
        func line(containing marker: String) throws -> String {
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                if let line = output.split(separator: "\n").first(where: { $0.contains(marker) }) {
                    return line.trimmingCharacters(in: .whitespaces)
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
            throw TestClusterError("no line containing \(marker) in:\n\(output)")
        }
    }

    func testUpServesKubectlStopsOnInterruptAndReusesState() throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("kubeswift-up-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: state) }
        let port = Int.random(in: 20_000..<60_000)

        let (first, firstPipe) = try startUp(stateDirectory: state, port: port)
        let firstOutput = OutputCollector(firstPipe)
        let export = try firstOutput.line(containing: "export KUBECONFIG=")
        XCTAssertEqual(export, "export KUBECONFIG=\(state)/admin.kubeconfig")
        let kubeconfig = "--kubeconfig=\(state)/admin.kubeconfig"
        var result = try TestCluster.run(TestCluster.kubectlPath, [kubeconfig, "create", "namespace", "kept"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let caBefore = try String(contentsOfFile: state + "/pki/ca.pem", encoding: .utf8)

        // The whole control plane runs: the controller-manager makes a Deployment's ReplicaSet and pods, the
        // scheduler binds them to the simulated nodes, which run them, and a Job's `sleep 1` completes.
        result = try TestCluster.run(
            TestCluster.kubectlPath, [kubeconfig, "create", "deployment", "web", "--image=nginx", "--replicas=3"])
        XCTAssertEqual(result.status, 0, result.stderr)
        result = try TestCluster.run(
            TestCluster.kubectlPath, [kubeconfig, "rollout", "status", "deployment/web", "--timeout=60s"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains("successfully rolled out"), result.stdout)
        result = try TestCluster.run(
            TestCluster.kubectlPath,
            [kubeconfig, "get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].status.phase}"])
        XCTAssertEqual(result.stdout, "Running Running Running", result.stderr)
        result = try TestCluster.run(
            TestCluster.kubectlPath, [kubeconfig, "create", "job", "once", "--image=busybox", "--", "sleep", "1"])
        XCTAssertEqual(result.status, 0, result.stderr)
        result = try TestCluster.run(
            TestCluster.kubectlPath,
            [kubeconfig, "wait", "--for=condition=complete", "job/once", "--timeout=60s"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)

        kill(first.processIdentifier, SIGINT)
        XCTAssertNoThrow(try firstOutput.line(containing: "KubeSwift control plane stopped."))
        first.waitUntilExit()
        XCTAssertEqual(first.terminationStatus, 0)

        let (second, secondPipe) = try startUp(stateDirectory: state, port: port)
        defer {
            kill(second.processIdentifier, SIGKILL)
            second.waitUntilExit()
        }
        _ = try OutputCollector(secondPipe).line(containing: "export KUBECONFIG=")
        XCTAssertEqual(try String(contentsOfFile: state + "/pki/ca.pem", encoding: .utf8), caBefore)
        result = try TestCluster.run(TestCluster.kubectlPath, [kubeconfig, "get", "namespace", "kept", "-o", "name"])
        XCTAssertEqual(result.stdout, "namespace/kept\n", result.stderr)
    }
}
