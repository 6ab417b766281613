import Foundation
public import Logging

/// glog-style logging for the control-plane components: `--logtostderr`, `--log-dir`, `--v`.
/// Lines look like glog's (`I1126 15:36:00.123456 pid file] message`) so operators' greps keep working.
public struct ComponentLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let sink: LogSink

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let prefix: String
        switch event.level {
        case .trace, .debug, .info, .notice: prefix = "I"
        case .warning: prefix = "W"
        case .error: prefix = "E"
        case .critical: prefix = "F"
        }
        let now = Date()
        var time = time_t(now.timeIntervalSince1970)
        var parts = tm()
        localtime_r(&time, &parts)
        let micros = Int((now.timeIntervalSince1970 - floor(now.timeIntervalSince1970)) * 1_000_000)
        let stamp = String(
            format: "%@%02d%02d %02d:%02d:%02d.%06d %7d %@:%d]", prefix, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour,
            parts.tm_min, parts.tm_sec, micros, getpid(), (event.file as NSString).lastPathComponent, event.line)
        var line = "\(stamp) \(event.message)"
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        if !merged.isEmpty {
            line += " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        sink.write(line + "\n")
    }
}

/// Where log lines go: standard error, or `<log-dir>/<component>.INFO` (appended, as glog's symlink target).
public final class LogSink: Sendable {
    private let handle: FileHandle

    init(handle: FileHandle) { self.handle = handle }

    func write(_ line: String) {
        handle.write(Data(line.utf8))
    }

    /// Sets up the process-wide logger from the component's log flags.
    public static func bootstrap(component: String, toStderr: Bool, logDirectory: String, verbosity: Int) {
        var sink = LogSink(handle: FileHandle.standardError)
        if !toStderr, !logDirectory.isEmpty {
            try? FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
            let path = logDirectory + "/" + component + ".INFO"
            if !FileManager.default.fileExists(atPath: path) {
                _ = FileManager.default.createFile(atPath: path, contents: nil)
            }
            if let handle = FileHandle(forWritingAtPath: path) {
                handle.seekToEndOfFile()
                sink = LogSink(handle: handle)
            }
        }
        let level: Logger.Level = verbosity >= 4 ? .trace : verbosity >= 2 ? .debug : .info
        let chosen = sink
        LoggingSystem.bootstrap { _ in ComponentLogHandler(logLevel: level, sink: chosen) }
    }
}
