import Foundation
import TestSupport
import XCTest

@testable import kubeswift

/// `kubeswift bench watch` for real, briefly: its own kube-apiserver, a few watchers for a second; every
/// acknowledged create must reach every watcher exactly once.
final class BenchWatchRunTests: XCTestCase {
    private func run(_ arguments: [String], address: String, etcd: Bool) async throws -> BenchWatchReport {
        let apiServer = TestCluster.productsDirectory.appendingPathComponent("kube-apiserver").path
        guard FileManager.default.isExecutableFile(atPath: apiServer) else {
            throw XCTSkip("kube-apiserver is not built at \(apiServer)")
        }
        let bench = try BenchWatch.parse(arguments + ["--address", address])
        let server = try await BenchAPIServer.start(
            name: "watch-test", apiServerPath: apiServer, address: address, etcd: etcd)
        do {
            let report = try await bench.measure(
                try server.clientConfiguration(), server: server.server, storage: server.storage,
                apiServerPID: server.apiServer.pid)
            await server.stop()
            return report
        } catch {
            await server.stop()
            throw error
        }
    }

    private func assertEveryCreateReachedEveryWatcher(_ report: BenchWatchReport, watchers: Int, creates: Int) {
        XCTAssertEqual(report.failedCreates, 0, report.firstCreateError ?? "")
        XCTAssertEqual(report.expectedDeliveries, watchers * creates)
        XCTAssertEqual(report.deliveries, watchers * creates)
        XCTAssertEqual(report.missedEvents, 0)
        XCTAssertEqual(report.duplicateEvents, 0)
        XCTAssertEqual(report.unexpectedEvents, 0)
        XCTAssertEqual(report.endedWatches, 0, report.firstWatchEnd ?? "")
        XCTAssertGreaterThan(report.latencyMilliseconds.max, 0)
        XCTAssertNotNil(report.apiServerResidentMiB)
    }

    func testJSONWatchersOfANamespaceOnSQLiteMissNothing() async throws {
        let report = try await run(
            ["--watchers", "4", "--connections", "2", "--rate", "60", "--seconds", "1"], address: "127.0.0.187",
            etcd: false)
        XCTAssertEqual(report.storage, "SQLite")
        assertEveryCreateReachedEveryWatcher(report, watchers: 4, creates: 60)
    }

    func testProtobufWatchersOfAllNamespacesOnEtcdMissNothing() async throws {
        guard EtcdProcess.isInstalled else { throw XCTSkip("etcd is not installed") }
        let report = try await run(
            ["--watchers", "3", "--rate", "50", "--seconds", "1", "--format", "protobuf", "--all-namespaces"],
            address: "127.0.0.188", etcd: true)
        XCTAssertEqual(report.storage, "etcd")
        XCTAssertEqual(report.scope, "cluster")
        assertEveryCreateReachedEveryWatcher(report, watchers: 3, creates: 50)
    }
}
