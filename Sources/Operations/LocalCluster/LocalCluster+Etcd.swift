import Crypto
import Foundation

/// A snapshot file as `etcdctl snapshot save` and `kubeswift etcd snapshot` write it: the backend database
/// followed by etcd's SHA-256 of it.
public enum EtcdSnapshotFile {
    /// Checks that the file ends with the SHA-256 of what precedes it; returns the database's size in bytes.
    public static func verify(path: String) throws -> Int {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw UnitCommandLineError("cannot read \(path)")
        }
        defer { try? handle.close() }
        let size = Int(try handle.seekToEnd())
        let digestSize = SHA256.byteCount
        // etcd pages are 4 KiB, so only a file with its hash appended is 32 bytes past a 512-byte boundary
        // (the test etcdctl snapshot restore makes).
        guard size > digestSize, size % 512 == digestSize else {
            throw UnitCommandLineError(
                "\(path) (\(size) bytes) does not end with etcd's SHA-256: not a snapshot from the Snapshot API")
        }
        try handle.seek(toOffset: 0)
        var hasher = SHA256()
        var remaining = size - digestSize
        while remaining > 0 {
            guard let chunk = try handle.read(upToCount: min(remaining, 1 << 20)), !chunk.isEmpty else {
                throw UnitCommandLineError("\(path) ended early")
            }
            hasher.update(data: chunk)
            remaining -= chunk.count
        }
        let stored = try handle.readToEnd() ?? Data()
        guard Data(hasher.finalize()) == stored else {
            throw UnitCommandLineError("\(path): the SHA-256 at its end does not match its contents")
        }
        return size - digestSize
    }
}

extension LocalCluster {
    /// One member's restore: where its data goes, and the `etcdctl snapshot restore` arguments that write it.
    public struct EtcdRestore: Sendable, Hashable {
        public var member: String
        public var dataDirectory: String
        public var arguments: [String]
    }

    /// Debian's etcd-client (etcd 3.4) restores with `etcdctl snapshot restore`; etcd 3.5 moved it to `etcdutl`.
    public static let etcdRestoreTools = ["/usr/bin/etcdutl", "/usr/bin/etcdctl"]

    /// The restore of every member from `snapshot`, with the name, cluster, token, peer URL and data
    /// directory the rendered etcd units give, so the members start as the same cluster on the restored data.
    public func etcdRestores(snapshot: String, tool: String) throws(UnitCommandLineError) -> [EtcdRestore] {
        try processes().filter { $0.role == .etcd }.map { member throws(UnitCommandLineError) in
            let flags = Self.flagValues(member.arguments)
            guard let name = flags["name"], let dataDirectory = flags["data-dir"],
                let cluster = flags["initial-cluster"], let peer = flags["initial-advertise-peer-urls"]
            else { throw UnitCommandLineError("the etcd unit of \(member.host) lacks a cluster flag") }
            return EtcdRestore(
                member: member.name, dataDirectory: dataDirectory,
                arguments: [
                    tool, "snapshot", "restore", snapshot, "--name=\(name)", "--data-dir=\(dataDirectory)",
                    "--initial-cluster=\(cluster)",
                    "--initial-cluster-token=\(flags["initial-cluster-token"] ?? "etcd-cluster")",
                    "--initial-advertise-peer-urls=\(peer)",
                ])
        }
    }

    /// `--name=value` flags of an argument vector.
    static func flagValues(_ arguments: [String]) -> [String: String] {
        var values: [String: String] = [:]
        for argument in arguments where argument.hasPrefix("--") {
            guard let equals = argument.firstIndex(of: "=") else { continue }
            values[String(argument[argument.index(argument.startIndex, offsetBy: 2)..<equals])] = String(
                argument[argument.index(after: equals)...])
        }
        return values
    }

    /// What `kubeswift up --masters` records in the state directory so later commands find the same layout.
    struct Saved: Codable {
        var masters: Int
        /// Absent in files from before leader election could be tuned.
        var leaderElection: LeaderElectionTimings?
    }

    /// The file recording the layout.
    public static func savedFile(_ stateDirectory: String) -> String { stateDirectory + "/cluster.json" }

    /// Records the layout for `status`, `etcd restore` and the failover bench.
    public func save() throws {
        let data = try JSONEncoder().encode(Saved(masters: layout.masters.count, leaderElection: leaderElection))
        try data.write(to: URL(fileURLWithPath: Self.savedFile(stateDirectory)))
    }

    /// The loopback cluster recorded in `stateDirectory`, or nil when none was.
    public static func saved(stateDirectory: String, binDirectory: String) throws -> LocalCluster? {
        guard let data = FileManager.default.contents(atPath: savedFile(stateDirectory)) else { return nil }
        let saved = try JSONDecoder().decode(Saved.self, from: data)
        return .loopback(
            masters: saved.masters, stateDirectory: stateDirectory, binDirectory: binDirectory,
            leaderElection: saved.leaderElection)
    }

    /// The pid of `process` while a supervisor runs it.
    public func livePID(_ process: Process) -> Int32? {
        ProcessSupervisor.livePID(process.name, in: stateDirectory + "/run")
    }
}
