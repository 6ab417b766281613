import Foundation
import Operations
import XCTest

/// `kubeswift up --masters`'s plan: every process runs with the flags `kubeswift render` writes, changed only
/// where hosts share one machine, and its files are what the processes and nginx accept.
final class UpHALayoutTests: XCTestCase {
    func testUnitCommandLineExpandsEnvironmentFilesAsSystemdDoes() throws {
        let unit = """
            [Service]
            EnvironmentFile=-/etc/kubernetes/config
            EnvironmentFile=-/etc/kubernetes/missing
            EnvironmentFile=/etc/kubernetes/apiserver
            ExecStart=/bin/kube-apiserver \\
            $KUBE_LOG_LEVEL \\
            ${KUBE_ONE_WORD} $UNSET \\
            $KUBE_API_ARGS
            """
        let files = [
            "/etc/kubernetes/config": "# shared\nKUBE_LOG_LEVEL=\"--v=0\"\n",
            "/etc/kubernetes/apiserver": "KUBE_API_ARGS=\"--a=1  --b=2\"\nKUBE_ONE_WORD=\"x y\"\n",
        ]
        XCTAssertEqual(
            try UnitCommandLine.arguments(unit: unit, files: files),
            ["/bin/kube-apiserver", "--v=0", "x y", "--a=1", "--b=2"])
        XCTAssertThrowsError(
            try UnitCommandLine.arguments(unit: unit, files: ["/etc/kubernetes/config": ""])
        ) { XCTAssertEqual("\($0)", "EnvironmentFile /etc/kubernetes/apiserver is missing") }
    }

    func testProcessesRunTheRenderedFlagsWithOnlyTheSharedMachineChanges() throws {
        let state = "/tmp/kubeswift-ha-plan"
        let cluster = LocalCluster.loopback(masters: 3, stateDirectory: state, binDirectory: "/opt/bin")
        let processes = try cluster.processes()
        XCTAssertEqual(
            processes.map(\.name).filter { $0.hasPrefix("etcd") }, ["etcd@etcd-1", "etcd@etcd-2", "etcd@etcd-3"])
        XCTAssertEqual(
            processes.filter { $0.role == .apiServer }.map(\.address), ["127.0.0.11", "127.0.0.12", "127.0.0.13"])
        XCTAssertEqual(processes.count, 3 + 9 + 1)

        for process in processes where process.role != .loadBalancer {
            let rendered = cluster.renderedFiles(process.host)
            let renderedFlags: [String: String]
            if process.role == .etcd {
                renderedFlags = RenderCheck.flags(in: rendered["/usr/lib/systemd/system/etcd.service"] ?? "")
                XCTAssertEqual(process.arguments.first, "/usr/bin/etcd")
            } else {
                let files = [
                    rendered["/etc/kubernetes/config"] ?? "",
                    rendered["/etc/kubernetes/\(process.role.rawValue.dropFirst("kube-".count))"] ?? "",
                ]
                renderedFlags = files.map(RenderCheck.flags(in:)).reduce(into: [:]) { $0.merge($1) { $1 } }
                XCTAssertEqual(process.arguments.first, "/opt/bin/\(process.role.rawValue)")
            }
            let flags = RenderCheck.flags(in: process.arguments.joined(separator: " "))
            XCTAssertEqual(Set(flags.keys), Set(renderedFlags.keys), process.name)
            let root = "\(state)/hosts/\(process.host)"
            for (name, value) in renderedFlags {
                let expected: String
                switch (process.role, name) {
                case (.etcd, "listen-client-urls"): expected = "https://\(process.address):2379"
                case (.scheduler, "bind-address"), (.controllerManager, "bind-address"): expected = process.address
                default:
                    let hostPath = ["/etc/kubernetes", "/var/lib/k8s", "/var/lib/etcd"].contains { value.hasPrefix($0) }
                    expected = hostPath ? root + value : value
                }
                XCTAssertEqual(flags[name], expected, "\(process.name) --\(name)")
            }
        }
        let apiServer = try XCTUnwrap(processes.first { $0.name == "kube-apiserver@k8s-2" })
        XCTAssertTrue(
            apiServer.arguments.contains(
                "--etcd-servers=https://127.0.0.14:2379,https://127.0.0.15:2379,https://127.0.0.16:2379"))
        XCTAssertTrue(apiServer.arguments.contains("--token-auth-file=\(state)/hosts/k8s-2/etc/kubernetes/token.csv"))
        XCTAssertTrue(apiServer.arguments.contains("--apiserver-count=3"))
        // Simulated nodes join with bootstrap tokens, as kubeadm's API servers accept them.
        XCTAssertTrue(apiServer.arguments.contains("--enable-bootstrap-token-auth=true"))
    }

    func testWrittenFilesServeTheComponentsAndNginxAcceptsItsConfiguration() throws {
        let state = try makeTemporaryDirectory(self)
        let cluster = LocalCluster.loopback(masters: 3, stateDirectory: state, binDirectory: "/opt/bin")
        try cluster.writeFiles()
        let caBefore = try String(contentsOfFile: state + "/pki/ca.pem", encoding: .utf8)
        try cluster.writeFiles()
        XCTAssertEqual(try String(contentsOfFile: state + "/pki/ca.pem", encoding: .utf8), caBefore, "the CA is kept")

        let admin = try Kubeconfig.load(fromFile: cluster.adminKubeconfig)
        XCTAssertEqual(admin.clusters.map(\.value.server), ["https://127.0.0.10:6443"])
        let scheduler = try Kubeconfig.load(fromFile: state + "/hosts/k8s-3/etc/kubernetes/kube-scheduler.kubeconfig")
        XCTAssertEqual(scheduler.clusters.map(\.value.server), ["https://127.0.0.13:6443"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: state + "/hosts/k8s-1/etc/kubernetes/ssl/kubernetes.pem"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: state + "/hosts/k8s-1/etc/kubernetes/token.csv"))
        XCTAssertEqual(
            try PKICheck.check(
                directory: cluster.pkiDirectory, addresses: ["127.0.0.10", "127.0.0.11", "127.0.0.12", "127.0.0.13"]),
            [])

        let configuration = cluster.nginxConfiguration
        XCTAssertTrue(configuration.contains("listen 127.0.0.10:6443;"), configuration)
        XCTAssertFalse(configuration.contains(" /run/"), configuration)
        let nginx = try XCTUnwrap(try cluster.processes().last)
        XCTAssertEqual(nginx.role, .loadBalancer)
        // nginx -t with the very arguments the supervisor runs it with (daemon off swapped for the test).
        let arguments = Array(nginx.arguments.dropFirst().dropLast(2)) + ["-t"]
        let result = try runTool(LocalCluster.nginxBinary, arguments)
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
    }

    func testASnapshotFileIsCheckedByTheHashEtcdAppends() throws {
        let directory = try makeTemporaryDirectory(self)
        let database = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 * 7) })
        let good = directory + "/good.db"
        let sha = try runToolWithInput("/usr/bin/sha256sum", database)
        let digest = try XCTUnwrap(hexBytes(String(sha.prefix(64))))
        try (database + digest).write(to: URL(fileURLWithPath: good))
        XCTAssertEqual(try EtcdSnapshotFile.verify(path: good), 8192)

        let wrong = directory + "/wrong.db"
        var bytes = database + digest
        bytes[10] ^= 1
        try bytes.write(to: URL(fileURLWithPath: wrong))
        XCTAssertThrowsError(try EtcdSnapshotFile.verify(path: wrong))
        let copied = directory + "/copied.db"
        try database.write(to: URL(fileURLWithPath: copied))
        XCTAssertThrowsError(try EtcdSnapshotFile.verify(path: copied), "a database copied without its hash")
    }

    func runToolWithInput(_ executable: String, _ input: Data) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: output, as: UTF8.self)
    }

    func hexBytes(_ text: String) -> Data? {
        var data = Data()
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            data.append(byte)
            index = next
        }
        return data
    }
}
