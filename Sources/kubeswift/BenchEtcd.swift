import APIMachinery
import ArgumentParser
import Client
import EtcdStore
import Foundation
import NIOConcurrencyHelpers
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

/// `kubeswift bench watch`: watch delivery latency with many watchers on one namespace while a writer
/// creates ConfigMaps at a fixed rate; each sample is the time from sending a create to one watcher
/// receiving its ADDED event.
struct BenchWatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Measure watch delivery latency: N watchers on a namespace while ConfigMaps are created at a rate.")

    @OptionGroup var target: BenchTarget
    var namespace: String { target.namespace }

    @Option(help: "Concurrent watches on the namespace's ConfigMaps.")
    var watchers: Int = 100

    @Option(help: "Creates per second.")
    var rate: Int = 200

    @Option(help: "Seconds of writing.")
    var seconds: Int = 10

    @Option(help: "Bytes in each ConfigMap's data value.")
    var valueBytes: Int = 300

    @Option(help: "HTTP/2 connections the watches are spread over (the writer has its own).")
    var connections: Int = 4

    @Flag(help: "Print one JSON document instead of a table.")
    var json = false

    func validate() throws {
        guard watchers > 0, rate > 0, seconds > 0, connections > 0 else {
            throw ValidationError("--watchers, --rate, --seconds and --connections must be positive")
        }
    }

    func run() async throws {
        var configuration = try ClientConfiguration.load(kubeconfigPath: target.kubeconfig)
        configuration.requestTimeout = .seconds(600)
        let writer = try RESTClient(configuration: configuration.unthrottled)
        configuration.connections = connections
        let watching = try RESTClient(configuration: configuration.unthrottled)
        do {
            try await measure(writer: writer, watching: watching, server: "https://\(configuration.authority)")
        } catch {
            await writer.shutdown()
            await watching.shutdown()
            throw error
        }
        await writer.shutdown()
        await watching.shutdown()
    }

    private func measure(writer: RESTClient, watching: RESTClient, server: String) async throws {
        let version = try await writer.getJSON(path: "/version")["gitVersion"]?.stringValue ?? "unknown"
        try await target.ensureNamespace(writer)
        let run = BenchObjects.runID()
        let collection = ResourcePath.path(namespace: namespace, resource: "configmaps")
        let total = rate * seconds
        let selector = "\(BenchObjects.label)=\(run)"
        var reporter = BenchReporter(json: json)
        reporter.note(
            "KubeSwift watch bench: \(server) (\(version)), namespace \(namespace), run \(run), \(watchers) watchers, "
                + "\(rate) creates/s for \(seconds) s, \(valueBytes)-byte values")
        reporter.note("")
        reporter.header()

        // When each create was sent, by object name; watchers look their events up here.
        let sent = NIOLockedValueBox([String: ContinuousClock.Instant]())
        let clock = ContinuousClock()
        var streams: [AsyncThrowingStream<Client.WatchEvent, any Error>] = []
        for _ in 0..<watchers {
            streams.append(
                try await watching.watch(path: collection, query: ["labelSelector": selector]))
        }
        let receivers = streams.map { stream in
            Task { () -> [Double] in
                var samples: [Double] = []
                samples.reserveCapacity(total)
                for try await event in stream where event.type == .added {
                    let now = clock.now
                    guard let name = event.object.name, let start = sent.withLockedValue({ $0[name] }) else { continue }
                    samples.append(milliseconds(now - start))
                    if samples.count == total { break }
                }
                return samples
            }
        }

        // Paced creates: create i is due at start + i/rate; several may be in flight when one is slow.
        let start = clock.now
        let interval = Duration.seconds(1) / rate
        let errors = NIOLockedValueBox(0)
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<total {
                let due = start + interval * index
                if due > clock.now { try? await clock.sleep(until: due) }
                let name = "bench-\(run)-watch-\(index)"
                let body = BenchObjects.configMap(
                    name: name, namespace: namespace, run: run, set: "watch", valueBytes: valueBytes)
                sent.withLockedValue { $0[name] = clock.now }
                group.addTask {
                    do { _ = try await writer.post(path: collection, body: body) } catch {
                        errors.withLockedValue { $0 += 1 }
                    }
                }
            }
        }
        let writeSeconds = milliseconds(clock.now - start) / 1000
        let failed = errors.withLockedValue { $0 }

        // Every watcher should see every create; give the stragglers a moment, then stop waiting.
        let expected = total - failed
        let deadline = Task {
            try await Task.sleep(for: .seconds(30))
            for receiver in receivers { receiver.cancel() }
        }
        var samples: [Double] = []
        var incomplete = 0
        for receiver in receivers {
            let got = (try? await receiver.value) ?? []
            if got.count < expected { incomplete += 1 }
            samples += got
        }
        deadline.cancel()
        reporter.record(
            ScenarioResult(
                scenario: "watch delivery (\(watchers) watchers)", concurrency: watchers, requests: samples.count,
                errors: failed, seconds: writeSeconds, perSecond: Double(samples.count) / writeSeconds,
                latencyMilliseconds: LatencySummary(milliseconds: samples), responseBytes: nil, items: nil,
                firstError: incomplete > 0 ? "\(incomplete) watchers missed events" : nil))
        reporter.note(
            "(\(total) creates in \(String(format: "%.1f", writeSeconds)) s, \(failed) failed; "
                + "\(samples.count) deliveries of \(expected * watchers) expected; latency from sending a create to a watcher's ADDED)"
        )
        let deleted = try await writer.deleteJSON(path: collection, query: ["labelSelector": selector])
        reporter.note("Deleted \(deleted["items"]?.arrayValue?.count ?? 0) bench objects.")
        try reporter.finish(parameters: [
            "server": server, "serverVersion": version, "namespace": namespace, "run": run,
            "watchers": "\(watchers)", "rate": "\(rate)", "seconds": "\(seconds)", "valueBytes": "\(valueBytes)",
            "connections": "\(connections)",
        ])
    }
}
