import Client
import Foundation
import Operations

/// The failover bench's etcd phases and the phase that kills the API server a watch is streaming from.
extension BenchFailover {
    /// kill -9 the etcd leader: the error window, and how long the restarted member takes to catch up.
    func killEtcdLeader(_ cluster: LocalCluster, _ processes: [LocalCluster.Process], _ writer: FailoverWriter)
        async throws
    {
        guard let leader = await etcdMembers(cluster, processes).first(where: \.isLeader)?.process,
            let pid = cluster.livePID(leader)
        else {
            print("kill -9 the etcd leader: no leader found")
            return
        }
        let killed = ContinuousClock.now
        kill(pid, SIGKILL)
        try await Task.sleep(for: .seconds(phaseSeconds))
        print("kill -9 the etcd leader \(leader.name) (pid \(pid)):")
        printWindow(writer, since: killed)
        // The supervisor restarts it after the unit's RestartSec.
        try await printCatchUp(cluster, processes, member: leader, since: killed, how: "restarted")
    }

    /// Stops (SIGSTOP) an etcd follower for a phase: two of three members keep a quorum, so writes must go on, and
    /// clients connected to the frozen member must notice it answers nothing. Then SIGCONT, and how long it takes
    /// to catch up.
    func stopEtcdFollower(_ cluster: LocalCluster, _ processes: [LocalCluster.Process], _ writer: FailoverWriter)
        async throws
    {
        guard let follower = await etcdMembers(cluster, processes).first(where: { !$0.isLeader })?.process,
            let pid = cluster.livePID(follower)
        else {
            print("stop an etcd follower: none found")
            return
        }
        let stopped = ContinuousClock.now
        kill(pid, SIGSTOP)
        try await Task.sleep(for: .seconds(phaseSeconds))
        print("stop (SIGSTOP) the etcd follower \(follower.name) (pid \(pid)) for \(phaseSeconds) s:")
        printWindow(writer, since: stopped)
        kill(pid, SIGCONT)
        try await printCatchUp(cluster, processes, member: follower, since: .now, how: "resumed (SIGCONT)")
    }

    /// kill -9 the API server that a fresh watcher's connection reaches through nginx: the watch must resume
    /// through nginx from its last resourceVersion, every acknowledged create seen once, in order; false if not.
    func killWatchersAPIServer(
        _ cluster: LocalCluster, _ processes: [LocalCluster.Process], _ writer: FailoverWriter,
        configuration: ClientConfiguration
    ) async throws -> Bool {
        let path = "/api/v1/namespaces/\(namespace)/configmaps"
        var found: (client: RESTClient, upstream: String, from: Int64)?
        // nginx opens one upstream connection per client connection: the one that appears with the watcher's
        // first request is its. Another client reconnecting at that moment makes it ambiguous; try again then.
        for _ in 0..<5 where found == nil {
            let before = NginxUpstreams.connections(cluster)
            let client = try RESTClient(configuration: configuration)
            let listed = try await client.getJSON(path: path, query: ["limit": "1"])
            let opened = NginxUpstreams.connections(cluster).subtracting(before)
            if opened.count == 1, let upstream = opened.first?.remoteAddress {
                let from = listed[path: "metadata", "resourceVersion"]?.stringValue.flatMap { Int64($0) } ?? 0
                found = (client, upstream, from)
            } else {
                await client.shutdown()
            }
        }
        guard let (client, upstream, from) = found,
            let target = processes.first(where: { $0.role == .apiServer && $0.address == upstream }),
            let pid = cluster.livePID(target)
        else {
            print("kill -9 the watcher's API server: could not tell which API server nginx chose for the watch")
            return true
        }
        let watcher = FailoverWatcher()
        let watching = Task { await watcher.run(client: client, path: path, from: from) }
        try await Task.sleep(for: .seconds(1))
        let killed = ContinuousClock.now
        kill(pid, SIGKILL)
        try await Task.sleep(for: .seconds(phaseSeconds))
        // Everything acknowledged by now must reach the watcher, once each.
        let last = writer.attempts.compactMap(\.resourceVersion).max() ?? 0
        for _ in 0..<100 where (watcher.seen.last?.resourceVersion ?? 0) < last {
            try await Task.sleep(for: .milliseconds(100))
        }
        watching.cancel()
        await watching.value
        await client.shutdown()
        let acknowledged = writer.attempts.filter {
            ($0.resourceVersion ?? 0) > from && ($0.resourceVersion ?? 0) <= last
        }
        let added = Dictionary(grouping: watcher.seen.filter { $0.type == .added }, by: \.name).mapValues(\.count)
        let missing = acknowledged.map(\.name).filter { added[$0] == nil }
        let duplicated = added.filter { $0.value > 1 }.keys.sorted()
        let versions = watcher.seen.map(\.resourceVersion)
        let outOfOrder = zip(versions, versions.dropFirst()).filter { $0 >= $1 }.count
        print("kill -9 the watcher's API server \(target.name) (pid \(pid)), watching through nginx:")
        printWindow(writer, since: killed)
        print(
            "  watch: \(acknowledged.count) acknowledged creates, missed: \(missing.count) \(missing.prefix(5)), "
                + "duplicated: \(duplicated.count), out of order: \(outOfOrder), "
                + "resumed \(watcher.restarts.broken) times (\(watcher.restarts.expired) expired)")
        return missing.isEmpty && duplicated.isEmpty && outOfOrder == 0
    }

    /// Each etcd member with whether it leads, by asking each.
    func etcdMembers(_ cluster: LocalCluster, _ processes: [LocalCluster.Process]) async
        -> [(process: LocalCluster.Process, isLeader: Bool)]
    {
        var members: [(LocalCluster.Process, Bool)] = []
        for member in processes where member.role == .etcd {
            let endpoint = "https://\(member.address):2379"
            if case .success(let status) = await ClusterProbe.etcdStatus(endpoint: endpoint, pki: cluster.pkiDirectory)
            {
                members.append((member, status.isLeader))
            }
        }
        return members
    }

    func printWindow(_ writer: FailoverWriter, since start: ContinuousClock.Instant) {
        let result = writer.window(in: start..<ContinuousClock.now)
        print(
            "  failed creates: \(result.errors), error window: \(result.window.secondsText) s, "
                + "slowest create: \(result.slowest.secondsText) s")
    }

    /// Waits until `member` reaches the revision another member had when it came back; prints how long that took.
    func printCatchUp(
        _ cluster: LocalCluster, _ processes: [LocalCluster.Process], member: LocalCluster.Process,
        since start: ContinuousClock.Instant, how: String
    ) async throws {
        var target: Int64 = 0
        for other in processes where other.role == .etcd && other.name != member.name {
            if case .success(let status) = await ClusterProbe.etcdStatus(
                endpoint: "https://\(other.address):2379", pki: cluster.pkiDirectory)
            {
                target = max(target, status.revision)
            }
        }
        let endpoint = "https://\(member.address):2379"
        var caughtUp: Duration?
        while ContinuousClock.now - start < .seconds(60) {
            if case .success(let status) = await ClusterProbe.etcdStatus(endpoint: endpoint, pki: cluster.pkiDirectory),
                status.revision >= target
            {
                caughtUp = ContinuousClock.now - start
                break
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        print(
            "  \(how) member at revision \(target) after: "
                + (caughtUp.map { $0.secondsText + " s" } ?? "not within 60 s"))
    }
}

/// nginx's connections to the API servers, read from /proc: the sockets its worker processes hold that are
/// established to a master's API port.
enum NginxUpstreams {
    struct Connection: Hashable {
        var localPort: Int
        var remoteAddress: String
    }

    static func connections(_ cluster: LocalCluster) -> Set<Connection> {
        guard let nginx = (try? cluster.processes())?.first(where: { $0.role == .loadBalancer }),
            let master = cluster.livePID(nginx)
        else { return [] }
        var inodes = Set<String>()
        for pid in [master] + children(of: master) {
            let directory = "/proc/\(pid)/fd"
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: directory + "/" + entry),
                    target.hasPrefix("socket:[")
                else { continue }
                inodes.insert(String(target.dropFirst("socket:[".count).dropLast()))
            }
        }
        let masters = Set(cluster.layout.masters.map(\.address))
        // procfs files claim no size, and Foundation's whole-file readers then stop after the first page.
        let bytes = FileHandle(forReadingAtPath: "/proc/net/tcp").flatMap { try? $0.readToEnd() } ?? Data()
        let table = String(decoding: bytes, as: UTF8.self)
        var found = Set<Connection>()
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            // sl, local, remote, state, queues, timer, retransmits, uid, timeout, inode
            guard fields.count > 9, fields[3] == "01", inodes.contains(String(fields[9])),
                let local = endpoint(fields[1]), let remote = endpoint(fields[2]),
                remote.port == cluster.layout.apiServerPort, masters.contains(remote.address)
            else { continue }
            found.insert(Connection(localPort: local.port, remoteAddress: remote.address))
        }
        return found
    }

    /// `0B00007F:1913` → 127.0.0.11, 6419 (the address in host byte order, little-endian here).
    static func endpoint(_ text: Substring) -> (address: String, port: Int)? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts[0].count == 8, let address = UInt32(parts[0], radix: 16),
            let port = Int(parts[1], radix: 16)
        else { return nil }
        let bytes = (0..<4).map { String((address >> (8 * $0)) & 0xFF) }
        return (bytes.joined(separator: "."), port)
    }

    static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { candidate in
            guard let stat = try? String(contentsOfFile: "/proc/\(candidate)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == pid
        }
    }
}
