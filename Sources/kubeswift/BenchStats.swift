import Foundation

/// Latency percentiles of one scenario, from every sample kept in a sorted array (runs are a few
/// thousand requests, so exact percentiles cost nothing).
struct LatencySummary: Codable, Sendable {
    var p50: Double
    var p90: Double
    var p99: Double
    var max: Double

    /// Nearest-rank percentiles of `milliseconds`; zeros when there are no samples.
    init(milliseconds samples: [Double]) {
        let sorted = samples.sorted()
        func rank(_ percent: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let index = Int((percent / 100 * Double(sorted.count)).rounded(.up)) - 1
            return sorted[Swift.max(0, Swift.min(sorted.count - 1, index))]
        }
        p50 = rank(50)
        p90 = rank(90)
        p99 = rank(99)
        max = sorted.last ?? 0
    }
}

/// One measured scenario: what was done, how often, how long it took.
struct ScenarioResult: Codable, Sendable {
    var scenario: String
    var concurrency: Int
    var requests: Int
    var errors: Int
    var seconds: Double
    /// Successful operations per second of wall-clock time.
    var perSecond: Double
    var latencyMilliseconds: LatencySummary
    /// Bytes of one response, for LIST scenarios.
    var responseBytes: Int?
    /// Items in one response, for LIST scenarios.
    var items: Int?
    /// The first error, so a failing run says why.
    var firstError: String?
}

/// Runs operations with a fixed number in flight and times each one.
enum LoadRunner {
    /// Runs `operation(0..<count)` with `concurrency` workers; worker `w` takes indexes `w, w+c, …`,
    /// so every worker has the same amount of work and no shared counter is needed.
    static func run(
        _ scenario: String, count: Int, concurrency: Int, operation: @escaping @Sendable (Int) async throws -> Void
    ) async -> ScenarioResult {
        let workers = max(1, min(concurrency, count))
        let clock = ContinuousClock()
        let start = clock.now
        let outcomes = await withTaskGroup(of: WorkerOutcome.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var outcome = WorkerOutcome()
                    outcome.samples.reserveCapacity(count / workers + 1)
                    for index in stride(from: worker, to: count, by: workers) {
                        let begin = clock.now
                        do {
                            try await operation(index)
                            outcome.samples.append(milliseconds(clock.now - begin))
                        } catch {
                            outcome.errors += 1
                            if outcome.firstError == nil { outcome.firstError = "\(error)" }
                        }
                    }
                    return outcome
                }
            }
            return await group.reduce(into: [WorkerOutcome]()) { $0.append($1) }
        }
        let seconds = milliseconds(clock.now - start) / 1000
        let samples = outcomes.flatMap(\.samples)
        return ScenarioResult(
            scenario: scenario, concurrency: concurrency, requests: count,
            errors: outcomes.reduce(0) { $0 + $1.errors },
            seconds: seconds, perSecond: seconds > 0 ? Double(samples.count) / seconds : 0,
            latencyMilliseconds: LatencySummary(milliseconds: samples),
            firstError: outcomes.lazy.compactMap(\.firstError).first)
    }

    private struct WorkerOutcome: Sendable {
        var samples: [Double] = []
        var errors = 0
        var firstError: String?
    }
}

/// A duration in fractional milliseconds.
func milliseconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) * 1000 + Double(attoseconds) / 1e15
}

/// Prints results as an aligned table, or collects them for one JSON document at the end.
struct BenchReporter {
    let json: Bool
    private(set) var results: [ScenarioResult] = []

    init(json: Bool) { self.json = json }

    /// A line of context (target, sizes); only in text mode.
    func note(_ text: String) {
        if !json { print(text) }
    }

    mutating func header() {
        note(
            pad("scenario", 30) + pad("conc", 6, right: true) + pad("requests", 10, right: true)
                + pad("errors", 8, right: true) + pad("ops/s", 10, right: true) + pad("p50 ms", 9, right: true)
                + pad("p90 ms", 9, right: true) + pad("p99 ms", 9, right: true) + pad("max ms", 9, right: true))
    }

    mutating func record(_ result: ScenarioResult) {
        results.append(result)
        let latency = result.latencyMilliseconds
        note(
            pad(result.scenario, 30) + pad("\(result.concurrency)", 6, right: true)
                + pad("\(result.requests)", 10, right: true) + pad("\(result.errors)", 8, right: true)
                + pad(format(result.perSecond, 1), 10, right: true) + pad(format(latency.p50, 2), 9, right: true)
                + pad(format(latency.p90, 2), 9, right: true) + pad(format(latency.p99, 2), 9, right: true)
                + pad(format(latency.max, 2), 9, right: true))
        if let firstError = result.firstError { note("    first error: \(firstError)") }
    }

    /// The JSON document: the run's parameters and every result.
    func finish(parameters: [String: String]) throws {
        guard json else { return }
        struct Document: Encodable {
            var parameters: [String: String]
            var results: [ScenarioResult]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(Document(parameters: parameters, results: results))
        print(String(decoding: data, as: UTF8.self))
    }

    private func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        guard text.count < width else { return text + " " }
        let fill = String(repeating: " ", count: width - text.count)
        return right ? fill + text : text + fill
    }
}

/// `value` with `digits` decimals.
func format(_ value: Double, _ digits: Int) -> String {
    String(format: "%.\(digits)f", value)
}
