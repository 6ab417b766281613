import APIMachinery
import Foundation
import NIOHTTP1
import Storage
import XCTest

@testable import APIServer

/// DefaultTolerationSeconds, on by default as upstream's: new pods tolerate a failed node for five minutes.
final class DefaultTolerationSecondsTests: XCTestCase {
    func testNewPodsTolerateNotReadyAndUnreachableForFiveMinutesUnlessTheySaySo() async throws {
        var configuration = APIServer.Configuration()
        configuration.admission = AdmissionChain(plugins: [DefaultTolerationSeconds()])
        let server = APIServer(storage: MemoryStore(), configuration: configuration)
        try await server.bootstrap(advertiseAddress: "127.0.0.1", securePort: 6443)
        let admin = UserInfo(name: "admin", uid: "u-1", groups: ["system:masters", "system:authenticated"])
        let account: JSON = ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "default"]]
        func create(_ name: String, tolerations: JSON) async throws -> JSON {
            let pod: JSON = [
                "apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name)],
                "spec": [
                    "serviceAccountName": "default", "automountServiceAccountToken": false,
                    "containers": [["name": "c", "image": "nginx"]], "tolerations": tolerations,
                ],
            ]
            _ = await server.respond(
                to: HTTPRequest(
                    method: .POST, uri: "/api/v1/namespaces/default/serviceaccounts",
                    headers: ["Content-Type": "application/json"],
                    body: account.encoded(), user: admin, remoteAddress: "127.0.0.9"))
            let response = await server.respond(
                to: HTTPRequest(
                    method: .POST, uri: "/api/v1/namespaces/default/pods",
                    headers: ["Content-Type": "application/json"],
                    body: pod.encoded(), user: admin, remoteAddress: "127.0.0.9"))
            guard case .bytes(let bytes) = response.body else { throw APIError.badRequest("no body") }
            return try JSON.parse(bytes)
        }

        let plain = try await create("plain", tolerations: [])
        XCTAssertEqual(
            plain["spec"]?["tolerations"],
            [
                [
                    "key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
                    "tolerationSeconds": 300,
                ],
                [
                    "key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
                    "tolerationSeconds": 300,
                ],
            ], plain.jsonString)

        let own: JSON = [
            [
                "key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
                "tolerationSeconds": 10,
            ]
        ]
        let custom = try await create("custom", tolerations: own)
        let keys = custom["spec"]?["tolerations"]?.arrayValue?.map { $0["key"]?.stringValue ?? "" }
        XCTAssertEqual(keys, ["node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready"])
        XCTAssertEqual(
            custom["spec"]?["tolerations"]?.arrayValue?.first?["tolerationSeconds"], 10, "the pod's own word stands")

        let everything = try await create("everything", tolerations: [["operator": "Exists"]])
        XCTAssertEqual(everything["spec"]?["tolerations"]?.arrayValue?.count, 1, "tolerating all taints covers both")
    }
}
