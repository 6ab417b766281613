public import Foundation

/// A control-plane executable other than the API server (kube-scheduler, kube-controller-manager) run by a
/// test: started from the build products with a log file of its own, stopped, killed or paused on demand.
public final class ComponentProcess: @unchecked Sendable {
    public let name: String
    public let logFile: URL
    private let process: Process

    /// Starts `executable` (a product name) with `arguments`; its output goes to `<directory>/<logName>.log`.
    public init(executable: String, arguments: [String], directory: URL, logName: String? = nil) throws {
        let binary = TestCluster.productsDirectory.appendingPathComponent(executable)
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw TestClusterError("\(executable) is not built at \(binary.path); run `swift build` first")
        }
        name = logName ?? executable
        logFile = directory.appendingPathComponent("\(name).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let log = try FileHandle(forWritingTo: logFile)
        process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }
    public var isRunning: Bool { process.isRunning }
    public var processIdentifier: Int32 { process.processIdentifier }

    /// Waits until the log contains `text`; false on timeout or when the process exits first.
    public func waitForLog(_ text: String, timeout: TimeInterval = 30) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if log.contains(text) { return true }
            if !process.isRunning { return log.contains(text) }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    /// Sends `signal` (SIGTERM, SIGKILL, SIGSTOP, SIGCONT) without waiting.
    public func send(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Stops the process (SIGTERM, or SIGKILL when `kill` is set) and returns its exit status.
    @discardableResult
    public func stop(kill: Bool = false) -> Int32 {
        if process.isRunning {
            send(SIGCONT)
            send(kill ? SIGKILL : SIGTERM)
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
