import APIMachinery
import NIOConcurrencyHelpers
import Storage
import XCTest

@testable import APIServer

/// A name made from `generateName` that is taken is generated again, up to eight attempts (upstream's
/// RetryGenerateName); the suffixes are scripted so the collisions are certain.
final class GenerateNameRetryTests: XCTestCase {
    private let admin = UserInfo(name: "admin", uid: "u-1", groups: ["system:masters", "system:authenticated"])

    private func post(_ server: APIServer, _ body: JSON) async throws -> (code: UInt, object: JSON) {
        let response = await server.respond(
            to: HTTPRequest(
                method: .POST, uri: "/api/v1/namespaces/default/configmaps",
                headers: ["Content-Type": "application/json"], body: body.encoded(), user: admin,
                remoteAddress: "127.0.0.9"))
        guard case .bytes(let bytes) = response.body else { throw XCTSkip("no body") }
        return (response.status.code, try JSON.parse(bytes))
    }

    /// Runs `body` with generated suffixes taken from `suffixes` in order (the last one repeats).
    private func withSuffixes<T>(_ suffixes: [String], _ body: () async throws -> T) async rethrows -> T {
        let next = NIOLockedValueBox(0)
        let source: @Sendable () -> String = {
            next.withLockedValue { index in
                defer { index += 1 }
                return suffixes[min(index, suffixes.count - 1)]
            }
        }
        return try await RegistryStore.$generatedSuffix.withValue(source) { try await body() }
    }

    func testATakenGeneratedNameIsGeneratedAgain() async throws {
        let server = APIServer(storage: MemoryStore(), configuration: APIServer.Configuration())
        let taken: JSON = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "web-bbbbb"]]
        let first = try await post(server, taken)
        XCTAssertEqual(first.code, 201)
        let generated: JSON = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["generateName": "web-"]]
        let created = try await withSuffixes(["bbbbb", "bbbbb", "ccccc"]) { try await post(server, generated) }
        XCTAssertEqual(created.code, 201)
        XCTAssertEqual(created.object.name, "web-ccccc")
    }

    func testEightCollisionsAreAConflictAndAnExplicitNameIsNeverRetried() async throws {
        let server = APIServer(storage: MemoryStore(), configuration: APIServer.Configuration())
        let taken: JSON = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "web-bbbbb"]]
        _ = try await post(server, taken)
        let generated: JSON = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["generateName": "web-"]]
        let attempts = NIOLockedValueBox(0)
        let refused = try await RegistryStore.$generatedSuffix.withValue({
            attempts.withLockedValue { $0 += 1 }
            return "bbbbb"
        }) { try await post(server, generated) }
        XCTAssertEqual(refused.code, 409)
        XCTAssertEqual(refused.object["reason"], "AlreadyExists")
        XCTAssertEqual(attempts.withLockedValue { $0 }, 8)

        let again = try await post(server, taken)
        XCTAssertEqual(again.code, 409)
        XCTAssertEqual(again.object["message"], #"configmaps "web-bbbbb" already exists"#)
    }
}
