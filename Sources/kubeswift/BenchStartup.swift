import ArgumentParser
import Client
import Foundation
import Operations

/// `kubeswift bench startup`: starts a kube-apiserver binary on loopback with a fresh store, times
/// process start → first `/readyz` 200 over TLS, and reads its resident memory idle and loaded.
struct BenchStartup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "startup",
        abstract: "Time a kube-apiserver's start to /readyz and read its RSS idle and holding ConfigMaps.")

    @Option(help: "Path of the kube-apiserver binary to start.")
    var apiserver: String

    @Option(help: "ConfigMaps to create before the loaded RSS reading.")
    var listSize: Int = 10000

    @Option(help: "Bytes in each ConfigMap's data value.")
    var valueBytes: Int = 300

    @Flag(help: "Print one JSON document instead of text.")
    var json = false

    func run() async throws {
        guard FileManager.default.isExecutableFile(atPath: apiserver) else {
            throw ValidationError("--apiserver \(apiserver) is not an executable file")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kubeswift-bench-\(BenchObjects.runID())"
        ).path
        let pki = directory + "/pki"
        try FileManager.default.createDirectory(atPath: pki, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var options = GuideCertificates.Options()
        options.apiServerIPAddresses = ["127.0.0.1", "10.254.0.1"]
        let certificates = try GuideCertificates.write(directory: pki, options: options)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: apiserver)
        process.arguments = [
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port=0",
            "--tls-cert-file=\(pki)/kubernetes.pem", "--tls-private-key-file=\(pki)/kubernetes-key.pem",
            "--client-ca-file=\(pki)/ca.pem", "--data-dir=\(directory)/data",
            "--service-cluster-ip-range=10.254.0.0/16", "--anonymous-auth=false", "--logtostderr=true", "--v=0",
        ]
        let log = LogCollector()
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        errors.fileHandleForReading.readabilityHandler = { handle in log.append(handle.availableData) }

        let clock = ContinuousClock()
        let start = clock.now
        try process.run()
        defer {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
            errors.fileHandleForReading.readabilityHandler = nil
        }
        let port = try await waitForPort(log, process: process)
        let listening = clock.now - start
        // Client set-up (parsing PEM, building the TLS context) is ours, not the server's: report it apart.
        let setupStart = clock.now
        var configuration = try ClientConfiguration(server: "https://127.0.0.1:\(port)")
        configuration.trustRootsPEM = Array(certificates.certificateAuthority.certificatePEM.utf8)
        configuration.clientCertificatePEM = Array(certificates.admin.certificatePEM.utf8)
        configuration.clientKeyPEM = Array(certificates.admin.privateKeyPEM.utf8)
        configuration.requestTimeout = .seconds(600)
        let client = try RESTClient(configuration: configuration.unthrottled)
        let clientSetup = clock.now - setupStart
        let ready = try await waitForReady(client, clock: clock, start: start, process: process)
        // Let start-up work (bootstrap objects, first GC) settle before calling it idle.
        try await Task.sleep(for: .seconds(1))
        let idle = ResidentMemory(pid: process.processIdentifier)

        let collection = "/api/v1/namespaces/default/configmaps"
        let run = BenchObjects.runID()
        let fill = await LoadRunner.run("create configmap", count: listSize, concurrency: 16) { index in
            _ = try await client.post(
                path: collection,
                body: BenchObjects.configMap(
                    name: "startup-\(index)", namespace: "default", run: run, set: "startup", valueBytes: valueBytes))
        }
        let loaded = ResidentMemory(pid: process.processIdentifier)
        _ = try await client.get(path: collection)
        let afterList = ResidentMemory(pid: process.processIdentifier)
        await client.shutdown()

        let report = StartupReport(
            listeningMilliseconds: milliseconds(listening), readyMilliseconds: milliseconds(ready),
            clientSetupMilliseconds: milliseconds(clientSetup),
            idle: idle, objects: listSize - fill.errors, loaded: loaded, afterFullList: afterList)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print("kube-apiserver \(apiserver)")
            print("  start → listening:      \(format(report.listeningMilliseconds, 1)) ms")
            print(
                "  start → /readyz 200:    \(format(report.readyMilliseconds, 1)) ms"
                    + " (includes \(format(report.clientSetupMilliseconds, 1)) ms of client set-up and one TLS handshake)"
            )
            print("  RSS idle:               \(idle.description)")
            print("  RSS with \(report.objects) ConfigMaps: \(loaded.description)")
            print("  RSS after a full LIST:  \(afterList.description)")
            if let firstError = fill.firstError { print("  (\(fill.errors) creates failed: \(firstError))") }
        }
    }

    /// The port from the "Serving securely on ADDR:PORT" line (the server binds port 0).
    private func waitForPort(_ log: LogCollector, process: Process) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let text = log.text
            if let range = text.range(of: "Serving securely on ") {
                let rest = text[range.upperBound...].prefix { !$0.isNewline }
                if let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]) {
                    return port
                }
            }
            guard process.isRunning else { throw ValidationError("kube-apiserver exited early:\n\(text)") }
            try await Task.sleep(for: .milliseconds(1))
        }
        throw ValidationError("kube-apiserver did not report its port within 30 s:\n\(log.text)")
    }

    /// Polls /readyz until 200; returns the time since `start`.
    private func waitForReady(
        _ client: RESTClient, clock: ContinuousClock, start: ContinuousClock.Instant, process: Process
    )
        async throws -> Duration
    {
        let deadline = start + .seconds(30)
        while clock.now < deadline {
            if let response = try? await client.send(Request(method: .get, path: "/readyz")), response.status == 200 {
                return clock.now - start
            }
            guard process.isRunning else { throw ValidationError("kube-apiserver exited before /readyz was ok") }
            try await Task.sleep(for: .milliseconds(2))
        }
        throw ValidationError("/readyz did not answer 200 within 30 s")
    }
}

/// VmRSS and VmHWM (peak) of a process, from /proc/PID/status, in MiB.
struct ResidentMemory: Codable, Sendable, CustomStringConvertible {
    var residentMiB: Double?
    var peakMiB: Double?

    init(pid: Int32) {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        func kibibytes(_ field: String) -> Double? {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }) else { return nil }
            // "VmRSS:\t  123456 kB"
            return line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Double($0) }
        }
        residentMiB = kibibytes("VmRSS").map { $0 / 1024 }
        peakMiB = kibibytes("VmHWM").map { $0 / 1024 }
    }

    var description: String {
        guard let residentMiB else { return "unavailable (no /proc)" }
        return "\(format(residentMiB, 1)) MiB (peak \(format(peakMiB ?? 0, 1)) MiB)"
    }
}

/// The figures of one start-up run.
struct StartupReport: Codable, Sendable {
    var listeningMilliseconds: Double
    var readyMilliseconds: Double
    /// Time inside `readyMilliseconds` spent building our client, not waiting for the server.
    var clientSetupMilliseconds: Double
    var idle: ResidentMemory
    var objects: Int
    var loaded: ResidentMemory
    var afterFullList: ResidentMemory
}

/// The server's stderr, appended from the pipe's reader thread and read by the waiting task;
/// every access to `data` holds `lock`, which is what makes the unchecked Sendable sound.
final class LogCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    func append(_ chunk: Data) {
        lock.withLock { data.append(chunk) }
    }

    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}
