import Client
import NIOConcurrencyHelpers

/// The watch bench's writer: creates at a fixed rate, open-loop (create `i` is sent at `start + i/rate` whether
/// or not earlier ones were answered, so a slow server meets the same offered load instead of a gentler one),
/// recording each create's send and acknowledgement in the ledger.
struct BenchWatchWriter {
    let client: RESTClient
    /// The namespace's ConfigMaps collection.
    let collection: String
    let namespace: String
    let run: String
    let names: BenchWatchNames
    let valueBytes: Int
    let ledger: NIOLockedValueBox<BenchWatchLedger>

    /// What the writing looked like from the client.
    struct Outcome: Sendable {
        /// From the first send to the last.
        var sendingSeconds: Double
        /// Milliseconds from sending each create to its response, successful or not.
        var createMilliseconds: [Double]
        /// How far behind its due time the latest send went, a sign that this process could not keep the rate.
        var maximumLagMilliseconds: Double
        var failed: Int
        var firstError: String?
    }

    /// Sends `count` creates at `rate` per second and returns once every one has been answered.
    func write(count: Int, rate: Int) async -> Outcome {
        let clock = ContinuousClock()
        let interval = Duration.seconds(1) / rate
        let start = clock.now
        let bodies = (0..<count).map {
            BenchObjects.configMap(
                name: names.name($0), namespace: namespace, run: run, set: "watch", valueBytes: valueBytes)
        }
        let answers = NIOLockedValueBox(
            Outcome(sendingSeconds: 0, createMilliseconds: [], maximumLagMilliseconds: 0, failed: 0))
        answers.withLockedValue { $0.createMilliseconds.reserveCapacity(count) }
        var maximumLag = 0.0
        var lastSent = start
        await withDiscardingTaskGroup { group in
            for index in 0..<count {
                let due = start + interval * index
                if due > clock.now { try? await clock.sleep(until: due) }
                let sent = clock.now
                lastSent = sent
                maximumLag = max(maximumLag, milliseconds(sent - due))
                ledger.withLockedValue { $0.sent(index, at: sent) }
                group.addTask { [client, collection, ledger] in
                    do {
                        _ = try await client.post(path: collection, body: bodies[index])
                        let acknowledged = clock.now
                        ledger.withLockedValue { $0.acknowledged(index, at: acknowledged) }
                        answers.withLockedValue { $0.add(milliseconds(acknowledged - sent), error: nil) }
                    } catch {
                        let answered = clock.now
                        ledger.withLockedValue { $0.failed(index) }
                        answers.withLockedValue { $0.add(milliseconds(answered - sent), error: "\(error)") }
                    }
                }
            }
        }
        var outcome = answers.withLockedValue { $0 }
        outcome.maximumLagMilliseconds = maximumLag
        outcome.sendingSeconds = milliseconds(lastSent - start) / 1000
        return outcome
    }
}

extension BenchWatchWriter.Outcome {
    fileprivate mutating func add(_ latency: Double, error: String?) {
        createMilliseconds.append(latency)
        if let error {
            failed += 1
            if firstError == nil { firstError = error }
        }
    }
}
