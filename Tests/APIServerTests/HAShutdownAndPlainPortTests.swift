import Foundation
import TestSupport
import XCTest

/// The API server under systemd and on SIGTERM, and the guide era's plain local port: READY=1 then STOPPING=1
/// on a notify socket the test owns, `/readyz` failing through `--shutdown-delay-duration` while requests are
/// still served, watches ended cleanly, exit 0; kube-scheduler and kube-controller-manager say STOPPING=1 too.
final class HAShutdownAndPlainPortTests: XCTestCase {
    /// curl against the plain port: status code and body.
    func plain(_ port: Int, _ method: String, _ path: String, body: String? = nil) throws -> (status: Int, body: String)
    {
        var arguments = ["-s", "-X", method, "-w", "\n%{http_code}", "http://127.0.0.104:\(port)\(path)"]
        if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", body] }
        let output = try TestCluster.run("/usr/bin/curl", arguments)
        let lines = output.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    func testSIGTERMFailsReadinessDrainsWatchesCleanlyAndExitsZero() throws {
        let pki = try HAServerProcess.writePKI()
        defer { try? FileManager.default.removeItem(at: pki.directory) }
        let notify = try NotifySocket(directory: pki.directory)
        let plainPort = try HAServerProcess.freePort(on: ["127.0.0.104"])
        let server = try HAServerProcess(
            address: "127.0.0.104", pki: pki,
            flags: [
                "--insecure-port=\(plainPort)", "--insecure-bind-address=127.0.0.104", "--shutdown-delay-duration=2s",
            ],
            environment: ["NOTIFY_SOCKET": notify.path])
        XCTAssertEqual(notify.receive(), "READY=1")
        XCTAssertTrue(try plain(plainPort, "GET", "/readyz?verbose").body.contains("[+]shutdown ok"))

        // kube-scheduler and kube-controller-manager, through Component's shared main, say STOPPING=1 as well.
        for executable in ["kube-scheduler", "kube-controller-manager"] {
            let componentNotify = try NotifySocket(directory: pki.directory)
            let log = server.directory.appendingPathComponent("\(executable).log")
            let component = try HAServerProcess.launch(
                executable,
                ["--kubeconfig=\(server.kubeconfig)", "--secure-port=0", "--leader-elect=false"]
                    + (executable == "kube-controller-manager" ? ["--controllers=ttl"] : []),
                environment: ["NOTIFY_SOCKET": componentNotify.path], log: log)
            defer { if component.isRunning { kill(component.processIdentifier, SIGKILL) } }
            let componentLog = { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
            XCTAssertEqual(componentNotify.receive(), "READY=1", componentLog())
            kill(component.processIdentifier, SIGTERM)
            XCTAssertEqual(componentNotify.receive(), "STOPPING=1", executable)
            component.waitUntilExit()
            XCTAssertEqual(component.terminationReason, .exit, componentLog())
        }

        // A watch that is open when the server stops.
        let watchOutput = server.directory.appendingPathComponent("watch.json")
        let watch = Process()
        watch.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        watch.arguments = [
            "-sS", "-N", "-o", watchOutput.path,
            "http://127.0.0.104:\(plainPort)/api/v1/namespaces/default/configmaps?watch=true",
        ]
        try watch.run()
        let created = try plain(
            plainPort, "POST", "/api/v1/namespaces/default/configmaps",
            body: #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"before-shutdown"}}"#)
        XCTAssertEqual(created.status, 201, created.body)
        XCTAssertTrue(
            HAServerProcess.eventually(timeout: 10) {
                ((try? String(contentsOf: watchOutput, encoding: .utf8)) ?? "").contains("before-shutdown")
            })

        server.send(SIGTERM)
        let signalled = Date()
        XCTAssertEqual(notify.receive(), "STOPPING=1")
        // Through the shutdown delay the server fails readiness but still answers.
        let ready = try plain(plainPort, "GET", "/readyz")
        XCTAssertEqual(ready.status, 500)
        XCTAssertTrue(ready.body.contains("[-]shutdown failed: reason withheld\n"), ready.body)
        XCTAssertTrue(ready.body.contains("\nreadyz check failed"), ready.body)
        XCTAssertEqual(try plain(plainPort, "GET", "/livez").status, 200)
        XCTAssertEqual(try plain(plainPort, "GET", "/api/v1/namespaces/default/configmaps/before-shutdown").status, 200)

        XCTAssertEqual(server.waitForExit(), 0, server.log)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(signalled), 2, "the listener stays open for the delay")
        watch.waitUntilExit()
        XCTAssertEqual(watch.terminationStatus, 0, "curl saw the watch end cleanly, not a reset")
        let events = (try? String(contentsOf: watchOutput, encoding: .utf8)) ?? ""
        XCTAssertTrue(events.contains(#""type":"ADDED""#) && events.contains("before-shutdown"), events)
        XCTAssertEqual(
            try TestCluster.run("/usr/bin/curl", ["-s", "http://127.0.0.104:\(plainPort)/livez"]).status, 7,
            "connection refused once the server is gone")
        XCTAssertTrue(server.log.contains("[graceful-termination] apiserver is exiting"), server.log)
    }

    func testThePlainPortServesKubectlAsSystemUnsecuredOnLoopbackOnly() throws {
        let pki = try HAServerProcess.writePKI()
        defer { try? FileManager.default.removeItem(at: pki.directory) }
        let plainPort = try HAServerProcess.freePort(on: ["127.0.0.104"])
        // The old names of the flags, as the guide's v1.6 unit files write them.
        let server = try HAServerProcess(
            address: "127.0.0.104", pki: pki,
            flags: [
                "--port=\(plainPort)", "--address=127.0.0.104", "--authorization-mode=RBAC", "--anonymous-auth=false",
            ])
        XCTAssertTrue(server.log.contains("Serving insecurely on 127.0.0.104:\(plainPort)"), server.log)
        XCTAssertTrue(server.log.contains("without authentication or authorization"), server.log)
        let kubectl = { (arguments: [String]) in
            try TestCluster.run(TestCluster.kubectlPath, ["-s", "http://127.0.0.104:\(plainPort)"] + arguments)
        }
        XCTAssertTrue(
            expectSuccess(try kubectl(["get", "namespaces", "-o", "name"])).contains("namespace/kube-system"))
        expectSuccess(try kubectl(["create", "configmap", "plain", "--from-literal=via=insecure-port"]))
        XCTAssertEqual(
            expectSuccess(try kubectl(["get", "configmap", "plain", "-o", "jsonpath={.data.via}"])), "insecure-port")
        let whoami = expectSuccess(try kubectl(["auth", "whoami", "-o", "jsonpath={.status.userInfo}"]))
        XCTAssertTrue(whoami.contains("system:unsecured") && whoami.contains("system:masters"), whoami)
        // The secure port still wants credentials: anonymous requests are refused there.
        let secure = try TestCluster.run(
            "/usr/bin/curl",
            [
                "-s", "-o", "/dev/null", "-w", "%{http_code}", "-k",
                "https://127.0.0.104:\(server.port)/api/v1/namespaces",
            ])
        XCTAssertEqual(secure.stdout, "401")

        // Any other address is refused at start, before anything listens.
        let refused = try TestCluster.run(
            TestCluster.productsDirectory.appendingPathComponent("kube-apiserver").path,
            [
                "--insecure-port=\(plainPort)", "--insecure-bind-address=0.0.0.0", "--bind-address=127.0.0.104",
                "--secure-port=0", "--data-dir=\(server.directory.path)/refused",
                "--cert-dir=\(server.directory.path)/certs",
            ])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(
            refused.stderr.contains("--insecure-bind-address 0.0.0.0 is not a loopback address"), refused.stderr)
    }
}
