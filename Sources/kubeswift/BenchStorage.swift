import ArgumentParser
import Foundation
import Storage

/// `kubeswift bench storage`: the embedded store's own write rate, in this process with no HTTP, TLS
/// or API machinery, so the API server's overhead shows as the ratio to `kubeswift bench`'s creates.
struct BenchStorage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage",
        abstract: "Measure the SQLite store's puts per second in-process, at the API bench's concurrencies.")

    @Option(help: "Directory of the store (state.db inside); use an empty one, not a live server's.")
    var dataDir: String

    @Option(help: "Keys created at each concurrency.")
    var objects: Int = 2000

    @Option(help: "Writes kept in flight, one run per value.")
    var concurrency = ConcurrencyList([1, 16])

    @Option(help: "Bytes in each ConfigMap's data value (the stored value is the whole ConfigMap JSON).")
    var valueBytes: Int = 300

    @Flag(help: "Print one JSON document instead of a table.")
    var json = false

    func validate() throws {
        guard objects > 0, valueBytes >= 0 else { throw ValidationError("--objects must be positive") }
    }

    func run() async throws {
        let path = dataDir + "/state.db"
        let store = try SQLiteStore(path: path)
        let run = BenchObjects.runID()
        var reporter = BenchReporter(json: json)
        reporter.note("KubeSwift storage bench: SQLite store at \(path), run \(run), \(valueBytes)-byte values")
        reporter.note("")
        reporter.header()
        for level in concurrency.levels {
            // The same bytes the API server would store for the API bench's ConfigMaps.
            let values = BenchObjects.storedConfigMaps(
                run: run, level: level, count: objects, set: "storage", valueBytes: valueBytes)
            reporter.record(
                await LoadRunner.run("storage create", count: objects, concurrency: level) { index in
                    _ = try await store.create(key: values[index].key, value: values[index].value, lease: 0)
                })
        }
        try store.close()
        reporter.note("(the keys stay in \(path); delete the directory when done)")
        try reporter.finish(parameters: [
            "store": path, "run": run, "objects": "\(objects)", "concurrency": concurrency.description,
            "valueBytes": "\(valueBytes)",
        ])
    }
}
