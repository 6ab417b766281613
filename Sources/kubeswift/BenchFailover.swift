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
        guard processes.allSatisfy({ cluster.livePID($0) != nil }) else {
            throw ValidationError("not every process of the cluster in \(stateDir) runs; start kubeswift up --masters")
        }
        print("Cluster in \(stateDir): \(cluster.layout.masters.count) masters, 3 etcd members, nginx")
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
        try await killLeaders(cluster, client, pods)
        try await killEtcdLeader(cluster, processes, writer)

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
        print(check.passed ? "PASS: nothing acknowledged was lost" : "FAIL: see above")
        if !check.passed { throw ExitCode(1) }
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

    /// kill -9 the scheduler's and the controller-manager's leaders: the time until another holds the Lease; then
    /// scale a Deployment and check it gets exactly its replicas, each pod bound once.
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
        for role in [LocalCluster.Role.scheduler, .controllerManager] {
            guard let leader = cluster.leader(of: role), let pid = cluster.livePID(leader),
                let before = await ClusterProbe.leaseHolder(role.rawValue, client: client)
            else {
                print("kill -9 the \(role.rawValue) leader: no leader found")
                continue
            }
            let killed = ContinuousClock.now
            kill(pid, SIGKILL)
            var taken: Duration?
            while ContinuousClock.now - killed < .seconds(60) {
                if let now = await ClusterProbe.leaseHolder(role.rawValue, client: client), now.holder != before.holder
                {
                    taken = ContinuousClock.now - killed
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            print("kill -9 the \(role.rawValue) leader \(leader.name) (pid \(pid)):")
            print("  new leader after: \(taken.map { $0.secondsText + " s" } ?? "none within 60 s")")
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

    func podCount(_ client: RESTClient) async throws -> Int {
        let pods = try await client.getJSON(
            path: "/api/v1/namespaces/\(namespace)/pods", query: ["labelSelector": "app=failover"])
        return pods["items"]?.arrayValue?.filter { $0[path: "metadata", "deletionTimestamp"] == nil }.count ?? 0
    }

    /// kill -9 the etcd leader: the error window, and how long the restarted member takes to catch up.
    func killEtcdLeader(_ cluster: LocalCluster, _ processes: [LocalCluster.Process], _ writer: FailoverWriter)
        async throws
    {
        var leader: LocalCluster.Process?
        for member in processes where member.role == .etcd {
            let endpoint = "https://\(member.address):2379"
            if case .success(let status) = await ClusterProbe.etcdStatus(endpoint: endpoint, pki: cluster.pkiDirectory),
                status.isLeader
            {
                leader = member
            }
        }
        guard let leader, let pid = cluster.livePID(leader) else {
            print("kill -9 the etcd leader: no leader found")
            return
        }
        let killed = ContinuousClock.now
        kill(pid, SIGKILL)
        try await Task.sleep(for: .seconds(phaseSeconds))
        let result = writer.window(in: killed..<ContinuousClock.now)
        print("kill -9 the etcd leader \(leader.name) (pid \(pid)):")
        print(
            "  failed creates: \(result.errors), error window: \(result.window.secondsText) s, slowest create: \(result.slowest.secondsText) s"
        )
        // The supervisor restarts it after the unit's RestartSec; it has caught up when its revision reaches the
        // revision another member had a moment before.
        let endpoint = "https://\(leader.address):2379"
        let others = processes.filter { $0.role == .etcd && $0.name != leader.name }
        var target: Int64 = 0
        for other in others {
            if case .success(let status) = await ClusterProbe.etcdStatus(
                endpoint: "https://\(other.address):2379", pki: cluster.pkiDirectory)
            {
                target = max(target, status.revision)
            }
        }
        var caughtUp: Duration?
        while ContinuousClock.now - killed < .seconds(60) {
            if case .success(let status) = await ClusterProbe.etcdStatus(endpoint: endpoint, pki: cluster.pkiDirectory),
                status.revision >= target
            {
                caughtUp = ContinuousClock.now - killed
                break
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        print(
            "  restarted member at revision \(target) after: \(caughtUp.map { $0.secondsText + " s" } ?? "not within 60 s") from the kill"
        )
    }

    func printMemory(_ cluster: LocalCluster, _ processes: [LocalCluster.Process], title: String) {
        print("\(title):")
        for process in processes {
            guard let pid = cluster.livePID(process) else { continue }
            print("  \(process.name): \(ResidentMemory(pid: pid))")
        }
    }
}
