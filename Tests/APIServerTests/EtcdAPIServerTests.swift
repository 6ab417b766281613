import Foundation
import Operations
import TestSupport
import XCTest

/// kube-apiserver on real etcd: several servers on one etcd behave as one, and a three-member TLS
/// cluster loses a member under load without losing an acknowledged write.
final class EtcdAPIServerTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(EtcdProcess.isInstalled, "needs /usr/bin/etcd (apt-get install etcd-server)")
    }

    func testTwoAPIServersOnOneEtcdShareWritesWatchesAndConflicts() throws {
        let etcd = try EtcdProcess.start()
        let flags = ["--etcd-servers=\(etcd.clientURL)"]
        let first = try TestCluster(address: "127.0.0.41", extraFlags: flags)
        // One controller-manager per cluster, as upstream runs it (two would publish two CAs in turn).
        let second = try TestCluster(address: "127.0.0.42", extraFlags: flags, controllers: nil)

        let list = try Self.curl(second, "GET", "/api/v1/namespaces/default/configmaps")
        XCTAssertEqual(list.status, 200, list.body)
        let listed = try JSONSerialization.jsonObject(with: Data(list.body.utf8)) as? [String: Any]
        let version = (listed?["metadata"] as? [String: Any])?["resourceVersion"] as? String ?? ""
        let watch = try Self.startWatch(
            second, "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=\(version)", seconds: 15)

        for index in 0..<5 {
            expectSuccess(try first.kubectl(["create", "configmap", "shared-\(index)", "--from-literal=i=\(index)"]))
        }
        expectSuccess(try first.kubectl(["label", "configmap", "shared-0", "round=two"]))
        let events = try Self.waitForEvents(watch, count: 6)
        XCTAssertEqual(events.map(\.type), ["ADDED", "ADDED", "ADDED", "ADDED", "ADDED", "MODIFIED"])
        XCTAssertEqual(events.map(\.name), (0..<5).map { "shared-\($0)" } + ["shared-0"])

        // The same resourceVersion through both servers at once: exactly one update wins.
        let current = try Self.curl(first, "GET", "/api/v1/namespaces/default/configmaps/shared-1")
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(current.body.utf8)) as? [String: Any])
        let updates = [first, second].enumerated().map { index, cluster in
            var changed = object
            changed["data"] = ["winner": "\(index)"]
            let body = String(decoding: try! JSONSerialization.data(withJSONObject: changed), as: UTF8.self)
            return Self.curlAsync(cluster, "PUT", "/api/v1/namespaces/default/configmaps/shared-1", body: body)
        }
        let statuses = try updates.map { try $0() }.map(\.status).sorted()
        XCTAssertEqual(statuses, [200, 409])
    }

    func testEveryWatcherOfAResourceSharesOneEtcdWatch() throws {
        let etcd = try EtcdProcess.start()
        let cluster = try TestCluster(address: "127.0.0.46", extraFlags: ["--etcd-servers=\(etcd.clientURL)"])
        // The server watched every resource once when it started; watchers add nothing to that.
        let before = try Self.etcdWatchers(etcd)
        XCTAssertGreaterThan(before, 30)
        let list = try Self.curl(cluster, "GET", "/api/v1/configmaps")
        let listed = try JSONSerialization.jsonObject(with: Data(list.body.utf8)) as? [String: Any]
        let version = (listed?["metadata"] as? [String: Any])?["resourceVersion"] as? String ?? ""
        let watches = try (0..<12).map { index in
            let scope = index.isMultiple(of: 2) ? "" : "namespaces/default/"
            return try Self.startWatch(
                cluster, "/api/v1/\(scope)configmaps?watch=true&resourceVersion=\(version)", seconds: 30)
        }
        for index in 0..<3 {
            expectSuccess(try cluster.kubectl(["create", "configmap", "shared-\(index)", "--from-literal=i=\(index)"]))
        }
        for watch in watches {
            XCTAssertEqual(try Self.waitForEvents(watch, count: 3).map(\.name), ["shared-0", "shared-1", "shared-2"])
        }
        XCTAssertEqual(try Self.etcdWatchers(etcd), before, "twelve watchers open no etcd watch")
    }

    /// etcd's count of open watches, from its /metrics.
    static func etcdWatchers(_ etcd: EtcdProcess) throws -> Int {
        let metrics = try TestCluster.run("/usr/bin/curl", ["-s", "\(etcd.clientURL)/metrics"]).stdout
        let line = metrics.split(separator: "\n").first { $0.hasPrefix("etcd_debugging_mvcc_watcher_total ") }
        guard let value = line?.split(separator: " ").last.flatMap({ Double($0) }) else {
            throw TestClusterError("etcd's /metrics has no etcd_debugging_mvcc_watcher_total")
        }
        return Int(value)
    }

    func testThreeMemberTLSClusterKeepsEveryAcknowledgedCreateWhenAMemberIsKilled() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("etcd-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = try CertificateAuthority.create(commonName: "etcd-ca")
        try ca.write(directory: directory.path)
        let path = { (name: String) in directory.appendingPathComponent(name).path }
        try ca.issueServing(commonName: "etcd", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
            .write(certificateFile: path("etcd.pem"), keyFile: path("etcd-key.pem"))
        try ca.issueClient(user: "kube-apiserver").write(
            certificateFile: path("client.pem"), keyFile: path("client-key.pem"))
        let tls = EtcdProcess.TLS(
            certificateFile: path("etcd.pem"), keyFile: path("etcd-key.pem"), trustedCAFile: path("ca.pem"))
        let members = try EtcdProcess.startCluster(members: 3, tls: tls)
        let server = try TestCluster(
            address: "127.0.0.43",
            extraFlags: [
                "--etcd-servers=\(members.map(\.clientURL).joined(separator: ","))",
                "--etcd-cafile=\(path("ca.pem"))", "--etcd-certfile=\(path("client.pem"))",
                "--etcd-keyfile=\(path("client-key.pem"))",
            ])

        let manifest = (0..<500).map { "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: load-\($0)}\n" }
            .joined(separator: "---\n")
        let creating = Self.runAsync { try server.kubectl(["create", "-f", "-"], input: manifest) }
        Thread.sleep(forTimeInterval: 1.5)
        members[0].kill()  // the first endpoint: the member the API server talks to
        let output = try creating()
        let acknowledged = Set(
            output.stdout.split(separator: "\n").compactMap { line -> String? in
                guard line.hasSuffix(" created") else { return nil }
                return line.split(separator: " ").first.map { String($0.dropFirst("configmap/".count)) }
            })
        XCTAssertGreaterThan(
            acknowledged.count, 400,
            server.log.split(separator: "\n").filter {
                $0.contains("Fatal") || $0.contains("crashed") || $0.contains("Sources/")
            }
            .prefix(30).joined(separator: "\n"))
        let stored = Set(
            expectSuccess(try server.kubectl(["get", "configmaps", "-o", "name"])).split(separator: "\n").map {
                String($0.dropFirst("configmap/".count))
            })
        XCTAssertTrue(acknowledged.isSubset(of: stored), "lost: \(acknowledged.subtracting(stored).sorted())")
        XCTAssertEqual(try Self.curl(server, "GET", "/readyz").body, "ok")
    }

    // MARK: - helpers

    struct Reply {
        var status: Int
        var body: String
    }

    /// One request with the admin client certificate, through curl.
    static func curl(_ cluster: TestCluster, _ method: String, _ path: String, body: String? = nil) throws -> Reply {
        let pki = cluster.directory.appendingPathComponent("pki").path
        var arguments = [
            "-s", "-X", method, "--cacert", "\(pki)/ca.pem", "--cert", "\(pki)/admin.pem", "--key",
            "\(pki)/admin-key.pem", "-w", "\n%{http_code}", "-H", "Content-Type: application/json",
        ]
        if body != nil { arguments += ["--data-binary", "@-"] }
        arguments.append("https://\(cluster.address):\(cluster.port)\(path)")
        let output = try TestCluster.run("/usr/bin/curl", arguments, input: body)
        let text = output.stdout
        guard let newline = text.lastIndex(of: "\n"), let status = Int(text[text.index(after: newline)...]) else {
            throw TestClusterError("curl failed: \(output.stderr)")
        }
        return Reply(status: status, body: String(text[..<newline]))
    }

    static func curlAsync(_ cluster: TestCluster, _ method: String, _ path: String, body: String?) -> () throws
        -> Reply
    {
        runAsync { try curl(cluster, method, path, body: body) }
    }

    /// Runs `work` on a thread now; the returned function waits for its result.
    static func runAsync<T>(_ work: @escaping @Sendable () throws -> T) -> () throws -> T {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox<T>()
        Thread {
            box.result = Result { try work() }
            done.signal()
        }.start()
        return {
            done.wait()
            return try box.result!.get()
        }
    }

    final class ResultBox<T>: @unchecked Sendable { var result: Result<T, any Error>? }

    /// A watch streamed by curl into a file for `seconds`.
    static func startWatch(_ cluster: TestCluster, _ path: String, seconds: Int) throws -> URL {
        let pki = cluster.directory.appendingPathComponent("pki").path
        let file = cluster.directory.appendingPathComponent("watch-\(UUID().uuidString).json")
        _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = [
            "-s", "-N", "--max-time", "\(seconds)", "--cacert", "\(pki)/ca.pem", "--cert", "\(pki)/admin.pem",
            "--key", "\(pki)/admin-key.pem", "-o", file.path, "https://\(cluster.address):\(cluster.port)\(path)",
        ]
        try process.run()
        Thread.sleep(forTimeInterval: 0.3)
        return file
    }

    struct Event: Equatable {
        var type: String
        var name: String
    }

    static func waitForEvents(_ file: URL, count: Int, timeout: TimeInterval = 15) throws -> [Event] {
        let deadline = Date().addingTimeInterval(timeout)
        var events: [Event] = []
        while Date() < deadline {
            let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
            events = text.split(separator: "\n").compactMap { line in
                guard let event = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    let type = event["type"] as? String, let object = event["object"] as? [String: Any]
                else { return nil }
                let name = (object["metadata"] as? [String: Any])?["name"] as? String ?? ""
                return Event(type: type, name: name)
            }
            if events.count >= count { return events }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return events
    }
}
