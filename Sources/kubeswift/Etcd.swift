import ArgumentParser
import EtcdStore
import Foundation
import Operations

/// `kubeswift etcd`: snapshots of the cluster's etcd and restores from them.
struct Etcd: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Save an etcd snapshot of a kubeswift cluster, or restore its members from one.",
        subcommands: [EtcdSnapshot.self, EtcdRestoreCommand.self])
}

/// Options naming the cluster: a state directory of `kubeswift up --masters`, or explicit etcd settings.
struct EtcdTarget: ParsableArguments {
    @Option(help: "The state directory kubeswift up --masters was given.")
    var stateDir: String = Up.defaultStateDirectory + "/ha"

    /// The saved cluster, or a clear error.
    func cluster() throws -> LocalCluster {
        guard let cluster = try LocalCluster.saved(stateDirectory: stateDir, binDirectory: UpHA.binDirectory) else {
            throw ValidationError("\(stateDir) holds no cluster started by kubeswift up --masters")
        }
        return cluster
    }
}

/// `kubeswift etcd snapshot FILE`: Maintenance/Snapshot through the project's etcd client, its hash checked.
struct EtcdSnapshot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot", abstract: "Stream a member's database into FILE and check etcd's SHA-256 of it.")

    @Argument(help: "The snapshot file to write.")
    var file: String

    @OptionGroup var target: EtcdTarget

    @Option(help: "One etcd member's client URL (default: the first member of --state-dir's cluster that answers).")
    var endpoint: String?

    @Option(help: "With --endpoint: CA, client certificate and key (default: the cluster's pki).")
    var cacert: String?
    @Option var cert: String?
    @Option var key: String?

    func run() async throws {
        let endpoints: [String]
        var pki = (cacert, cert, key)
        if let endpoint {
            endpoints = [endpoint]
        } else {
            let cluster = try target.cluster()
            endpoints = cluster.etcdURLs
            let directory = cluster.pkiDirectory
            pki = (
                cacert ?? directory + "/ca.pem", cert ?? directory + "/etcd-client.pem",
                key ?? directory + "/etcd-client-key.pem"
            )
        }
        var failures: [String] = []
        for endpoint in endpoints {
            do {
                try await save(from: endpoint, caFile: pki.0, certificateFile: pki.1, keyFile: pki.2)
                return
            } catch {
                failures.append("\(endpoint): \(error)")
            }
        }
        throw ValidationError("no snapshot saved:\n" + failures.joined(separator: "\n"))
    }

    func save(from endpoint: String, caFile: String?, certificateFile: String?, keyFile: String?) async throws {
        guard let parsed = GRPCEndpoint(url: endpoint) else { throw ValidationError("invalid endpoint \(endpoint)") }
        let store = try EtcdStore(
            configuration: EtcdConfiguration(
                endpoints: [parsed], caFile: caFile, certificateFile: certificateFile, keyFile: keyFile))
        defer { store.close() }
        let status = try await store.memberStatus()
        // Written beside the target and renamed once complete and checked, so FILE is never a partial snapshot.
        let partial = file + ".part"
        guard FileManager.default.createFile(atPath: partial, contents: nil),
            let handle = FileHandle(forWritingAtPath: partial)
        else { throw ValidationError("cannot write \(partial)") }
        do {
            _ = try await store.snapshot(into: handle)
            try handle.close()
            let size = try EtcdSnapshotFile.verify(path: partial)
            if FileManager.default.fileExists(atPath: file) { try FileManager.default.removeItem(atPath: file) }
            try FileManager.default.moveItem(atPath: partial, toPath: file)
            print(
                "Snapshot saved at \(file): \(size) bytes of database at revision \(status.revision) "
                    + "from member \(String(status.memberID, radix: 16)) (\(endpoint)), SHA-256 checked")
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
    }
}

/// `kubeswift etcd restore FILE`: new data directories for every member, written by Debian's etcdctl.
struct EtcdRestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Replace every etcd member's data with FILE (the cluster must be stopped; old data is kept aside).")

    @Argument(help: "A snapshot written by kubeswift etcd snapshot or etcdctl snapshot save.")
    var file: String

    @OptionGroup var target: EtcdTarget

    func run() throws {
        let cluster = try target.cluster()
        if let running = try cluster.processes().first(where: { cluster.livePID($0) != nil }) {
            throw ValidationError("\(running.name) is running; stop kubeswift up before restoring")
        }
        guard let tool = LocalCluster.etcdRestoreTools.first(where: FileManager.default.isExecutableFile) else {
            throw ValidationError("neither etcdutl nor etcdctl is installed: apt-get install etcd-client")
        }
        let size = try EtcdSnapshotFile.verify(path: file)
        let stamp = Int(Date().timeIntervalSince1970)
        for restore in try cluster.etcdRestores(snapshot: file, tool: tool) {
            let fileManager = FileManager.default
            if fileManager.fileExists(atPath: restore.dataDirectory) {
                let aside = "\(restore.dataDirectory).before-restore-\(stamp)"
                try fileManager.moveItem(atPath: restore.dataDirectory, toPath: aside)
                print("\(restore.member): previous data kept at \(aside)")
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = Array(restore.arguments.dropFirst())
            process.environment = ["ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw ValidationError("\(tool) snapshot restore failed for \(restore.member):\n\(text)")
            }
            print("\(restore.member): restored \(size) bytes into \(restore.dataDirectory)")
        }
        print(
            "Restored; start the cluster with: kubeswift up --masters \(cluster.layout.masters.count) "
                + "--state-dir \(cluster.stateDirectory)")
    }
}
