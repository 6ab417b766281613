import APIMachinery
import Foundation
import TestSupport
import XCTest

/// The real kube-apiserver with the guide's audit flags plus a policy file, driven by kubectl: every
/// request leaves its events in the JSON-lines log, with the kubectl-visible Audit-Id; events expire
/// with --event-ttl; bad audit and limit flags fail start-up.
final class AuditEndToEndTests: XCTestCase {
    static let policy = """
        apiVersion: audit.k8s.io/v1
        kind: Policy
        omitManagedFields: true
        rules:
        - level: None
          nonResourceURLs: ["/healthz*", "/livez*", "/readyz*"]
        - level: RequestResponse
          resources:
          - group: ""
            resources: ["configmaps"]
        - level: Metadata
        """

    func readEvents(_ path: String) -> [JSON] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSON.parse(String($0)) }
    }

    /// The events of one request, waiting for the writer thread to catch up.
    func events(_ path: String, auditID: String, count: Int) throws -> [JSON] {
        let deadline = Date().addingTimeInterval(10)
        while true {
            let events = readEvents(path).filter { $0["auditID"]?.stringValue == auditID }
            if events.count >= count || Date() > deadline { return events }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// The Audit-Id headers kubectl printed at -v=8, in request order.
    func auditIDs(_ output: TestCluster.Output) -> [String] {
        output.stderr.split(separator: "\n").compactMap { line in
            guard let range = line.range(of: "Audit-Id: ") else { return nil }
            return String(line[range.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
    }

    func testKubectlRequestsAreAuditedAndEventsExpire() throws {
        let probe = try TestCluster(address: "127.0.0.61", controllers: nil)
        let policyFile = probe.directory.appendingPathComponent("audit-policy.yaml").path
        try Self.policy.write(toFile: policyFile, atomically: true, encoding: .utf8)
        probe.stop()
        let logPath = probe.directory.appendingPathComponent("k8s/apiserver.log").path
        let cluster = try TestCluster(
            address: "127.0.0.61",
            extraFlags: [
                "--audit-log-path=\(logPath)", "--audit-policy-file=\(policyFile)", "--audit-log-maxage=30",
                "--audit-log-maxbackup=3", "--audit-log-maxsize=100", "--event-ttl=2s",
            ], directory: probe.directory, controllers: nil)
        // A bare server: a controller-manager's own requests (its watches never complete) would fill the log.

        expectSuccess(try cluster.kubectl("create namespace audited"))
        let create = try cluster.kubectl([
            "-v=8", "create", "configmap", "settings", "-n", "audited", "--from-literal=k=v",
        ])
        expectSuccess(create)
        let createID = try XCTUnwrap(auditIDs(create).last)
        let created = try events(logPath, auditID: createID, count: 2)
        XCTAssertEqual(created.map { $0["stage"] }, ["RequestReceived", "ResponseComplete"])
        // Authorization's verdict is on the completed event (the default mode, AlwaysAllow, gives no reason).
        XCTAssertEqual(created.last?["annotations"]?["authorization.k8s.io/decision"], "allow")
        for event in created {
            XCTAssertEqual(event["kind"], "Event")
            XCTAssertEqual(event["apiVersion"], "audit.k8s.io/v1")
            XCTAssertEqual(event["level"], "RequestResponse")
            XCTAssertEqual(event["verb"], "create")
            XCTAssertEqual(event["user"]?["username"], "admin")
            XCTAssertEqual(event["user"]?["groups"], ["system:masters", "system:authenticated"])
            XCTAssertEqual(event["sourceIPs"], ["127.0.0.1"], "kubectl connects from 127.0.0.1")
            XCTAssertTrue(event["userAgent"]?.stringValue?.hasPrefix("kubectl/") ?? false)
            XCTAssertEqual(event["requestURI"]?.stringValue?.hasPrefix("/api/v1/namespaces/audited/configmaps"), true)
            XCTAssertEqual(event["objectRef"]?["resource"], "configmaps")
            XCTAssertEqual(event["objectRef"]?["namespace"], "audited")
            XCTAssertEqual(event["objectRef"]?["apiVersion"], "v1")
            XCTAssertNotNil(event["requestReceivedTimestamp"]?.stringValue.flatMap(Timestamp.parse))
        }
        XCTAssertNil(created[0]["responseStatus"])
        XCTAssertEqual(created[1]["objectRef"]?["name"], "settings")
        XCTAssertEqual(created[1]["responseStatus"]?["code"], 201)
        XCTAssertEqual(created[1]["requestObject"]?["data"], ["k": "v"])
        XCTAssertEqual(created[1]["responseObject"]?["metadata"]?["name"], "settings")
        let stamp = try XCTUnwrap(created[1]["stageTimestamp"]?.stringValue)
        XCTAssertNotNil(stamp.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$"#, options: .regularExpression))

        let missing = try cluster.kubectl(["-v=8", "get", "configmap", "absent", "-n", "audited"])
        XCTAssertNotEqual(missing.status, 0)
        // kubectl also reads discovery and, after a NotFound, the namespace: pick the configmap's request.
        let missingEvents =
            try auditIDs(missing).map { try events(logPath, auditID: $0, count: 2) }
            .first { $0.last?["objectRef"]?["resource"] == "configmaps" } ?? []
        XCTAssertEqual(missingEvents.last?["verb"], "get")
        XCTAssertEqual(missingEvents.last?["objectRef"]?["name"], "absent")
        XCTAssertEqual(
            missingEvents.last?["responseStatus"],
            [
                "metadata": [:], "status": "Failure", "message": "configmaps \"absent\" not found",
                "reason": "NotFound", "details": ["name": "absent", "kind": "configmaps"], "code": 404,
            ])

        // Other resources are at Metadata level: no bodies.
        let list = try cluster.kubectl(["-v=8", "get", "namespaces"])
        expectSuccess(list)
        let listEvents = try events(logPath, auditID: try XCTUnwrap(auditIDs(list).last), count: 2)
        XCTAssertEqual(listEvents.last?["level"], "Metadata")
        XCTAssertEqual(listEvents.last?["verb"], "list")
        XCTAssertNil(listEvents.last?["responseObject"])

        // Every request in the log has its RequestReceived and ResponseComplete, and probes are not logged.
        _ = try TestCluster.run(
            "/usr/bin/curl", ["-sk", "https://127.0.0.61:\(cluster.port)/healthz", "-o", "/dev/null"])
        Thread.sleep(forTimeInterval: 0.3)
        var stages: [String: [String]] = [:]
        for event in readEvents(logPath) {
            stages[event["auditID"]?.stringValue ?? "", default: []].append(event["stage"]?.stringValue ?? "")
            XCTAssertFalse(event["requestURI"]?.stringValue?.hasPrefix("/healthz") ?? true)
        }
        XCTAssertGreaterThan(stages.count, 4)
        for (auditID, seen) in stages {
            XCTAssertEqual(seen, ["RequestReceived", "ResponseComplete"], auditID)
        }

        // --event-ttl=2s: an event is gone a little after two seconds.
        expectSuccess(
            try cluster.kubectl(
                ["create", "-f", "-"],
                input: """
                    apiVersion: v1
                    kind: Event
                    metadata: {name: short-lived, namespace: audited}
                    involvedObject: {kind: ConfigMap, name: settings, namespace: audited}
                    reason: Tested
                    message: expires soon
                    type: Normal
                    """))
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl("get events -n audited -o name")), "event/short-lived\n")
        let deadline = Date().addingTimeInterval(8)
        var remaining = "event/short-lived\n"
        while !remaining.isEmpty, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.25)
            remaining = expectSuccess(try cluster.kubectl("get events -n audited -o name"))
        }
        XCTAssertEqual(remaining, "", "the event expired")
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl("get configmap settings -n audited -o name")), "configmap/settings\n")
    }

    func testWatchIsAuditedWhenItStartsAndWhenItEnds() throws {
        let probe = try TestCluster(address: "127.0.0.62", controllers: nil)
        probe.stop()
        let logPath = probe.directory.appendingPathComponent("audit.log").path
        let cluster = try TestCluster(
            address: "127.0.0.62", extraFlags: ["--audit-log-path=\(logPath)"], directory: probe.directory,
            controllers: nil)
        // kubectl get -w with a request timeout ends the watch from the client side.
        let watch = try cluster.kubectl(["-v=8", "get", "configmaps", "-w", "--request-timeout=2s"])
        let watchID = try XCTUnwrap(auditIDs(watch).last, watch.stderr)
        let watchEvents = try events(logPath, auditID: watchID, count: 3)
        XCTAssertEqual(watchEvents.map { $0["stage"] }, ["RequestReceived", "ResponseStarted", "ResponseComplete"])
        XCTAssertEqual(watchEvents.map { $0["verb"] }, ["watch", "watch", "watch"])
        XCTAssertEqual(watchEvents.last?["level"], "Metadata", "no policy file: Metadata for every request")
        XCTAssertEqual(watchEvents.last?["responseStatus"]?["code"], 200)
    }

    func testBadAuditAndLimitFlagsFailStartup() throws {
        let binary = TestCluster.productsDirectory.appendingPathComponent("kube-apiserver").path
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "audit-flags-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let emptyPolicy = directory.appendingPathComponent("policy.yaml").path
        try "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n".write(
            toFile: emptyPolicy, atomically: true, encoding: .utf8)
        let base = [
            "--bind-address=127.0.0.63", "--secure-port=0", "--data-dir=\(directory.path)/data",
            "--cert-dir=\(directory.path)/certs", "--audit-log-path=\(directory.path)/audit.log",
        ]
        let cases: [([String], String)] = [
            (["--audit-log-maxage=-1"], "--audit-log-maxage -1 can't be a negative number"),
            (["--audit-log-maxbackup=-2"], "--audit-log-maxbackup -2 can't be a negative number"),
            (["--audit-log-maxsize=ten"], "invalid argument \"ten\" for \"--audit-log-maxsize\" flag"),
            (
                ["--audit-policy-file=\(emptyPolicy)"],
                "loading audit policy file: loaded illegal policy with 0 rules: from file \(emptyPolicy)"
            ),
            (["--max-requests-inflight=-1"], "--max-requests-inflight can not be negative value"),
            (
                ["--request-timeout=soon"],
                "invalid argument \"soon\" for \"--request-timeout\" flag: time: invalid duration \"soon\""
            ),
            (["--event-ttl=1d"], "invalid argument \"1d\" for \"--event-ttl\" flag: time: invalid duration \"1d\""),
        ]
        for (flags, message) in cases {
            let result = try TestCluster.run(binary, base + flags)
            XCTAssertEqual(result.status, 1, flags.joined())
            XCTAssertTrue(result.stderr.contains(message), "\(flags): \(result.stderr)")
        }
    }
}
