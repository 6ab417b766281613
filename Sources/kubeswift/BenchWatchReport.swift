import Foundation

/// The figures of one `kubeswift bench watch` run, printed as text or as one JSON document.
struct BenchWatchReport: Codable, Sendable {
    /// The server, its storage (nil for a server the bench did not start) and the load's shape.
    var server: String
    var storage: String?
    var watchers: Int
    var connections: Int
    var responseFormat: String
    /// "namespace" or "cluster": which collection the watchers watch.
    var scope: String
    var rate: Int
    var seconds: Int
    var valueBytes: Int

    var creates: Int
    var failedCreates: Int
    var firstCreateError: String?
    /// Creates per second actually sent, and how far behind schedule the writer fell at worst.
    var achievedRate: Double
    var maximumSendLagMilliseconds: Double
    var createMilliseconds: LatencySummary

    /// How long the bench waited for outstanding events after the last create was answered.
    var drainSeconds: Int
    /// Deliveries that arrived, that were owed (acknowledged creates × watchers), and the difference: events
    /// lost, or not arrived by the end of the drain.
    var deliveries: Int
    var expectedDeliveries: Int
    var missedEvents: Int
    var duplicateEvents: Int
    var unexpectedEvents: Int
    var otherEvents: Int
    /// Watches that ended before the bench stopped them, and why the first did.
    var endedWatches: Int
    var firstWatchEnd: String?
    /// Deliveries per second from the first create sent to the last event received.
    var deliveriesPerSecond: Double
    /// Create acknowledged → event received, per delivery; events that beat the acknowledgement count as 0.
    var latencyMilliseconds: LatencySummary
    var deliveriesBeforeAcknowledgement: Int
    /// Create sent → event received, per delivery.
    var sentLatencyMilliseconds: LatencySummary

    /// The API server's memory after the run and its CPU over the run (nil for a server the bench did not start).
    var apiServerResidentMiB: Double?
    var apiServerPeakMiB: Double?
    var apiServerCPUPercent: Double?
    /// This process's CPU over the run: near 100 % per core means the client, not the server, set the pace.
    var benchCPUPercent: Double?

    /// The issue's goal for 100 watchers at 200 creates/s: p99 ≤ 25 ms on SQLite, ≤ 40 ms on etcd.
    var goalMilliseconds: Double? {
        switch storage {
        case "SQLite": return 25
        case "etcd": return 40
        default: return nil
        }
    }

    func printText() {
        print(
            "KubeSwift watch bench: \(server)\(storage.map { " on \($0)" } ?? ""), \(watchers) watchers (\(scope), "
                + "\(responseFormat), \(connections) HTTP/2 connection(s)), \(rate) creates/s for \(seconds) s, "
                + "\(valueBytes)-byte values")
        print("")
        print(
            "  creates:             \(creates) sent at \(format(achievedRate, 1))/s (worst send "
                + "\(format(maximumSendLagMilliseconds, 1)) ms late), \(failedCreates) failed; "
                + "create latency \(describe(createMilliseconds))")
        if let firstCreateError { print("    first create error: \(firstCreateError)") }
        print(
            "  deliveries:          \(deliveries) of \(expectedDeliveries) (\(missedEvents) missed \(drainSeconds) s after the last create, "
                + "\(duplicateEvents) duplicate, \(unexpectedEvents) unexpected, \(otherEvents) other events); "
                + "\(format(deliveriesPerSecond, 0))/s")
        if endedWatches > 0 { print("    \(endedWatches) watches ended early; first: \(firstWatchEnd ?? "")") }
        print(
            "  ack → event:         \(describe(latencyMilliseconds))  "
                + "(\(deliveriesBeforeAcknowledgement) events arrived before their create's response)")
        print("  sent → event:        \(describe(sentLatencyMilliseconds))")
        if let apiServerResidentMiB {
            print(
                "  kube-apiserver:      RSS \(format(apiServerResidentMiB, 1)) MiB (peak "
                    + "\(format(apiServerPeakMiB ?? 0, 1)) MiB), CPU "
                    + "\(format(apiServerCPUPercent ?? 0, 1)) % over the run")
        }
        if let benchCPUPercent { print("  this bench:          CPU \(format(benchCPUPercent, 1)) %") }
        if let goal = goalMilliseconds, watchers == 100, rate == 200 {
            let met = latencyMilliseconds.p99 <= goal && missedEvents == 0
            print("  goal:                p99 ≤ \(format(goal, 0)) ms on \(storage ?? ""): \(met ? "met" : "missed")")
        }
    }

    func printJSON() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(self), as: UTF8.self))
    }

    private func describe(_ summary: LatencySummary) -> String {
        "p50 \(format(summary.p50, 2)) ms, p90 \(format(summary.p90, 2)) ms, "
            + "p99 \(format(summary.p99, 2)) ms, max \(format(summary.max, 2)) ms"
    }
}
