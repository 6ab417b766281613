import Foundation
import TestSupport
import XCTest

/// Upstream's lease endpoint reconciler with real API server processes on one etcd: the `kubernetes`
/// Endpoints and EndpointSlice list exactly the live servers, a killed one is dropped when its master lease
/// expires (15 s), and one stopped with SIGTERM takes itself out before it exits.
final class HAEndpointsEndToEndTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(EtcdProcess.isInstalled, "needs /usr/bin/etcd (apt-get install etcd-server)")
    }

    /// `ip:port` for every address the Endpoints list, and the EndpointSlice's addresses, as kubectl shows them.
    func listed(_ server: HAServerProcess) throws -> (endpoints: [String], slice: [String]) {
        let endpoints = try server.kubectl([
            "get", "endpoints", "kubernetes", "-o",
            "jsonpath={.subsets[0].ports[0].port} {.subsets[0].addresses[*].ip}",
        ]).stdout.split(separator: " ").map(String.init)
        let slice = try server.kubectl([
            "get", "endpointslices", "kubernetes", "-o", "jsonpath={.endpoints[*].addresses[0]}",
        ]).stdout.split(separator: " ").map(String.init)
        let port = endpoints.first ?? ""
        return (endpoints.dropFirst().map { "\($0):\(port)" }.sorted(), slice.sorted())
    }

    func testEndpointsListTheLiveServersDropAKilledOneAfterItsLeaseAndAStoppedOneAtOnce() throws {
        let etcd = try EtcdProcess.start()
        let pki = try HAServerProcess.writePKI()
        defer { try? FileManager.default.removeItem(at: pki.directory) }
        let addresses = ["127.0.0.101", "127.0.0.102", "127.0.0.103"]
        // One secure port on every address, as masters behind one load balancer have.
        let port = try HAServerProcess.freePort(on: addresses)
        let flags = ["--etcd-servers=\(etcd.clientURL)", "--secure-port=\(port)"]
        let first = try HAServerProcess(address: addresses[0], pki: pki, flags: flags)
        let second = try HAServerProcess(address: addresses[1], pki: pki, flags: flags)
        let two = addresses.prefix(2)
        XCTAssertTrue(
            try HAServerProcess.eventually(timeout: 10) {
                try listed(first) == (two.map { "\($0):\(port)" }, Array(two))
            }, "\(String(describing: try? listed(first)))")
        XCTAssertFalse(first.log.contains("Serving insecurely"), "no plain port unless asked")

        // A third server joins, then dies without a word: it stays listed until its lease expires.
        let third = try HAServerProcess(address: addresses[2], pki: pki, flags: flags)
        XCTAssertTrue(
            try HAServerProcess.eventually(timeout: 10) { try listed(second).slice == addresses },
            "\(String(describing: try? listed(second)))")
        third.send(SIGKILL)
        XCTAssertEqual(third.waitForExit(), 128 + SIGKILL)
        let killed = Date()
        XCTAssertEqual(try listed(first).slice, addresses, "a killed server is listed until its lease expires")
        XCTAssertTrue(
            try HAServerProcess.eventually(timeout: 25) { try listed(first).slice == Array(two) },
            "\(String(describing: try? listed(first)))")
        let dropped = Date().timeIntervalSince(killed)
        XCTAssertGreaterThan(dropped, 4, "dropped by the lease's expiry, not before")
        XCTAssertLessThan(dropped, 19, "dropped within the 15 s TTL (and etcd's expiry check)")
        XCTAssertEqual(try listed(first).endpoints, two.map { "\($0):\(port)" })

        // SIGTERM: the server removes itself before it exits, and exits 0.
        second.send(SIGTERM)
        XCTAssertEqual(second.waitForExit(), 0, second.log)
        XCTAssertEqual(try listed(first).endpoints, ["\(addresses[0]):\(port)"])
        XCTAssertEqual(try listed(first).slice, [addresses[0]])
        XCTAssertTrue(second.log.contains("Removed 127.0.0.102 from the kubernetes service endpoints"))
    }
}
