import Foundation
import Logging
import NIOConcurrencyHelpers
import Operations
import XCTest

@testable import Component

/// The secure health and metrics endpoint over real TLS on loopback, fetched with curl, and its flags.
final class ComponentServerTests: XCTestCase {
    private var directory = ""
    private let logLines = NIOLockedValueBox<[String]>([])
    private var logger: Logger {
        let lines = logLines
        return Logger(label: "component-server-tests") { _ in CapturingLogHandler(lines: lines) }
    }

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("component-serving-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func loopback(_ port: Int = ServingConfiguration.anyFreePort) -> ServingConfiguration {
        ServingConfiguration(bindAddress: "127.0.0.1", securePort: port, pairName: "kube-scheduler")
    }

    private func start(
        _ configuration: ServingConfiguration, health: HealthChecks = HealthChecks(),
        readiness: HealthChecks = HealthChecks(), metrics: @escaping @Sendable () -> String = { "" }
    ) async throws -> ComponentServer {
        let started = try await ComponentServer.start(
            configuration, health: health, readiness: readiness, metrics: metrics, logger: logger)
        return try XCTUnwrap(started)
    }

    /// Writes the server's own chain as a CA file, for a certificate that only ever lived in memory.
    private func trust(_ server: ComponentServer) throws -> String {
        let path = directory + "/served.pem"
        try server.tls.certificatePEM.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    // MARK: - Serving

    func testSelfSignedInMemoryCertificateServesHealthOnTheLoggedPort() async throws {
        let server = try await start(loopback())
        let caFile = try trust(server)
        let lines = logLines.withLockedValue { $0 }
        XCTAssertTrue(lines.contains("Generated self-signed cert in-memory"), "\(lines)")
        XCTAssertTrue(lines.contains("Serving securely on 127.0.0.1:\(server.port)"), "\(lines)")
        XCTAssertNotEqual(server.port, 0)

        // curl checks the name too: the generated leaf must carry 127.0.0.1 and localhost.
        let healthz = try await fetch("/healthz", port: server.port, caFile: caFile)
        XCTAssertEqual(healthz, Fetched(status: 200, contentType: "text/plain; charset=utf-8", body: "ok"))
        let local = try await fetch("/livez", port: server.port, caFile: caFile, host: "localhost")
        XCTAssertEqual(local.body, "ok")
        XCTAssertTrue(try String(contentsOfFile: caFile, encoding: .utf8).contains("BEGIN CERTIFICATE"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["served.pem"])
        await server.close()
    }

    func testGivenCertificateFilesAreServedAndVerbosePassingReadyzListsEveryCheck() async throws {
        let authority = try CertificateAuthority.create(commonName: "test-ca")
        let leaf = try authority.issueServing(
            commonName: "kube-scheduler", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
        var configuration = loopback()
        configuration.certFile = directory + "/serving.crt"
        configuration.keyFile = directory + "/serving.key"
        try leaf.write(certificateFile: directory + "/serving.crt", keyFile: directory + "/serving.key")
        try authority.certificatePEM.write(toFile: directory + "/ca.pem", atomically: true, encoding: .utf8)
        let health = HealthChecks()
        health.add("leaderElection") { nil }
        let readiness = HealthChecks()
        readiness.add("sched-handler-sync") { nil }
        let server = try await start(configuration, health: health, readiness: readiness)

        let readyz = try await fetch("/readyz?verbose", port: server.port, caFile: directory + "/ca.pem")
        XCTAssertEqual(readyz.status, 200)
        XCTAssertEqual(readyz.body, "[+]leaderElection ok\n[+]sched-handler-sync ok\nreadyz check passed\n")
        let healthz = try await fetch("/healthz?verbose=1", port: server.port, caFile: directory + "/ca.pem")
        XCTAssertEqual(healthz.body, "[+]leaderElection ok\nhealthz check passed\n")
        XCTAssertFalse(logLines.withLockedValue { $0 }.contains { $0.hasPrefix("Generated self-signed") })
        await server.close()
    }

    func testRotatedCertificateFilesAreServedToNewConnectionsAndABrokenPairIsNot() async throws {
        let oldAuthority = try CertificateAuthority.create(commonName: "old-ca")
        let newAuthority = try CertificateAuthority.create(commonName: "new-ca")
        let (certFile, keyFile) = (directory + "/serving.crt", directory + "/serving.key")
        try oldAuthority.issueServing(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
            .write(certificateFile: certFile, keyFile: keyFile)
        try oldAuthority.certificatePEM.write(toFile: directory + "/old.pem", atomically: true, encoding: .utf8)
        try newAuthority.certificatePEM.write(toFile: directory + "/new.pem", atomically: true, encoding: .utf8)
        var configuration = loopback()
        configuration.certFile = certFile
        configuration.keyFile = keyFile
        let server = try await start(configuration)
        let before = try await fetch("/healthz", port: server.port, caFile: directory + "/old.pem")
        XCTAssertEqual(before.body, "ok")

        let rotated = try newAuthority.issueServing(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
        try rotated.write(certificateFile: certFile, keyFile: keyFile)
        server.tls.reloadIfChanged()
        let after = try await fetch("/healthz", port: server.port, caFile: directory + "/new.pem")
        XCTAssertEqual(after.body, "ok")
        XCTAssertTrue(logLines.withLockedValue { $0 }.contains("Loaded a new cert/key pair (\(certFile), \(keyFile))"))
        do {
            _ = try await fetch("/healthz", port: server.port, caFile: directory + "/old.pem")
            XCTFail("the old certificate is still served")
        } catch let error as CurlError {
            XCTAssertEqual(error.exitCode, 60, "curl: the peer's certificate cannot be verified")
        }

        // A certificate written before its key: the half-rotated pair does not load, the last good one stays.
        try oldAuthority.issueServing(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
            .write(certificateFile: certFile, keyFile: directory + "/unused.key")
        server.tls.reloadIfChanged()
        XCTAssertTrue(
            logLines.withLockedValue { $0 }.contains {
                $0.hasPrefix("Failed to reload the serving certificate, still serving the previous one: ")
            })
        let kept = try await fetch("/healthz", port: server.port, caFile: directory + "/new.pem")
        XCTAssertEqual(kept.body, "ok")
        await server.close()
    }

    func testAFailingCheckIsA500WithUpstreamsTextAndItsReasonOnlyOnItsOwnPath() async throws {
        let health = HealthChecks()
        health.add("ping") { nil }
        health.add("leaderElection") { "the lease was lost 40s ago" }
        let readiness = HealthChecks()
        readiness.add("sched-handler-sync") { "waiting for informers" }
        let server = try await start(loopback(), health: health, readiness: readiness)
        let caFile = try trust(server)

        // Failures are verbose even when ?verbose is absent; the reasons are withheld from the public endpoint.
        let healthz = try await fetch("/healthz", port: server.port, caFile: caFile)
        XCTAssertEqual(healthz.status, 500)
        XCTAssertEqual(healthz.body, "[+]ping ok\n[-]leaderElection failed: reason withheld\nhealthz check failed\n")
        let readyz = try await fetch("/readyz", port: server.port, caFile: caFile)
        XCTAssertEqual(
            readyz.body,
            "[+]ping ok\n[-]leaderElection failed: reason withheld\n[-]sched-handler-sync failed: reason withheld\n"
                + "readyz check failed\n")
        let one = try await fetch("/healthz/leaderElection", port: server.port, caFile: caFile)
        XCTAssertEqual(
            one,
            Fetched(
                status: 500, contentType: "text/plain; charset=utf-8",
                body: "internal server error: the lease was lost 40s ago\n"))
        let passing = try await fetch("/livez/ping", port: server.port, caFile: caFile)
        XCTAssertEqual(passing, Fetched(status: 200, contentType: "text/plain; charset=utf-8", body: "ok"))
        let missing = try await fetch("/healthz/nonexistent", port: server.port, caFile: caFile)
        XCTAssertEqual(
            missing, Fetched(status: 404, contentType: "text/plain; charset=utf-8", body: "404 page not found\n"))
        XCTAssertTrue(
            logLines.withLockedValue { $0 }.contains {
                $0.contains("[-]leaderElection failed: the lease was lost 40s ago")
            })

        let excluded = try await fetch(
            "/healthz?verbose&exclude=leaderElection&exclude=etcd", port: server.port, caFile: caFile)
        XCTAssertEqual(excluded.status, 200)
        XCTAssertEqual(
            excluded.body,
            "[+]ping ok\n[+]leaderElection excluded: ok\n"
                + "warn: some health checks cannot be excluded: no matches for \"etcd\"\nhealthz check passed\n")
        await server.close()
    }

    func testMetricsAreServedAsPrometheusTextAndNoChecksMeansPing() async throws {
        let server = try await start(loopback()) {
            "# HELP scheduler_pending_pods Number of pending pods.\n# TYPE scheduler_pending_pods gauge\nscheduler_pending_pods{queue=\"active\"} 3\n"
        }
        let caFile = try trust(server)
        let metrics = try await fetch("/metrics", port: server.port, caFile: caFile)
        XCTAssertEqual(metrics.status, 200)
        XCTAssertEqual(metrics.contentType, "text/plain; version=0.0.4; charset=utf-8")
        XCTAssertTrue(metrics.body.hasSuffix("scheduler_pending_pods{queue=\"active\"} 3\n"), metrics.body)
        let readyz = try await fetch("/readyz?verbose", port: server.port, caFile: caFile)
        XCTAssertEqual(readyz.body, "[+]ping ok\nreadyz check passed\n")
        await server.close()
    }

    func testCertDirectoryKeepsTheGeneratedPairAcrossRestarts() async throws {
        var configuration = loopback()
        configuration.certDirectory = directory + "/certs"
        let certificateFile = directory + "/certs/kube-scheduler.crt"
        let keyFile = directory + "/certs/kube-scheduler.key"
        let first = try await start(configuration)
        XCTAssertTrue(
            logLines.withLockedValue { $0 }.contains("Generated self-signed cert (\(certificateFile), \(keyFile))"))
        let written = try String(contentsOfFile: certificateFile, encoding: .utf8)
        XCTAssertEqual(written.components(separatedBy: "BEGIN CERTIFICATE").count, 3, "the leaf, then its CA")
        let keyMode = try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? Int
        XCTAssertEqual(keyMode, 0o600)
        let firstAnswer = try await fetch("/healthz", port: first.port, caFile: certificateFile)
        XCTAssertEqual(firstAnswer.body, "ok")
        await first.close()

        logLines.withLockedValue { $0.removeAll() }
        let second = try await start(configuration)
        XCTAssertEqual(try String(contentsOfFile: certificateFile, encoding: .utf8), written)
        XCTAssertFalse(logLines.withLockedValue { $0 }.contains { $0.hasPrefix("Generated self-signed") })
        let secondAnswer = try await fetch("/healthz", port: second.port, caFile: certificateFile)
        XCTAssertEqual(secondAnswer.body, "ok")
        await second.close()
    }

    func testIPv6LoopbackIsLoggedBracketedAndInTheCertificate() async throws {
        var configuration = loopback()
        configuration.bindAddress = "::1"
        let server = try await start(configuration)
        XCTAssertTrue(logLines.withLockedValue { $0 }.contains("Serving securely on [::1]:\(server.port)"))
        let healthz = try await fetch("/healthz", port: server.port, caFile: try trust(server), host: "[::1]")
        XCTAssertEqual(healthz.body, "ok")
        await server.close()
    }

    func testCloseEndsOpenConnectionsAndStopsListening() async throws {
        let server = try await start(loopback())
        let caFile = try trust(server)
        // A keep-alive client that got its answer and stays connected holds a connection task until close ends it.
        let client = try await KeepAliveClient(port: server.port, caFile: caFile)
        let answer = try await client.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", until: "\r\n\r\nok")
        XCTAssertTrue(answer.contains("HTTP/1.1 200 OK"), answer)
        await server.close()
        let status = await client.exitStatus()
        XCTAssertEqual(status, 0, "the client saw the connection closed by the server")
        do {
            _ = try await fetch("/healthz", port: server.port, caFile: caFile)
            XCTFail("the port still answers after close")
        } catch let error as CurlError {
            XCTAssertEqual(error.exitCode, 7, "curl: couldn't connect")
        }
    }

    func testClientsOlderThanTheMinimumTLSVersionAreRefused() async throws {
        var configuration = loopback()
        configuration.minimumTLSVersion = .tls13
        let server = try await start(configuration)
        let caFile = try trust(server)
        let modern = try await fetch("/healthz", port: server.port, caFile: caFile)
        XCTAssertEqual(modern.body, "ok")
        do {
            _ = try await fetch("/healthz", port: server.port, caFile: caFile, curlOptions: ["--tls-max", "1.2"])
            XCTFail("a TLS 1.2 client was served")
        } catch let error as CurlError {
            XCTAssertEqual(error.exitCode, 35, "curl: TLS handshake failed")
        }
        await server.close()
    }

    func testATakenPortIsRefusedNamingTheAddress() async throws {
        let first = try await start(loopback())
        do {
            _ = try await start(loopback(first.port))
            XCTFail("two servers listened on one port")
        } catch let error as ServingError {
            XCTAssertTrue(
                error.message.hasPrefix("failed to create listener: failed to listen on 127.0.0.1:\(first.port): "),
                error.message)
        }
        await first.close()
    }

    func testPortZeroTurnsServingOffAndHalfAPairIsRefused() async throws {
        let off = try await ComponentServer.start(
            loopback(0), health: HealthChecks(), readiness: HealthChecks(), metrics: { "" }, logger: logger)
        XCTAssertNil(off)

        var configuration = loopback()
        configuration.certFile = directory + "/serving.crt"
        do {
            _ = try await start(configuration)
            XCTFail("a certificate without its key started")
        } catch let error as ServingError {
            XCTAssertEqual(error.message, "missing filename for serving cert")
        }
    }
}
