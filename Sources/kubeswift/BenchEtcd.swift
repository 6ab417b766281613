import APIMachinery
import ArgumentParser
import EtcdStore
import Foundation
import Storage

/// `kubeswift bench etcd`: raw etcd puts and ranges through `EtcdStore`, in this process with no HTTP,
/// TLS or API machinery, at the API bench's concurrencies and with the same ConfigMap bytes; the ratio
/// to `kubeswift bench api` on a server using the same etcd is the API server's overhead.
struct BenchEtcd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "etcd",
        abstract: "Measure etcd puts and ranges per second through the etcd client the API server uses.")

    @Option(help: "etcd client URLs, as --etcd-servers (http or https).")
    var etcdServers: String = "http://127.0.0.1:2379"

    @Option(help: "CA, client certificate and key for https members, as --etcd-cafile/certfile/keyfile.")
    var etcdCafile: String?
    @Option var etcdCertfile: String?
    @Option var etcdKeyfile: String?

    @Option(help: "Keys created (and read back) at each concurrency.")
    var objects: Int = 2000

    @Option(help: "Operations kept in flight, one run per value.")
    var concurrency = ConcurrencyList([1, 16])

    @Option(help: "Bytes in each ConfigMap's data value (the stored value is the whole ConfigMap JSON).")
    var valueBytes: Int = 300

    @Flag(help: "Keep the keys instead of deleting them at the end.")
    var keep = false

    @Flag(help: "Print one JSON document instead of a table.")
    var json = false

    func validate() throws {
        guard objects > 0, valueBytes >= 0 else { throw ValidationError("--objects must be positive") }
    }

    func run() async throws {
        let configuration = EtcdConfiguration(
            endpoints: try EtcdConfiguration.parseServers(etcdServers), caFile: etcdCafile,
            certificateFile: etcdCertfile, keyFile: etcdKeyfile)
        let store = try EtcdStore(configuration: configuration)
        defer { store.close() }
        let run = BenchObjects.runID()
        let prefix = "/registry/configmaps/bench/bench-\(run)-"
        var reporter = BenchReporter(json: json)
        reporter.note("KubeSwift etcd bench: \(etcdServers), run \(run), \(valueBytes)-byte values")
        reporter.note("")
        reporter.header()
        // The first call pays for the connection; keep it out of the figures.
        _ = try await store.currentRevision()
        var keys: [String] = []
        for level in concurrency.levels {
            // The bytes the API server stores for the API bench's ConfigMaps, under upstream's key.
            let values = BenchObjects.storedConfigMaps(
                run: run, level: level, count: objects, set: "etcd", valueBytes: valueBytes)
            // A create is what the API server sends for a POST: a transaction comparing create_revision to 0.
            reporter.record(
                await LoadRunner.run("etcd put (create txn)", count: objects, concurrency: level) { index in
                    _ = try await store.create(key: values[index].key, value: values[index].value, lease: 0)
                })
            keys += values.map(\.key)
        }
        let readKeys = keys
        for level in concurrency.levels {
            // A linearizable single-key range, what a GET costs the API server.
            reporter.record(
                await LoadRunner.run("etcd range (one key)", count: objects, concurrency: level) { index in
                    _ = try await store.get(key: readKeys[index % readKeys.count])
                })
        }
        if keep {
            reporter.note("Kept the keys under \(prefix)")
        } else {
            // One by one at the highest concurrency; the store has no range delete.
            let level = concurrency.levels.max() ?? 16
            _ = await LoadRunner.run("cleanup", count: readKeys.count, concurrency: level) { index in
                _ = try await store.delete(key: readKeys[index], expectedRevision: nil)
            }
            reporter.note("Deleted \(readKeys.count) bench keys.")
        }
        try reporter.finish(parameters: [
            "etcdServers": etcdServers, "run": run, "objects": "\(objects)",
            "concurrency": concurrency.description, "valueBytes": "\(valueBytes)",
        ])
    }
}
