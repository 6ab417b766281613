import APIMachinery
import Foundation
import Logging
import NIOConcurrencyHelpers
import Prometheus

/// Where audit events go. `process` must never block the request that produced the event.
public protocol AuditSink: Sendable {
    func process(_ event: AuditEvent)
}

/// The audit counters upstream exposes at /metrics.
struct AuditMetrics: Sendable {
    /// `apiserver_audit_event_total`: events generated and sent to the backend.
    let events: Counter
    /// `apiserver_audit_error_total{plugin}`: events that could not be audited.
    let logErrors: Counter
    let bufferErrors: Counter

    init(registry: PrometheusCollectorRegistry) {
        events = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "apiserver", subsystem: "audit", metricName: "event", unitName: "total",
                helpText: "Counter of audit events generated and sent to the audit backend."))
        func errors(_ plugin: String) -> Counter {
            registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "apiserver", subsystem: "audit", metricName: "error", unitName: "total",
                    helpText:
                        "Counter of audit events that failed to be audited properly. Plugin identifies the plugin affected by the error."
                ), labels: [("plugin", plugin)])
        }
        logErrors = errors("log")
        bufferErrors = errors("buffered")
    }
}

/// The `--audit-log-path` backend: requests hand events to a bounded queue, and one dedicated thread
/// encodes and writes them (rotating the file as upstream does). A full queue or a failing disk never
/// blocks a request; every lost event is counted in `apiserver_audit_error_total` and logged as an error.
public final class AuditLogBackend: AuditSink, @unchecked Sendable {
    /// The destination: standard output (`-`) or a rotated file.
    enum Output {
        case standardOutput
        case file(AuditLogFile)
    }

    /// Upstream's default audit buffer size.
    public static let defaultCapacity = 10_000
    /// Events at Request level and above carry bodies of up to 3 MiB: the queue is bounded in bytes as well.
    static let maxQueuedBytes = 128 << 20

    private let output: Output
    private let capacity: Int
    private let logger = Logger(label: "kube-apiserver.audit")
    // Everything below is guarded by `condition`.
    private let condition = NSCondition()
    private var queue: [AuditEvent] = []
    private var queuedBytes = 0
    private var writing = false
    private var stopped = false
    private var metricsStorage: AuditMetrics?
    private var lastDropReport: ContinuousClock.Instant?
    private var unreportedDrops = 0
    /// Write errors not yet logged, by message, with the count of events each lost.
    private var writeErrors: [String: (count: Int, sample: AuditEvent)] = [:]
    private var lastErrorReport: ContinuousClock.Instant?

    /// `--audit-log-path` with the rotation flags; `-` writes to standard output.
    public convenience init(path: String, maxSizeMegabytes: Int, maxBackups: Int, maxAgeDays: Int) throws {
        if path == "-" {
            self.init(output: .standardOutput)
            return
        }
        // As upstream's ensureLogFile: the directory and file exist (0700/0600) before serving.
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let descriptor = open(path, O_CREAT | O_APPEND | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw AuditPolicyError(message: "ensureLogFile: open \(path): \(AuditLogFile.errorText(errno))")
        }
        close(descriptor)
        self.init(
            output: .file(
                AuditLogFile(
                    path: path, maxSizeMegabytes: maxSizeMegabytes, maxBackups: maxBackups, maxAgeDays: maxAgeDays)))
    }

    init(output: Output, capacity: Int = defaultCapacity) {
        self.output = output
        self.capacity = capacity
        let thread = Thread { [self] in run() }
        thread.name = "audit-log-writer"
        thread.start()
    }

    var metrics: AuditMetrics? {
        get {
            condition.lock()
            defer { condition.unlock() }
            return metricsStorage
        }
        set {
            condition.lock()
            metricsStorage = newValue
            condition.unlock()
        }
    }

    /// Queues the event; drops it (counted and logged) when the queue is full.
    public func process(_ event: AuditEvent) {
        condition.lock()
        let size = event.approximateSize
        guard queue.count < capacity, queuedBytes + size <= Self.maxQueuedBytes, !stopped else {
            unreportedDrops += 1
            let metrics = metricsStorage
            let now = ContinuousClock.now
            // One error line per second at most: a flood of log lines would only deepen the overload.
            var report = 0
            if lastDropReport.map({ now - $0 >= .seconds(1) }) ?? true {
                report = unreportedDrops
                unreportedDrops = 0
                lastDropReport = now
            }
            condition.unlock()
            metrics?.bufferErrors.increment()
            if report > 0 {
                logger.error(
                    "Error in audit plugin 'buffered' affecting \(report) audit events: audit buffer queue blocked\nImpacted events:\n\(Self.eventString(event))"
                )
            }
            return
        }
        queue.append(event)
        queuedBytes += size
        if queue.count == 1 { condition.signal() }
        condition.unlock()
    }

    /// Waits until every event queued so far is written (tests, and shutdown).
    public func flush() {
        condition.lock()
        while !queue.isEmpty || writing { condition.wait() }
        condition.unlock()
    }

    /// Writes what is queued, then ends the writer thread.
    public func shutdown() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
        flush()
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopped { condition.wait() }
            if queue.isEmpty && stopped {
                condition.unlock()
                return
            }
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            queuedBytes = 0
            writing = true
            condition.unlock()

            for event in batch { write(event) }

            condition.lock()
            writing = false
            let report = takeErrorReport()
            condition.broadcast()
            condition.unlock()
            for line in report { logger.error("\(line)") }
        }
    }

    private func write(_ event: AuditEvent) {
        let line = event.encodedLine()
        do {
            switch output {
            case .standardOutput: try Self.writeAll(line, to: STDOUT_FILENO)
            case .file(let file): try file.write(line)
            }
        } catch {
            condition.lock()
            writeErrors[error.description, default: (0, event)].count += 1
            let metrics = metricsStorage
            condition.unlock()
            metrics?.logErrors.increment()
        }
    }

    /// Upstream's HandlePluginError text for the write errors since the last report, at most once a second.
    private func takeErrorReport() -> [String] {
        guard !writeErrors.isEmpty else { return [] }
        let now = ContinuousClock.now
        if let last = lastErrorReport, now - last < .seconds(1) { return [] }
        lastErrorReport = now
        defer { writeErrors = [:] }
        return writeErrors.map { message, entry in
            "Error in audit plugin 'log' affecting \(entry.count) audit events: \(message)\nImpacted events:\n"
                + Self.eventString(entry.sample)
        }
    }

    static func writeAll(_ bytes: [UInt8], to descriptor: Int32) throws(AuditLogFile.WriteError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return Foundation.write(descriptor, base + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw AuditLogFile.WriteError(description: "write /dev/stdout: \(AuditLogFile.errorText(errno))")
            }
            offset += written
        }
    }

    /// Upstream's one-line summary of an event (`audit.EventString`), for error logs.
    static func eventString(_ event: AuditEvent) -> String {
        func quoted(_ text: String) -> String { JSON.string(text).jsonString }
        var username = "<none>"
        var groups = "<none>"
        if let user = event.user, !user.name.isEmpty {
            username = user.name
            if !user.groups.isEmpty { groups = user.groups.map(quoted).joined(separator: ",") }
        }
        let namespace = event.objectRef.map { $0.namespace.isEmpty ? "<none>" : $0.namespace } ?? "<none>"
        let response = event.responseStatus.map { String($0.code) } ?? "<deferred>"
        return "\(AuditEvent.formatMicros(event.requestReceivedTimestamp)) AUDIT: id=\(quoted(event.auditID))"
            + " stage=\(quoted(event.stage.rawValue)) ip=\(quoted(event.sourceIPs.first ?? "<unknown>"))"
            + " method=\(quoted(event.verb)) user=\(quoted(username)) groups=\(quoted(groups))"
            + " as=\"<self>\" asgroups=\"<lookup>\" user-agent=\(quoted(event.userAgent))"
            + " namespace=\(quoted(namespace)) uri=\(quoted(event.requestURI)) response=\"\(response)\""
    }
}
