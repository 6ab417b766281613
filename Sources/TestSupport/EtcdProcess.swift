public import Foundation

/// A real etcd member (Debian's /usr/bin/etcd) on loopback ports chosen free, with its data in a
/// temporary directory; several make a cluster. Stopped and removed on `stop()` or deinit.
public final class EtcdProcess: @unchecked Sendable {
    public static let binary = "/usr/bin/etcd"
    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: binary) }

    /// TLS files for a member: its serving certificate and key, and the CA that client certificates must chain to.
    public struct TLS: Sendable {
        public var certificateFile: String
        public var keyFile: String
        public var trustedCAFile: String
        public init(certificateFile: String, keyFile: String, trustedCAFile: String) {
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.trustedCAFile = trustedCAFile
        }
    }

    public let name: String
    public let clientPort: Int
    public let peerPort: Int
    public let dataDirectory: URL
    public let tls: TLS?
    private let lock = NSLock()
    private var process: Process?
    private var cluster: String = ""
    private var servingLinesAtLaunch = 0
    private let logFile: URL

    public var clientURL: String { "\(tls == nil ? "http" : "https")://127.0.0.1:\(clientPort)" }
    var peerURL: String { "http://127.0.0.1:\(peerPort)" }

    private init(name: String, tls: TLS?) throws {
        self.name = name
        self.tls = tls
        (clientPort, peerPort) = try (Self.freePort(), Self.freePort())
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? URL(fileURLWithPath: "/dev/shm") : nil
        dataDirectory = (base ?? FileManager.default.temporaryDirectory)
            .appendingPathComponent("kubeswift-etcd-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        logFile = dataDirectory.appendingPathComponent("etcd.log")
    }

    /// Starts one member and waits until it serves.
    public static func start(tls: TLS? = nil) throws -> EtcdProcess {
        try startCluster(members: 1, tls: tls)[0]
    }

    /// Starts one member and waits until it serves, without blocking a thread of Swift's cooperative
    /// pool (tests running in parallel would starve meanwhile).
    public static func start(tls: TLS? = nil) async throws -> EtcdProcess {
        try await startCluster(members: 1, tls: tls)[0]
    }

    /// Starts `members` members forming one cluster and waits until all serve.
    public static func startCluster(members: Int, tls: TLS? = nil) throws -> [EtcdProcess] {
        for attempt in 1...launchAttempts {
            let processes = try launchCluster(members: members, tls: tls)
            do {
                for process in processes {
                    let deadline = Date().addingTimeInterval(startTimeout)
                    while try !process.isServing(before: deadline) { Thread.sleep(forTimeInterval: 0.02) }
                }
                return processes
            } catch let error as EtcdProcessError where error.portTaken && attempt < launchAttempts {
                processes.forEach { $0.stop() }
            }
        }
        throw EtcdProcessError("etcd did not start in \(launchAttempts) attempts")
    }

    /// Starts `members` members forming one cluster and waits, asynchronously, until all serve.
    public static func startCluster(members: Int, tls: TLS? = nil) async throws -> [EtcdProcess] {
        for attempt in 1...launchAttempts {
            let processes = try launchCluster(members: members, tls: tls)
            do {
                for process in processes {
                    let deadline = Date().addingTimeInterval(startTimeout)
                    while try !process.isServing(before: deadline) { try await Task.sleep(for: .milliseconds(20)) }
                }
                return processes
            } catch let error as EtcdProcessError where error.portTaken && attempt < launchAttempts {
                processes.forEach { $0.stop() }
            }
        }
        throw EtcdProcessError("etcd did not start in \(launchAttempts) attempts")
    }

    /// A port found free can be taken (by another test's outgoing connection, say) before etcd binds it;
    /// then the whole cluster starts again on new ports.
    static let launchAttempts = 3

    private static func launchCluster(members: Int, tls: TLS?) throws -> [EtcdProcess] {
        let processes = try (0..<members).map { try EtcdProcess(name: "m\($0)", tls: tls) }
        let cluster = processes.map { "\($0.name)=\($0.peerURL)" }.joined(separator: ",")
        for process in processes {
            process.cluster = cluster
            try process.launch()
        }
        return processes
    }

    /// Starts the member again after `kill()` with the same data and ports.
    public func restart() throws {
        try launch()
        let deadline = Date().addingTimeInterval(Self.startTimeout)
        while try !isServing(before: deadline) { Thread.sleep(forTimeInterval: 0.02) }
    }

    /// Starts the member again after `kill()`, waiting asynchronously.
    public func restart() async throws {
        try launch()
        let deadline = Date().addingTimeInterval(Self.startTimeout)
        while try !isServing(before: deadline) { try await Task.sleep(for: .milliseconds(20)) }
    }

    static let startTimeout: TimeInterval = 20

    private func launch() throws {
        let before = servingLines(in: log)
        lock.withLock { servingLinesAtLaunch = before }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        let clientURL = self.clientURL
        var arguments = [
            "--name", name, "--data-dir", dataDirectory.appendingPathComponent("data").path,
            "--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
            "--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
            "--initial-cluster", cluster, "--initial-cluster-state", "new",
            "--initial-cluster-token", "kubeswift-test",
            // Short raft timings so a test cluster elects a leader in well under a second.
            "--heartbeat-interval", "25", "--election-timeout", "250",
            "--logger", "zap", "--log-outputs", logFile.path,
            // Progress notifications twice a second rather than etcd's default of every 10 minutes (kubeadm
            // sets 5 s), so tests see quiet watches move on.
            "--experimental-watch-progress-notify-interval", "500ms",
        ]
        if let tls {
            arguments += [
                "--cert-file", tls.certificateFile, "--key-file", tls.keyFile, "--client-cert-auth",
                "--trusted-ca-file", tls.trustedCAFile,
            ]
        }
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        lock.withLock { self.process = process }
    }

    /// The log's "serving client traffic" lines: a restarted member appends to the log of its first run,
    /// so only a line written after the latest launch says it serves.
    private func servingLines(in log: String) -> Int {
        log.components(separatedBy: "\"serving client traffic").count - 1
    }

    /// True once the member serves clients; throws when it exited or `deadline` passed.
    private func isServing(before deadline: Date) throws -> Bool {
        if servingLines(in: log) > lock.withLock({ servingLinesAtLaunch }) { return true }
        if let process = lock.withLock({ self.process }), !process.isRunning {
            throw EtcdProcessError("etcd \(name) exited:\n\(log.suffix(2000))")
        }
        guard Date() < deadline else {
            throw EtcdProcessError(
                "etcd \(name) did not become ready within \(Self.startTimeout) s:\n\(log.suffix(2000))")
        }
        return false
    }

    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    public var isRunning: Bool { lock.withLock { process?.isRunning ?? false } }

    /// kill -9, keeping the data for `restart()`.
    public func kill() {
        guard let process = lock.withLock({ self.process }), process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// kill -STOP: the member keeps its sockets open but answers nothing, like a partitioned host.
    public func pause() {
        guard let process = lock.withLock({ self.process }), process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGSTOP)
    }

    /// kill -CONT after `pause()`.
    public func resume() {
        guard let process = lock.withLock({ self.process }), process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGCONT)
    }

    /// Stops the member and removes its data.
    public func stop() {
        // SIGKILL, not SIGTERM: the data goes anyway, and etcd's graceful shutdown takes long enough that
        // waiting for it would hold a thread of the cooperative pool that parallel tests need.
        if let process = lock.withLock({ self.process }), process.isRunning {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: dataDirectory)
    }

    deinit { stop() }

    /// A port nothing listens on now: bound to port 0 and released (etcd binds it right after).
    static func freePort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw EtcdProcessError("socket() failed") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0
            }
        }
        guard bound else { throw EtcdProcessError("bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// etcd could not be started.
public struct EtcdProcessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }

    /// True when the member exited because a port it was given was taken meanwhile.
    var portTaken: Bool { description.contains("address already in use") }
}
