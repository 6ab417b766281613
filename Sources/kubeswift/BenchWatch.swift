import APIMachinery
import ArgumentParser
import Client
import Component
import Foundation
import NIOConcurrencyHelpers

/// `kubeswift bench watch`: how fast a create reaches many watchers. Starts its own kube-apiserver (on SQLite,
/// or on a local etcd member with `--etcd`; or measures `--kubeconfig`'s server), opens N watches multiplexed
/// over a few HTTP/2 connections as client-go's informers are, creates ConfigMaps at a fixed open-loop rate,
/// and times every delivered ADDED event from the create's acknowledgement. Reports deliveries/s, latency
/// percentiles, missed events (which must be 0), and the API server's RSS and CPU.
struct BenchWatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Measure watch fan-out: create→event latency and deliveries/s with N watchers at a create rate.")

    @Option(help: "Concurrent watches.")
    var watchers: Int = 100

    @Option(
        help:
            "HTTP/2 connections the watches share (default: one per 100 watches, as a client that opens a connection per 100 streams)."
    )
    var connections: Int?

    @Option(help: "Creates per second, sent on schedule whether or not earlier ones were answered.")
    var rate: Int = 200

    @Option(help: "Seconds of creating.")
    var seconds: Int = 10

    @Option(help: "Bytes in each ConfigMap's data value.")
    var valueBytes: Int = 300

    @Option(help: "Watch response format: json, or protobuf as client-go asks for built-in kinds.")
    var format: BenchWatchFormat = .json

    @Flag(help: "Watch ConfigMaps in all namespaces instead of the bench's namespace.")
    var allNamespaces = false

    @Option(help: "Namespace the ConfigMaps are created in; created if missing.")
    var namespace: String = "bench"

    @Option(help: "Seconds to wait for outstanding events after the last create was answered.")
    var drain: Int = 10

    @Flag(help: "Store in a local etcd member (/usr/bin/etcd) instead of SQLite.")
    var etcd = false

    @Option(help: "Loopback address of the bench's kube-apiserver (and etcd member).")
    var address: String = "127.0.0.186"

    @Option(help: "kube-apiserver binary (default: beside kubeswift).")
    var apiserver: String?

    @Option(help: "Measure this kubeconfig's server instead of starting one (no RSS or CPU figures then).")
    var kubeconfig: String?

    @Flag(help: "Print one JSON document instead of text.")
    var json = false

    func validate() throws {
        guard watchers > 0, rate > 0, seconds > 0, valueBytes >= 0, drain >= 0, (connections ?? 1) > 0 else {
            throw ValidationError("--watchers, --rate, --seconds and --connections must be positive")
        }
        guard rate * seconds < 10_000_000 else { throw ValidationError("--rate × --seconds must stay below 10⁷") }
        guard address.hasPrefix("127.") else { throw ValidationError("--address must be a 127.0.0.0/8 address") }
    }

    func run() async throws {
        // Ctrl-C cancels the run; the bench's own server is stopped on the way out.
        let task = Task { () throws -> BenchWatchReport in
            if let kubeconfig {
                let configuration = try ClientConfiguration.load(kubeconfigPath: kubeconfig).unthrottled
                return try await measure(
                    configuration, server: "https://\(configuration.authority)", storage: nil, apiServerPID: nil)
            }
            let server = try await BenchAPIServer.start(
                name: "watch", apiServerPath: try BenchScheduler.binary(apiserver, named: "kube-apiserver"),
                address: address, etcd: etcd)
            do {
                let report = try await measure(
                    try server.clientConfiguration(), server: server.server, storage: server.storage,
                    apiServerPID: server.apiServer.pid)
                await server.stop()
                return report
            } catch {
                await server.stop()
                throw error
            }
        }
        let signals = SignalWatcher { task.cancel() }
        defer { signals.cancel() }
        let report = try await task.value
        if json { try report.printJSON() } else { report.printText() }
        if report.missedEvents > 0 { throw ExitCode.failure }
    }

    /// One run against the server `configuration` reaches; `apiServerPID`, when known, adds its RSS and CPU.
    func measure(_ configuration: ClientConfiguration, server: String, storage: String?, apiServerPID: Int32?)
        async throws -> BenchWatchReport
    {
        var watching = configuration
        watching.connections = connections ?? (watchers + 99) / 100
        let writer = try RESTClient(configuration: configuration)
        let watchClient = try RESTClient(configuration: watching)
        do {
            let report = try await measure(
                writer: writer, watchClient: watchClient, server: server, storage: storage, apiServerPID: apiServerPID)
            await writer.shutdown()
            await watchClient.shutdown()
            return report
        } catch {
            await writer.shutdown()
            await watchClient.shutdown()
            throw error
        }
    }

    private func measure(
        writer: RESTClient, watchClient: RESTClient, server: String, storage: String?, apiServerPID: Int32?
    ) async throws -> BenchWatchReport {
        try await BenchTarget.ensureNamespace(namespace, writer)
        let run = BenchObjects.runID()
        let names = BenchWatchNames(run: run)
        let collection = ResourcePath.path(namespace: namespace, resource: "configmaps")
        let watched = allNamespaces ? ResourcePath.path(resource: "configmaps") : collection
        try await warmUp(writer, collection: collection, run: run)
        // Watch from the collection's current revision, as an informer does after its list, so no watcher is
        // sent the objects that exist already.
        let listed = try await writer.getJSON(path: watched, query: ["limit": "1"])
        guard let revision = listed["metadata"]?["resourceVersion"]?.stringValue else {
            throw ValidationError("the list of \(watched) carried no resourceVersion")
        }
        let total = rate * seconds
        let ledger = NIOLockedValueBox(BenchWatchLedger(creates: total, watchers: watchers))
        let streams = try await BenchWatchers(
            client: watchClient, path: watched, format: format, names: names, ledger: ledger
        ).open(watchers, from: revision)

        let clock = ContinuousClock()
        let started = clock.now
        let cpuBefore = (
            server: apiServerPID.flatMap { ProcessCPU.seconds(pid: $0) }, bench: ProcessCPU.seconds(pid: getpid())
        )
        let written = await BenchWatchWriter(
            client: writer, collection: collection, namespace: namespace, run: run, names: names,
            valueBytes: valueBytes, ledger: ledger
        ).write(count: total, rate: rate)
        let drainDeadline = clock.now + .seconds(drain)
        while ledger.withLockedValue({ $0.missed > 0 }), clock.now < drainDeadline, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let wall = milliseconds(clock.now - started) / 1000
        let cpuAfter = (
            server: apiServerPID.flatMap { ProcessCPU.seconds(pid: $0) }, bench: ProcessCPU.seconds(pid: getpid())
        )
        ledger.withLockedValue { $0.stopWatching() }
        for stream in streams { stream.cancel() }
        try Task.checkCancellation()
        if kubeconfig != nil {
            // A server the bench did not start keeps running: take the run's objects away again.
            _ = try await writer.deleteJSON(path: collection, query: ["labelSelector": "\(BenchObjects.label)=\(run)"])
        }

        let final = ledger.withLockedValue { $0 }
        let memory = apiServerPID.map { ResidentMemory(pid: $0) }
        func percent(_ before: Double?, _ after: Double?) -> Double? {
            guard let before, let after, wall > 0 else { return nil }
            return (after - before) / wall * 100
        }
        let deliveryWindow = final.lastArrival.map { milliseconds($0 - started) / 1000 } ?? 0
        return BenchWatchReport(
            server: server, storage: storage, watchers: watchers, connections: watchClient.configuration.connections,
            responseFormat: format.rawValue, scope: allNamespaces ? "cluster" : "namespace", rate: rate,
            seconds: seconds, valueBytes: valueBytes, creates: total, failedCreates: written.failed,
            firstCreateError: written.firstError,
            achievedRate: written.sendingSeconds > 0 ? Double(total - 1) / written.sendingSeconds : 0,
            maximumSendLagMilliseconds: written.maximumLagMilliseconds,
            createMilliseconds: LatencySummary(milliseconds: written.createMilliseconds),
            drainSeconds: drain, deliveries: final.delivered, expectedDeliveries: final.expected,
            missedEvents: final.missed,
            duplicateEvents: final.duplicates, unexpectedEvents: final.unexpected, otherEvents: final.otherEvents,
            endedWatches: final.endedWatches, firstWatchEnd: final.firstWatchEnd,
            deliveriesPerSecond: deliveryWindow > 0 ? Double(final.delivered) / deliveryWindow : 0,
            latencyMilliseconds: LatencySummary(milliseconds: final.samples),
            deliveriesBeforeAcknowledgement: final.beforeAcknowledgement,
            sentLatencyMilliseconds: LatencySummary(milliseconds: final.sentSamples),
            apiServerResidentMiB: memory?.residentMiB, apiServerPeakMiB: memory?.peakMiB,
            apiServerCPUPercent: percent(cpuBefore.server, cpuAfter.server),
            benchCPUPercent: percent(cpuBefore.bench, cpuAfter.bench))
    }

    /// A second of unmeasured creates at the bench's rate (at most 200), so the figures leave out the server's
    /// and the connection's first-use costs.
    private func warmUp(_ client: RESTClient, collection: String, run: String) async throws {
        let count = min(rate, 200)
        let result = await LoadRunner.run("warm-up", count: count, concurrency: 4) { index in
            let body = BenchObjects.configMap(
                name: "warm-\(run)-\(index)", namespace: namespace, run: run, set: "warm-up", valueBytes: valueBytes)
            _ = try await client.post(path: collection, body: body)
        }
        if let error = result.firstError { throw ValidationError("warm-up failed: \(error)") }
    }
}

extension BenchWatchFormat: ExpressibleByArgument {}
