import TestSupport
import Foundation
import XCTest

/// Data and allocations survive a kill -9 of the API server, and bootstrap is idempotent.
final class RestartTests: XCTestCase {
    func testKill9KeepsObjectsAndAllocatedIPs() throws {
        let first = try TestCluster(address: "127.0.0.23")
        expectSuccess(
            try first.kubectl(
                ["create", "-f", "-"],
                input:
                    "apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: default}\nspec: {ports: [{port: 80}]}\n"
            ))
        let ip = expectSuccess(try first.kubectl("get service a -o jsonpath={.spec.clusterIP}"))
        first.stop(kill: true)

        let second = try TestCluster(address: "127.0.0.23", directory: first.directory)
        XCTAssertEqual(expectSuccess(try second.kubectl("get service a -o jsonpath={.spec.clusterIP}")), ip)
        XCTAssertEqual(
            expectSuccess(try second.kubectl("get service kubernetes -o jsonpath={.spec.clusterIP}")), "10.254.0.1")
        expectFailure(
            try second.kubectl(
                ["create", "-f", "-"],
                input:
                    "apiVersion: v1\nkind: Service\nmetadata: {name: b, namespace: default}\nspec: {clusterIP: \(ip), ports: [{port: 80}]}\n"
            ),
            "The Service \"b\" is invalid: spec.clusterIPs: Invalid value: \"\(ip)\": failed to allocate IP \(ip): provided IP is already allocated"
        )
        let namespaces = expectSuccess(try second.kubectl("get namespaces -o name"))
        XCTAssertEqual(namespaces.split(separator: "\n").count, 4, namespaces)
    }
}
