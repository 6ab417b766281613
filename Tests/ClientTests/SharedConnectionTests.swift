import APIMachinery
import Foundation
import TestSupport
import XCTest

@testable import Client

/// Clients with the same server and TLS identity share connections, as client-go's transport cache makes them,
/// while every request keeps its own client's credentials.
final class SharedConnectionTests: XCTestCase {
    private func tokenConfiguration() async throws -> ClientConfiguration {
        let endpoint = try await LocalAPIServer.shared.start()
        var configuration = try ClientConfiguration(server: endpoint.server)
        configuration.trustRootsPEM = endpoint.caPEM
        configuration.bearerToken = endpoint.token
        configuration.qps = -1
        return configuration
    }

    func testSameTLSSettingsShareOneConnectionAndEachRequestCarriesItsOwnToken() async throws {
        let configuration = try await tokenConfiguration()
        let first = try RESTClient(configuration: configuration)
        var strangerConfiguration = configuration
        strangerConfiguration.bearerToken = nil
        strangerConfiguration.dynamicToken = DynamicToken("not-a-token")
        strangerConfiguration.userAgent += "/stranger"
        let stranger = try RESTClient(configuration: strangerConfiguration, sharingConnectionsWith: [first])
        XCTAssertTrue(first.pool === stranger.pool)

        // Interleaved on one connection: the first client's requests pass, the stranger's are refused.
        let statuses = try await withThrowingTaskGroup(of: (Bool, Int).self) { group in
            for index in 0..<20 {
                let client = index.isMultiple(of: 2) ? first : stranger
                group.addTask { (client === first, try await client.send(Request(method: .get, path: "/api")).status) }
            }
            return try await group.reduce(into: [Bool: Set<Int>]()) { $0[$1.0, default: []].insert($1.1) }
        }
        XCTAssertEqual(statuses[true], [200])
        XCTAssertEqual(statuses[false], [401])
        XCTAssertEqual(first.connectionsOpened, 1)
        XCTAssertEqual(first.pool.openConnections().count, 1)

        // One client shutting down leaves the shared connection to the other.
        await stranger.shutdown()
        let status = try await first.send(Request(method: .get, path: "/api")).status
        XCTAssertEqual(status, 200)
        XCTAssertEqual(first.connectionsOpened, 1)
        await first.shutdown()
        XCTAssertEqual(first.pool.openConnections().count, 0)
    }

    func testADifferentTLSIdentityOrAShutDownPoolGetsItsOwnConnection() async throws {
        let configuration = try await tokenConfiguration()
        let first = try RESTClient(configuration: configuration)
        var other = configuration
        other.tlsServerName = "kubernetes"
        let separate = try RESTClient(configuration: other, sharingConnectionsWith: [first])
        XCTAssertFalse(first.pool === separate.pool)
        await separate.shutdown()

        await first.shutdown()
        let late = try RESTClient(configuration: configuration, sharingConnectionsWith: [first])
        XCTAssertFalse(first.pool === late.pool, "a shut-down pool is never shared again")
        let status = try await late.send(Request(method: .get, path: "/api")).status
        XCTAssertEqual(status, 200)
        await late.shutdown()
    }
}
