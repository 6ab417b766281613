import APIMachinery
import ArgumentParser
import Client
import Foundation
import Operations

/// `kubeswift bench failover`: on a running `kubeswift up --masters 3`, kill -9 an API server, the scheduler's and
/// controller-manager's leaders, and the etcd leader under a steady create load through nginx plus a watcher, and
/// report the windows clients saw, whether any acknowledged write or watch event was lost, start-up time and RSS.
/// A script-like bench: it kills processes of the cluster it is pointed at, so it is never run in CI.
struct BenchFailover: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Kill -9 members of a running kubeswift up --masters cluster under load and report the windows.")

    @Option(help: "The state directory of the running kubeswift up --masters.")
    var stateDir: String = Up.defaultStateDirectory + "/ha"

    @Option(help: "Creates per second through nginx.")
    var rate: Int = 50

    @Option(help: "Seconds of load after each kill before the next.")
    var phaseSeconds: Int = 10

    @Option(help: "Namespace for the bench's objects (deleted at the end).")
    var namespace: String = "failover-bench"

    func run() async throws {
        guard let cluster = try LocalCluster.saved(stateDirectory: stateDir, binDirectory: UpHA.binDirectory) else {
            throw ValidationError("\(stateDir) holds no cluster started by kubeswift up --masters")
        }
        let processes = try cluster.processes()
        // A component stopped cleanly by an earlier run's SIGTERM phase stays down, as systemd leaves it; two of a
        // kind still make a failover.
        let standbys = [LocalCluster.Role.scheduler, .controllerManager].allSatisfy { role in
            processes.filter { $0.role == role && cluster.livePID($0) != nil }.count >= 2
        }
        guard standbys,
            processes.allSatisfy({ [.scheduler, .controllerManager].contains($0.role) || cluster.livePID($0) != nil })
        else {
            throw ValidationError("not every process of the cluster in \(stateDir) runs; start kubeswift up --masters")
        }
        let leases = cluster.leaderElection.map { "\($0.leaseDuration)/\($0.renewDeadline)/\($0.retryPeriod)" }
        print(
            "Cluster in \(stateDir): \(cluster.layout.masters.count) masters, 3 etcd members, nginx; "
                + "leader election lease/renew/retry \(leases ?? "15s/10s/2s (upstream's default)")")
        if let startup = try? String(contentsOfFile: cluster.stateDirectory + "/run/startup-seconds", encoding: .utf8) {
            print(
                "  start-up (kubeswift up to nginx ready): \(startup.trimmingCharacters(in: .whitespacesAndNewlines)) s"
            )
        }
        printMemory(cluster, processes, title: "RSS before the load")

        var configuration = try ClientConfiguration.load(kubeconfigPath: cluster.adminKubeconfig)
        configuration.requestTimeout = .seconds(10)
        let client = try RESTClient(configuration: configuration.unthrottled)
        let watchClient = try RESTClient(configuration: configuration.unthrottled)
        if (try? await client.getJSON(path: "/api/v1/namespaces/\(namespace)")) == nil {
            _ = try await client.postJSON(
                path: "/api/v1/namespaces",
                ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]])
        }
        let listed = try await client.getJSON(path: "/api/v1/namespaces/\(namespace)/configmaps")
        let start = listed[path: "metadata", "resourceVersion"]?.stringValue.flatMap { Int64($0) } ?? 0
        let writer = FailoverWriter()
        let watcher = FailoverWatcher()
        let pods = FailoverWatcher()
        let writing = Task { await writer.run(client: client, namespace: namespace, perSecond: rate) }
        let watching = Task {
            await watcher.run(client: watchClient, path: "/api/v1/namespaces/\(namespace)/configmaps", from: start)
        }
        let watchingPods = Task {
            await pods.run(client: watchClient, path: "/api/v1/namespaces/\(namespace)/pods", from: start)
        }
        try await Task.sleep(for: .seconds(2))

        try await killAPIServer(cluster, processes, writer)
        let resumed = try await killWatchersAPIServer(
            cluster, processes, writer, configuration: configuration.unthrottled)
        try await killLeaders(cluster, client, pods)
        try await killEtcdLeader(cluster, processes, writer)
        try await stopEtcdFollower(cluster, processes, writer)

        writing.cancel()
        await writing.value
        // Give the watcher the time to see the last acknowledged creates.
        let last = writer.attempts.compactMap(\.resourceVersion).max() ?? 0
        for _ in 0..<100 where (watcher.seen.last?.resourceVersion ?? 0) < last {
            try await Task.sleep(for: .milliseconds(100))
        }
        watching.cancel()
        watchingPods.cancel()
        let names =
            try await client.getJSON(path: "/api/v1/namespaces/\(namespace)/configmaps")["items"]?.arrayValue?
            .compactMap { $0[path: "metadata", "name"]?.stringValue } ?? []
        let check = FailoverCheck(writer: writer, listed: Set(names), watcher: watcher)
        print("Writes and watch (\(check.acknowledged) acknowledged creates, \(writer.attempts.count) sent):")
        print("  acknowledged creates missing from storage: \(check.lost.count) \(check.lost.prefix(5))")
        print(
            "  acknowledged creates the watcher never saw: \(check.missingFromWatch.count) \(check.missingFromWatch.prefix(5))"
        )
        print("  watch events out of resourceVersion order: \(check.outOfOrder)")
        print("  watch restarts: \(watcher.restarts.broken) broken streams, \(watcher.restarts.expired) expired")
        printMemory(cluster, processes, title: "RSS after the load")
        _ = try? await client.delete(path: "/api/v1/namespaces/\(namespace)")
        await client.shutdown()
        await watchClient.shutdown()
        let passed = check.passed && resumed
        print(passed ? "PASS: nothing acknowledged was lost" : "FAIL: see above")
        if !passed { throw ExitCode(1) }
    }

    /// kill -9 the first master's API server; the error window clients saw through nginx.
    func killAPIServer(_ cluster: LocalCluster, _ processes: [LocalCluster.Process], _ writer: FailoverWriter)
        async throws
    {
        guard let target = processes.first(where: { $0.role == .apiServer }), let pid = cluster.livePID(target) else {
            return
        }
        let killed = ContinuousClock.now
        kill(pid, SIGKILL)
        try await Task.sleep(for: .seconds(phaseSeconds))
        let result = writer.window(in: killed..<ContinuousClock.now)
        print("kill -9 \(target.name) (pid \(pid)):")
        print(
            "  failed creates: \(result.errors), error window: \(result.window.secondsText) s, slowest create: \(result.slowest.secondsText) s"
        )
    }

    /// kill -9, then SIGTERM, the scheduler's and the controller-manager's leaders: the time until another holds the
    /// Lease; then scale a Deployment and check it gets exactly its replicas, each pod bound once.
    func killLeaders(_ cluster: LocalCluster, _ client: RESTClient, _ pods: FailoverWatcher) async throws {
        let deployment = "/apis/apps/v1/namespaces/\(namespace)/deployments"
        let body: JSON = [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "failover"],
            "spec": [
                "replicas": 3, "selector": ["matchLabels": ["app": "failover"]],
                "template": [
                    "metadata": ["labels": ["app": "failover"]],
                    "spec": ["containers": [["name": "main", "image": "busybox", "command": ["sleep", "3600"]]]],
                ],
            ],
        ]
        _ = try? await client.postJSON(path: deployment, body)
        for signal in [SIGKILL, SIGTERM] {
            for role in [LocalCluster.Role.scheduler, .controllerManager] {
                try await failOver(role, signal: signal, cluster, client)
            }
        }
        _ = try? await client.patchJSON(path: deployment + "/failover", ["spec": ["replicas": 6]])
        var running = 0
        for _ in 0..<300 {
            running = try await podCount(client)
            if running == 6 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .seconds(3))
        let settled = try await podCount(client)
        var nodes: [String: String] = [:]
        var boundTwice = Set<String>()
        for event in pods.seen {
            guard let node = event.nodeName, !node.isEmpty else { continue }
            if let earlier = nodes[event.uid], earlier != node { boundTwice.insert(event.name) }
            nodes[event.uid] = node
        }
        print(
            "  Deployment scaled 3 → 6 after both failovers: \(settled) pods (extra replicas: \(max(settled - 6, 0))), pods bound twice: \(boundTwice.count)"
        )
    }

    /// Signals `role`'s leader and prints how long until another candidate holds its Lease. After kill -9 the
    /// standbys wait out the lease; after SIGTERM the leader releases it (an empty holder), so a standby takes it
    /// within a retry period. A leader stopped by SIGTERM exits 0 and stays down, as systemd's Restart=on-failure.
    func failOver(_ role: LocalCluster.Role, signal: Int32, _ cluster: LocalCluster, _ client: RESTClient)
        async throws
    {
        let how = signal == SIGKILL ? "kill -9" : "SIGTERM"
        guard let leader = cluster.leader(of: role), let pid = cluster.livePID(leader),
            let before = await ClusterProbe.leaseHolder(role.rawValue, client: client)
        else {
            print("\(how) the \(role.rawValue) leader: no leader found")
            return
        }
        let signalled = ContinuousClock.now
        kill(pid, signal)
        var taken: Duration?
        while ContinuousClock.now - signalled < .seconds(60) {
            if let now = await ClusterProbe.leaseHolder(role.rawValue, client: client), !now.holder.isEmpty,
                now.holder != before.holder
            {
                taken = ContinuousClock.now - signalled
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        print("\(how) the \(role.rawValue) leader \(leader.name) (pid \(pid)):")
        print("  new leader after: \(taken.map { $0.secondsText + " s" } ?? "none within 60 s")")
    }

    func podCount(_ client: RESTClient) async throws -> Int {
        let pods = try await client.getJSON(
            path: "/api/v1/namespaces/\(namespace)/pods", query: ["labelSelector": "app=failover"])
        return pods["items"]?.arrayValue?.filter { $0[path: "metadata", "deletionTimestamp"] == nil }.count ?? 0
    }

    func printMemory(_ cluster: LocalCluster, _ processes: [LocalCluster.Process], title: String) {
        print("\(title):")
        for process in processes {
            guard let pid = cluster.livePID(process) else { continue }
            print("  \(process.name): \(ResidentMemory(pid: pid))")
        }
    }
}
