import ArgumentParser
import Client
import Foundation
import Operations

/// A child process of the scheduler bench with its stderr collected, so a failure can show the log
/// and the bench can read the process's memory and CPU time from /proc.
struct BenchProcess {
    let name: String
    let process: Process
    let log: LogCollector

    /// Starts `executable` with `arguments`; stdout is discarded, stderr collected.
    static func launch(name: String, executable: String, arguments: [String]) throws -> BenchProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let log = LogCollector()
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        errors.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            // An empty read is end of file: stop, or the handler is called again and again.
            if chunk.isEmpty { handle.readabilityHandler = nil } else { log.append(chunk) }
        }
        try process.run()
        return BenchProcess(name: name, process: process, log: log)
    }

    var pid: Int32 { process.processIdentifier }

    /// The port from the "Serving securely on ADDR:PORT" line (the process binds port 0).
    func waitForServingPort(within limit: Duration) async throws -> Int {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            let text = log.text
            if let range = text.range(of: "Serving securely on ") {
                let rest = text[range.upperBound...].prefix { !$0.isNewline }
                if let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]) {
                    return port
                }
            }
            guard process.isRunning else { throw ValidationError("\(name) exited early:\n\(text)") }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw ValidationError("\(name) did not report its port within \(limit):\n\(log.text)")
    }

    /// SIGTERM, then SIGKILL if the process is still there after ten seconds. Synchronous on purpose:
    /// it also runs after Ctrl-C has cancelled the bench's task, where sleeping would throw.
    func stop() {
        if process.isRunning {
            process.terminate()
            for _ in 0..<1000 where process.isRunning { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        (process.standardError as? Pipe)?.fileHandleForReading.readabilityHandler = nil
    }

    /// The last `count` lines of the log, for a failure report.
    func tail(_ count: Int) -> String {
        log.text.split(separator: "\n", omittingEmptySubsequences: false).suffix(count).joined(separator: "\n")
    }
}

/// User plus system CPU time a process has used, from /proc/PID/stat.
enum ProcessCPU {
    /// Seconds of CPU since the process started; nil when /proc cannot be read.
    static func seconds(pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm)" come state, ppid, …; utime and stime are the 12th and 13th fields from there.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return ticks > 0 ? (user + system) / ticks : nil
    }
}

/// One scenario's control plane: a kube-apiserver on a fresh SQLite store in `directory`, the bench's
/// clients, and (once nodes exist) a kube-scheduler, both on one loopback address.
final class BenchCluster {
    let apiServer: BenchProcess
    private(set) var scheduler: BenchProcess?
    /// Creates: client-side rate limiting off, several HTTP/2 connections.
    let client: RESTClient
    /// The pods watch, on its own connection so events never queue behind create frames.
    let watcher: RESTClient
    let server: String
    private let directory: String

    /// Starts the API server with the certificates in `pki` and waits for /readyz.
    init(
        apiServerPath: String, address: String, pki: String, certificates: GuideCertificates, directory: String,
        connections: Int
    ) async throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let apiServer = try BenchProcess.launch(
            name: "kube-apiserver", executable: apiServerPath,
            arguments: BenchAPIServer.flags(address: address, pki: pki, dataDirectory: directory + "/data") + [
                // No node lifecycle controller runs here to lift the not-ready taint from the bench's nodes.
                "--disable-admission-plugins=TaintNodesByCondition"
            ])
        self.apiServer = apiServer
        do {
            let port = try await apiServer.waitForServingPort(within: .seconds(30))
            server = "https://\(address):\(port)"
            try Kubeconfig.admin(
                server: server, certificateAuthority: certificates.certificateAuthority, admin: certificates.admin
            )
            .write(toFile: directory + "/admin.kubeconfig")
            var configuration = try ClientConfiguration.load(kubeconfigPath: directory + "/admin.kubeconfig")
            // The bench must out-pace the scheduler, so its own client never waits for a token.
            configuration.qps = -1
            configuration.connections = connections
            client = try RESTClient(configuration: configuration)
            configuration.connections = 1
            watcher = try RESTClient(configuration: configuration)
            try await Self.waitForReady(client, process: apiServer)
        } catch {
            apiServer.stop()
            throw error
        }
    }

    /// Starts kube-scheduler against this API server: no leader election, upstream's scheduler_perf
    /// client limits, serving off, and a configuration file only when `percentageOfNodesToScore` is set.
    func startScheduler(path: String, address: String, percentageOfNodesToScore: Int?) throws {
        var arguments = [
            "--kubeconfig=\(directory)/admin.kubeconfig", "--leader-elect=false", "--kube-api-qps=5000",
            "--kube-api-burst=5000", "--secure-port=0", "--bind-address=\(address)", "--v=0",
        ]
        if let percentageOfNodesToScore {
            let file = directory + "/kube-scheduler.yaml"
            try Data(
                """
                apiVersion: kubescheduler.config.k8s.io/v1
                kind: KubeSchedulerConfiguration
                percentageOfNodesToScore: \(percentageOfNodesToScore)

                """.utf8
            ).write(to: URL(fileURLWithPath: file))
            arguments.append("--config=\(file)")
        }
        scheduler = try BenchProcess.launch(name: "kube-scheduler", executable: path, arguments: arguments)
    }

    /// Stops both processes, closes the clients and removes the scenario's directory.
    func stop() async {
        scheduler?.stop()
        apiServer.stop()
        await client.shutdown()
        await watcher.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Polls /readyz until 200, for at most 30 s.
    private static func waitForReady(_ client: RESTClient, process: BenchProcess) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let response = try? await client.send(Request(method: .get, path: "/readyz")), response.status == 200 {
                return
            }
            guard process.process.isRunning else {
                throw ValidationError("kube-apiserver exited before /readyz was ok:\n\(process.tail(20))")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw ValidationError("kube-apiserver's /readyz did not answer 200 within 30 s")
    }
}
