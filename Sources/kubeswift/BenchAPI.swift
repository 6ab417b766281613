import APIMachinery
import ArgumentParser
import Client
import Foundation

/// `kubeswift bench [api]`: ConfigMap creates, GETs and LISTs against a running API server, over one
/// TLS connection with HTTP/2 (as kubectl and client-go talk to it).
struct BenchAPI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Create, get and list ConfigMaps against an API server and print throughput and latency.")

    @OptionGroup var target: BenchTarget
    var namespace: String { target.namespace }

    @Option(help: "ConfigMaps created (and GETs sent) at each concurrency.")
    var objects: Int = 2000

    @Option(help: "Requests kept in flight, one run per value.")
    var concurrency = ConcurrencyList([1, 16])

    @Option(help: "ConfigMaps in the namespace for the LIST scenario.")
    var listSize: Int = 10000

    @Option(help: "Bytes in each ConfigMap's data value.")
    var valueBytes: Int = 300

    @Option(help: "HTTP/2 connections the requests are spread over.")
    var connections: Int = 1

    @Option(help: "Response format of the GETs and LISTs: json, or protobuf as client-go asks for built-in kinds.")
    var accept: BenchAccept = .json

    @Flag(help: "Skip the LIST scenario (and filling the namespace for it).")
    var skipList = false

    @Flag(help: "Keep the objects instead of deleting them at the end.")
    var keep = false

    @Flag(help: "Print one JSON document instead of a table.")
    var json = false

    func validate() throws {
        guard objects > 0, listSize > 0, valueBytes >= 0, connections > 0 else {
            throw ValidationError("--objects, --list-size and --connections must be positive")
        }
    }

    func run() async throws {
        var configuration = try ClientConfiguration.load(kubeconfigPath: target.kubeconfig)
        configuration.connections = connections
        // Cleanup of thousands of objects is one long request.
        configuration.requestTimeout = .seconds(600)
        let client = try RESTClient(configuration: configuration.unthrottled)
        do {
            try await measure(client, server: "https://\(configuration.authority)")
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
    }

    private func measure(_ client: RESTClient, server: String) async throws {
        // The first request pays for TCP, TLS and HTTP/2 set-up; keep that out of the figures.
        let version = try await client.getJSON(path: "/version")["gitVersion"]?.stringValue ?? "unknown"
        try await target.ensureNamespace(client)
        let run = BenchObjects.runID()
        let collection = ResourcePath.path(namespace: namespace, resource: "configmaps")
        var reporter = BenchReporter(json: json)
        reporter.note(
            "KubeSwift bench: \(server) (\(version)), namespace \(namespace), run \(run), "
                + "\(valueBytes)-byte values, \(connections) HTTP/2 connection(s)")
        reporter.note("")
        reporter.header()

        var created: [String] = []
        for level in concurrency.levels {
            let names = (0..<objects).map { "bench-\(run)-c\(level)-\($0)" }
            let bodies = names.map {
                BenchObjects.configMap(name: $0, namespace: namespace, run: run, set: "crud", valueBytes: valueBytes)
            }
            reporter.record(
                await LoadRunner.run("create configmap", count: objects, concurrency: level) { index in
                    _ = try await client.post(path: collection, body: bodies[index])
                })
            created += names
        }
        let paths = created.map { collection + "/" + $0 }
        for level in concurrency.levels {
            reporter.record(
                await LoadRunner.run("get configmap", count: objects, concurrency: level) { index in
                    _ = try await client.send(read(paths[index % paths.count]))
                })
        }

        if !skipList {
            // The LIST should hold exactly --list-size bench objects, so the create/get ones go first.
            let cleared = try await deleteCollection(client, collection, selector: "\(BenchObjects.label)=\(run)")
            reporter.note("(deleted the \(cleared) create/get objects before filling the namespace for LIST)")
            let fillLevel = concurrency.levels.max() ?? 16
            let bodies = (0..<listSize).map {
                BenchObjects.configMap(
                    name: "bench-\(run)-list-\($0)", namespace: namespace, run: run, set: "list", valueBytes: valueBytes
                )
            }
            reporter.record(
                await LoadRunner.run("create configmap (list fill)", count: listSize, concurrency: fillLevel) { index in
                    _ = try await client.post(path: collection, body: bodies[index])
                })
            reporter.record(try await timedLists(client, "list (all)", path: collection, query: [:]))
            reporter.record(try await timedLists(client, "list (limit=500)", path: collection, query: ["limit": "500"]))
            if let full = reporter.results.first(where: { $0.scenario == "list (all)" }) {
                reporter.note(
                    "(a full LIST returned \(full.items ?? 0) items, \(full.responseBytes ?? 0) bytes; "
                        + "with 10 runs p90/p99 are the slowest runs)")
            }
        }
        // TODO: watch fan-out (N watchers on the namespace, time from a write to the last watcher's
        // event) once the shared watch cache lands; see docs/ARCHITECTURE.md "A watch's way".

        if keep {
            reporter.note(
                "Kept the objects; delete them with: kubectl delete configmaps -n \(namespace) -l \(BenchObjects.label)=\(run)"
            )
        } else {
            let deleted = try await deleteCollection(client, collection, selector: "\(BenchObjects.label)=\(run)")
            reporter.note("Deleted \(deleted) bench objects.")
        }
        try reporter.finish(parameters: [
            "server": server, "serverVersion": version, "namespace": namespace, "run": run,
            "objects": "\(objects)", "concurrency": concurrency.description,
            "listSize": skipList ? "skipped" : "\(listSize)",
            "valueBytes": "\(valueBytes)", "connections": "\(connections)", "accept": accept.rawValue,
        ])
    }

    /// A GET of `path` asking for the `--accept` format.
    private func read(_ path: String, query: Query = [:]) -> Request {
        Request(method: .get, path: path, query: query, headers: [Header(name: "accept", value: accept.mediaType)])
    }

    /// Deletes the matching ConfigMaps in one request and returns how many went.
    private func deleteCollection(_ client: RESTClient, _ collection: String, selector: String) async throws -> Int {
        let answer = try await client.deleteJSON(path: collection, query: ["labelSelector": selector])
        return answer["items"]?.arrayValue?.count ?? 0
    }

    /// Ten LISTs one after another, timing each; the last one's size goes into the result.
    private func timedLists(_ client: RESTClient, _ scenario: String, path: String, query: Query) async throws
        -> ScenarioResult
    {
        let runs = 10
        let clock = ContinuousClock()
        var samples: [Double] = []
        var last = Response(status: 0)
        let start = clock.now
        for _ in 0..<runs {
            let begin = clock.now
            last = try await client.send(read(path, query: query))
            samples.append(milliseconds(clock.now - begin))
        }
        let seconds = milliseconds(clock.now - start) / 1000
        let decoded =
            accept == .protobuf ? (try? KubernetesProtobuf.decode(last.body))?.object : try? JSON.parse(last.body)
        let items = decoded?["items"]?.arrayValue?.count
        return ScenarioResult(
            scenario: scenario, concurrency: 1, requests: runs, errors: 0, seconds: seconds,
            perSecond: Double(runs) / seconds, latencyMilliseconds: LatencySummary(milliseconds: samples),
            responseBytes: last.body.count, items: items)
    }
}

/// The response formats `kubeswift bench api --accept` measures.
enum BenchAccept: String, ExpressibleByArgument, Sendable {
    case json, protobuf

    var mediaType: String {
        switch self {
        case .json: return "application/json"
        case .protobuf: return "application/vnd.kubernetes.protobuf, application/json"
        }
    }
}
