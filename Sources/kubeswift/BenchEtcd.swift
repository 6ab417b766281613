import APIMachinery
import ArgumentParser
import Client
import Component
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

    @Option(help: "HTTP/2 connections to the member (the client's default when not given).")
    var connections: Int?

    @Option(help: "Microseconds a connection holds writes while other calls await answers (default: the client's).")
    var flushDelay: Int?

    @Flag(inversion: .prefixedNo, help: "Measure single-key ranges after the puts.")
    var ranges = true

    @Flag(help: "Keep the keys instead of deleting them at the end.")
    var keep = false

    @Flag(help: "Print one JSON document instead of a table.")
    var json = false

    func validate() throws {
        guard objects > 0, valueBytes >= 0 else { throw ValidationError("--objects must be positive") }
        if let connections, connections < 1 { throw ValidationError("--connections must be positive") }
    }

    func run() async throws {
        var configuration = EtcdConfiguration(
            endpoints: try EtcdConfiguration.parseServers(etcdServers), caFile: etcdCafile,
            certificateFile: etcdCertfile, keyFile: etcdKeyfile)
        if let connections { configuration.connections = connections }
        if let flushDelay { configuration.flushDelay = .microseconds(Int64(flushDelay)) }
        let store = try EtcdStore(configuration: configuration)
        defer { store.close() }
        let member = try EtcdMemberCPU(endpoint: configuration.endpoints[0])
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
            let before = await member?.seconds()
            let clientBefore = MemoryReturner.processCPUTime()
            reporter.record(
                await LoadRunner.run("etcd put (create txn)", count: objects, concurrency: level) { index in
                    _ = try await store.create(key: values[index].key, value: values[index].value, lease: 0)
                })
            Self.noteClientCPU(since: clientBefore, operations: objects, reporter: reporter)
            await member?.note(since: before, operations: objects, reporter: reporter)
            keys += values.map(\.key)
        }
        let readKeys = keys
        for level in concurrency.levels where ranges {
            // A linearizable single-key range, what a GET costs the API server.
            let before = await member?.seconds()
            let clientBefore = MemoryReturner.processCPUTime()
            reporter.record(
                await LoadRunner.run("etcd range (one key)", count: objects, concurrency: level) { index in
                    _ = try await store.get(key: readKeys[index % readKeys.count])
                })
            Self.noteClientCPU(since: clientBefore, operations: objects, reporter: reporter)
            await member?.note(since: before, operations: objects, reporter: reporter)
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
        await member?.shutdown()
        try reporter.finish(parameters: [
            "etcdServers": etcdServers, "run": run, "objects": "\(objects)",
            "concurrency": concurrency.description, "valueBytes": "\(valueBytes)",
            "connections": connections.map(String.init) ?? "default",
            "flushDelay": flushDelay.map { "\($0)us" } ?? "default",
        ])
    }
}

extension BenchEtcd {
    /// Prints this process's CPU since `before`, per operation: what the etcd client (our gRPC, HTTP/2 and
    /// protobuf) costs the caller, beside what the member spends.
    static func noteClientCPU(since before: Duration, operations: Int, reporter: BenchReporter) {
        let seconds = (MemoryReturner.processCPUTime() - before) / .seconds(1)
        reporter.note(
            "    client CPU: \(String(format: "%.2f", seconds)) s, \(String(format: "%.1f", seconds / Double(operations) * 1e6)) µs per operation"
        )
    }
}

/// The CPU the etcd member spent, from its `/metrics` (`process_cpu_seconds_total`, 10 ms steps), so the
/// bench says what each operation costs etcd: on a machine shared with the member, that is CPU the
/// caller does not get. Only for http members (the metrics of an https one need its client certificate).
private struct EtcdMemberCPU: Sendable {
    let client: RESTClient

    init?(endpoint: GRPCEndpoint) throws {
        guard !endpoint.secure else { return nil }
        client = try RESTClient(configuration: ClientConfiguration(server: endpoint.description).unthrottled)
    }

    /// The member's CPU seconds so far, or nil when its metrics cannot be read.
    func seconds() async -> Double? {
        guard let response = try? await client.get(path: "/metrics"), response.status == 200 else { return nil }
        let prefix = "process_cpu_seconds_total "
        let text = String(decoding: response.body, as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return nil }
        return Double(line.dropFirst(prefix.count))
    }

    /// Prints the member's CPU since `before`, per operation.
    func note(since before: Double?, operations: Int, reporter: BenchReporter) async {
        guard let before, let after = await seconds() else { return }
        let total = after - before
        reporter.note(
            "    etcd CPU: \(String(format: "%.2f", total)) s, \(String(format: "%.1f", total / Double(operations) * 1e6)) µs per operation"
        )
    }

    func shutdown() async { await client.shutdown() }
}
