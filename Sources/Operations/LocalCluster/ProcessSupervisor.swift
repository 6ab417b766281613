public import Foundation

/// Runs a local cluster's processes as systemd runs the rendered units (`Restart=on-failure` with the unit's
/// `RestartSec=`): each child appends its output to its log file and has a pid file, one that dies other than by
/// exiting 0 is started again after its delay, and `stopAll` ends them all (SIGTERM, then SIGKILL) so that none
/// outlives the supervisor.
public final class ProcessSupervisor: @unchecked Sendable {
    private let lock = NSLock()
    private var children: [String: Foundation.Process] = [:]
    private var order: [LocalCluster.Process] = []
    private var stopping = false
    private let pidDirectory: String
    private let report: @Sendable (String) -> Void

    /// `report` receives a line for each unexpected exit and restart.
    public init(pidDirectory: String, report: @escaping @Sendable (String) -> Void) {
        self.pidDirectory = pidDirectory
        self.report = report
    }

    /// The pid file of the process named `name` under `pidDirectory`.
    public static func pidFile(_ name: String, in pidDirectory: String) -> String { pidDirectory + "/\(name).pid" }

    /// The pid a supervisor wrote for `name`, if that process is alive.
    public static func livePID(_ name: String, in pidDirectory: String) -> Int32? {
        guard let text = try? String(contentsOfFile: pidFile(name, in: pidDirectory), encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0, kill(pid, 0) == 0
        else { return nil }
        return pid
    }

    /// Starts `process` and keeps it running until `stopAll`.
    public func start(_ process: LocalCluster.Process) throws {
        lock.withLock {
            if !order.contains(where: { $0.name == process.name }) { order.append(process) }
        }
        try launch(process)
    }

    /// The current pid of `name`, while it runs.
    public func pid(of name: String) -> Int32? {
        lock.withLock { children[name].flatMap { $0.isRunning ? $0.processIdentifier : nil } }
    }

    private func launch(_ process: LocalCluster.Process) throws {
        let fileManager = FileManager.default
        try fileManager.createDirectory(
            atPath: (process.logFile as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if !fileManager.fileExists(atPath: process.logFile) {
            _ = fileManager.createFile(atPath: process.logFile, contents: nil)
        }
        guard let log = FileHandle(forWritingAtPath: process.logFile), let executable = process.arguments.first else {
            throw UnitCommandLineError("cannot open \(process.logFile) for \(process.name)")
        }
        log.seekToEndOfFile()
        let child = Foundation.Process()
        child.executableURL = URL(fileURLWithPath: executable)
        child.arguments = Array(process.arguments.dropFirst())
        child.standardOutput = log
        child.standardError = log
        child.standardInput = FileHandle.nullDevice
        child.terminationHandler = { [weak self] ended in
            try? log.close()
            self?.exited(process, ended)
        }
        // Foundation runs termination handlers on its own thread, and they take `lock`: never launch under it.
        guard !lock.withLock({ stopping }) else { return }
        try child.run()
        let late = lock.withLock { () -> Bool in
            children[process.name] = child
            return stopping
        }
        if late { kill(child.processIdentifier, SIGTERM) }
        try? Data("\(child.processIdentifier)\n".utf8).write(
            to: URL(fileURLWithPath: Self.pidFile(process.name, in: pidDirectory)))
    }

    private func exited(_ process: LocalCluster.Process, _ child: Foundation.Process) {
        let restart = lock.withLock { () -> Bool in
            guard !stopping, children[process.name] === child else { return false }
            return !(child.terminationReason == .exit && child.terminationStatus == 0)
        }
        guard restart else { return }
        let how =
            child.terminationReason == .uncaughtSignal
            ? "killed by signal \(child.terminationStatus)" : "exited with status \(child.terminationStatus)"
        report("\(process.name) \(how); restarting in \(process.restartDelaySeconds) s (log: \(process.logFile))")
        DispatchQueue.global().asyncAfter(deadline: .now() + process.restartDelaySeconds) { [weak self] in
            guard let self, !self.lock.withLock({ self.stopping }) else { return }
            do { try self.launch(process) } catch { self.report("cannot restart \(process.name): \(error)") }
        }
    }

    /// Stops every process in the reverse of the start order, one role at a time as systemd stops units ordered
    /// with After= (nginx, then the controller-managers and schedulers while the API servers still answer their
    /// lease release, then the API servers while etcd still serves, then etcd): SIGTERM, and SIGKILL for any still
    /// there after `timeout`. Returns once all have exited. Synchronous, so it also runs after the caller's task
    /// was cancelled.
    public func stopAll(timeout: TimeInterval = 10) {
        let running = lock.withLock { () -> [(LocalCluster.Process, Foundation.Process)] in
            stopping = true
            return order.reversed().compactMap { process in children[process.name].map { (process, $0) } }
        }
        var tiers: [[(LocalCluster.Process, Foundation.Process)]] = []
        for entry in running {
            if let last = tiers.last?.last, last.0.role == entry.0.role {
                tiers[tiers.count - 1].append(entry)
            } else {
                tiers.append([entry])
            }
        }
        for tier in tiers {
            for (_, child) in tier { kill(child.processIdentifier, SIGTERM) }
            let deadline = Date().addingTimeInterval(timeout)
            for (process, child) in tier {
                let pid = child.processIdentifier
                while !Self.hasExited(pid) && Date() < deadline { usleep(10_000) }
                if !Self.hasExited(pid) {
                    report("\(process.name) did not stop within \(Int(timeout)) s; killing it")
                    // With it go its own children (a crash's backtracer, say) so none keeps a port or outlives us.
                    for descendant in Self.children(of: pid) { kill(descendant, SIGKILL) }
                    kill(pid, SIGKILL)
                    while !Self.hasExited(pid) { usleep(10_000) }
                }
                try? FileManager.default.removeItem(atPath: Self.pidFile(process.name, in: pidDirectory))
            }
        }
    }

    /// The processes whose parent is `pid`, from /proc.
    private static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { candidate in
            guard let stat = try? String(contentsOfFile: "/proc/\(candidate)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == pid
        }
    }

    /// True once `pid` has exited, reaping it if Foundation has not yet. Foundation's own wait can miss a child's
    /// exit (a zombie then stays "running" for it), so stopping reaps directly; ECHILD means already reaped.
    private static func hasExited(_ pid: Int32) -> Bool {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        return result == pid || (result == -1 && errno == ECHILD)
    }
}
