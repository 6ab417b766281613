import EtcdStore
import Foundation
import Operations
import Storage
import TestSupport
import Testing

/// `kubeswift etcd snapshot`'s client side and `etcd restore`'s tool: a snapshot streamed through the project's
/// etcd client carries etcd's hash, and Debian's etcdctl restores it into a member that serves the same keys.
@Suite(.enabled(if: EtcdProcess.isInstalled, "needs /usr/bin/etcd (apt-get install etcd-server)"))
struct EtcdSnapshotTests {
    static let etcdctl = "/usr/bin/etcdctl"

    @Test func aSnapshotStreamedThroughTheClientRestoresIntoAMemberServingTheSameKeys() async throws {
        let member = try await EtcdProcess.start()
        let store = try EtcdStore(
            configuration: EtcdConfiguration(endpoints: try EtcdConfiguration.parseServers(member.clientURL)))
        defer { store.close() }
        for index in 0..<200 {
            _ = try await store.create(
                key: "/registry/configmaps/default/cm-\(index)", value: Array("v\(index)".utf8), lease: 0)
        }
        let status = try await store.memberStatus()
        #expect(status.isLeader)
        #expect(status.revision >= 201)

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("snapshot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("snapshot.db").path
        _ = FileManager.default.createFile(atPath: file, contents: nil)
        let handle = try #require(FileHandle(forWritingAtPath: file))
        let written = try await store.snapshot(into: handle)
        try handle.close()
        let databaseSize = try EtcdSnapshotFile.verify(path: file)
        #expect(databaseSize + 32 == written)
        #expect(databaseSize % 4096 == 0)

        // One flipped byte in the database is caught by the hash.
        var tampered = try Data(contentsOf: URL(fileURLWithPath: file))
        tampered[100] ^= 0xff
        let tamperedFile = directory.appendingPathComponent("tampered.db").path
        try tampered.write(to: URL(fileURLWithPath: tamperedFile))
        #expect(throws: (any Error).self) { try EtcdSnapshotFile.verify(path: tamperedFile) }

        try #require(
            FileManager.default.isExecutableFile(atPath: Self.etcdctl),
            "etcd restore needs \(Self.etcdctl): apt-get install etcd-client")
        let restored = try await RestoredMember.start(snapshot: file, in: directory)
        defer { restored.stop() }
        let restoredStore = try EtcdStore(
            configuration: EtcdConfiguration(endpoints: try EtcdConfiguration.parseServers(restored.clientURL)))
        defer { restoredStore.close() }
        let all = try await restoredStore.range(
            start: "/registry/configmaps/", end: "/registry/configmaps0", limit: 0, revision: nil)
        #expect(all.items.count == 200)
        #expect(try await restoredStore.get(key: "/registry/configmaps/default/cm-7")?.value == Array("v7".utf8))
        #expect(try await restoredStore.currentRevision() == status.revision)
    }
}

/// A member started on a data directory `etcdctl snapshot restore` wrote.
private struct RestoredMember {
    let process: Process
    let clientURL: String

    static func start(snapshot: String, in directory: URL) async throws -> RestoredMember {
        let (clientPort, peerPort) = try (freePort(), freePort())
        let peer = "http://127.0.0.1:\(peerPort)"
        let data = directory.appendingPathComponent("restored").path
        let restore = Process()
        restore.executableURL = URL(fileURLWithPath: EtcdSnapshotTests.etcdctl)
        restore.arguments = [
            "snapshot", "restore", snapshot, "--name=restored", "--data-dir=\(data)",
            "--initial-cluster=restored=\(peer)", "--initial-advertise-peer-urls=\(peer)",
        ]
        restore.environment = ["ETCDCTL_API": "3"]
        restore.standardOutput = FileHandle.nullDevice
        restore.standardError = FileHandle.nullDevice
        try restore.run()
        restore.waitUntilExit()
        try #require(restore.terminationStatus == 0, "etcdctl snapshot restore failed")

        let clientURL = "http://127.0.0.1:\(clientPort)"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: EtcdProcess.binary)
        process.arguments = [
            "--name=restored", "--data-dir=\(data)", "--listen-client-urls=\(clientURL)",
            "--advertise-client-urls=\(clientURL)", "--listen-peer-urls=\(peer)",
            "--initial-advertise-peer-urls=\(peer)", "--initial-cluster=restored=\(peer)",
            "--heartbeat-interval=25", "--election-timeout=250",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let member = RestoredMember(process: process, clientURL: clientURL)
        let store = try EtcdStore(
            configuration: EtcdConfiguration(endpoints: try EtcdConfiguration.parseServers(clientURL)))
        defer { store.close() }
        for _ in 0..<200 {
            if await store.checkHealth() { return member }
            try await Task.sleep(for: .milliseconds(50))
        }
        member.stop()
        throw EtcdProcessError("the restored member did not serve within 10 s")
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// A loopback port nothing listens on now.
    static func freePort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw EtcdProcessError("socket() failed") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0
            }
        }
        guard bound else { throw EtcdProcessError("bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
