import APIMachinery
import Client
import Foundation

/// One create the writer sent: when, and whether the API server acknowledged it (and at what resourceVersion).
struct FailoverAttempt: Sendable {
    var name: String
    var started: ContinuousClock.Instant
    var ended: ContinuousClock.Instant
    var resourceVersion: Int64?
}

/// Creates ConfigMaps one after another at a steady pace through nginx until cancelled, recording every attempt.
final class FailoverWriter: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [FailoverAttempt] = []

    var attempts: [FailoverAttempt] { lock.withLock { recorded } }

    /// Runs until the task is cancelled; a create that fails is recorded and the next one goes on.
    func run(client: RESTClient, namespace: String, perSecond: Int) async {
        let pause = Duration.seconds(1) / max(perSecond, 1)
        var index = 0
        while !Task.isCancelled {
            let name = "failover-\(index)"
            index += 1
            let started = ContinuousClock.now
            let body: JSON = [
                "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name)],
                "data": ["n": .string(name)],
            ]
            var resourceVersion: Int64?
            if let created = try? await client.postJSON(path: "/api/v1/namespaces/\(namespace)/configmaps", body) {
                resourceVersion = created[path: "metadata", "resourceVersion"]?.stringValue.flatMap { Int64($0) }
            }
            let attempt = FailoverAttempt(
                name: name, started: started, ended: .now, resourceVersion: resourceVersion)
            lock.withLock { recorded.append(attempt) }
            try? await Task.sleep(until: started + pause)
        }
    }

    /// The client-visible error window among attempts started in `range`: from the first failed attempt's start
    /// to the end of the last failed one (zero when none failed), and the slowest attempt.
    func window(in range: Range<ContinuousClock.Instant>) -> (errors: Int, window: Duration, slowest: Duration) {
        let inRange = attempts.filter { range.contains($0.started) }
        let failed = inRange.filter { $0.resourceVersion == nil }
        let slowest = inRange.map { $0.ended - $0.started }.max() ?? .zero
        guard let first = failed.first, let last = failed.last else { return (0, .zero, slowest) }
        return (failed.count, last.ended - first.started, slowest)
    }
}

/// Watches a collection through nginx from a resourceVersion until cancelled, resuming from the last event
/// after a broken stream (as a reflector does), and records every event in arrival order.
final class FailoverWatcher: @unchecked Sendable {
    struct Seen: Sendable {
        var type: WatchEvent.EventType
        var name: String
        var uid: String
        var resourceVersion: Int64
        var nodeName: String?
    }

    private let lock = NSLock()
    private var events: [Seen] = []
    private var broken = 0
    private var expired = 0

    var seen: [Seen] { lock.withLock { events } }
    var restarts: (broken: Int, expired: Int) { lock.withLock { (broken, expired) } }

    func run(client: RESTClient, path: String, from start: Int64) async {
        var resourceVersion = start
        while !Task.isCancelled {
            do {
                let stream = try await client.watch(
                    path: path,
                    query: ["resourceVersion": String(resourceVersion), "allowWatchBookmarks": "true"])
                for try await event in stream {
                    let version = event.object[path: "metadata", "resourceVersion"]?.stringValue.flatMap { Int64($0) }
                    if event.type == .error {
                        lock.withLock { expired += 1 }
                        break
                    }
                    if let version { resourceVersion = version }
                    guard event.type != .bookmark, let version else { continue }
                    let seen = Seen(
                        type: event.type, name: event.object[path: "metadata", "name"]?.stringValue ?? "",
                        uid: event.object[path: "metadata", "uid"]?.stringValue ?? "", resourceVersion: version,
                        nodeName: event.object[path: "spec", "nodeName"]?.stringValue)
                    lock.withLock { events.append(seen) }
                }
            } catch {}
            guard !Task.isCancelled else { return }
            lock.withLock { broken += 1 }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// What the checker found comparing the writer's acknowledgements with storage and the watcher's stream.
struct FailoverCheck {
    var acknowledged = 0
    var lost: [String] = []
    var missingFromWatch: [String] = []
    var outOfOrder = 0

    init(writer: FailoverWriter, listed: Set<String>, watcher: FailoverWatcher) {
        let acknowledged = writer.attempts.filter { $0.resourceVersion != nil }
        self.acknowledged = acknowledged.count
        lost = acknowledged.map(\.name).filter { !listed.contains($0) }
        let added = Set(watcher.seen.filter { $0.type == .added }.map(\.name))
        missingFromWatch = acknowledged.map(\.name).filter { !added.contains($0) }
        let versions = watcher.seen.map(\.resourceVersion)
        outOfOrder = zip(versions, versions.dropFirst()).filter { $0 >= $1 }.count
    }

    var passed: Bool { lost.isEmpty && missingFromWatch.isEmpty && outOfOrder == 0 }
}

extension Duration {
    /// Seconds with two decimals, for reports.
    var secondsText: String {
        String(format: "%.2f", Double(components.seconds) + Double(components.attoseconds) / 1e18)
    }
}
