import TestSupport
import Foundation
import XCTest

/// Bad requests get a Status with the right code and lose nothing; Service IPs and NodePorts are unique.
final class BadInputAndServiceTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.22" }

    func writeFile(_ contents: String) throws -> String {
        let path = try cluster.directory.appendingPathComponent("body-\(UUID().uuidString).json").path
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testMalformedAndMismatchedBodiesAreBadRequests() throws {
        let malformed = try writeFile("{\"kind\": \"ConfigMap\", ")
        expectFailure(
            try cluster.kubectl(["create", "--raw", "/api/v1/namespaces/default/configmaps", "-f", malformed]),
            "Error from server (BadRequest): error decoding request body: unexpected end of JSON input")
        let wrongNamespace = try writeFile(
            #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"kube-system"}}"#)
        expectFailure(
            try cluster.kubectl(["create", "--raw", "/api/v1/namespaces/default/configmaps", "-f", wrongNamespace]),
            "Error from server (BadRequest): the namespace of the provided object does not match the namespace sent on the request"
        )
        let wrongKind = try writeFile(#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}}"#)
        expectFailure(
            try cluster.kubectl(["create", "--raw", "/api/v1/namespaces/default/configmaps", "-f", wrongKind]),
            "Error from server (BadRequest): the kind in the data (Secret) does not match the expected kind (ConfigMap)"
        )
        let wrongVersion = try writeFile(#"{"apiVersion":"apps/v1","kind":"ConfigMap","metadata":{"name":"x"}}"#)
        expectFailure(
            try cluster.kubectl(["create", "--raw", "/api/v1/namespaces/default/configmaps", "-f", wrongVersion]),
            "Error from server (BadRequest): the API version in the data (apps/v1) does not match the expected API version (v1)"
        )
        // Nothing was stored by any of them (kube-root-ca.crt is in every namespace).
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl("get configmaps -n default -o name")), "configmap/kube-root-ca.crt\n")
    }

    func testUnknownResourcesMethodsAndSizes() throws {
        expectFailure(
            try cluster.kubectl(["get", "--raw", "/api/v1/namespaces/default/widgets"]),
            "Error from server (NotFound): the server could not find the requested resource")
        expectFailure(
            try cluster.kubectl(["delete", "--raw", "/version"]),
            "Error from server (MethodNotAllowed): the server does not allow this method on the requested resource")
        let big = try writeFile(
            #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"a":""#
                + String(repeating: "x", count: 3 * 1024 * 1024 + 10) + "\"}}")
        expectFailure(
            try cluster.kubectl(["create", "--raw", "/api/v1/namespaces/default/configmaps", "-f", big]),
            "Error from server (RequestEntityTooLarge): the request is too large: limit is 3145728 bytes")
        let patch = try cluster.kubectl([
            "patch", "configmap", "none", "-n", "default", "--type=strategic", "-p", "{}",
        ])
        XCTAssertNotEqual(patch.status, 0)
    }

    func testHealthVersionAndMetrics() throws {
        XCTAssertEqual(expectSuccess(try cluster.kubectl(["get", "--raw", "/readyz"])), "ok")
        let verbose = expectSuccess(try cluster.kubectl(["get", "--raw", "/livez?verbose"]))
        XCTAssertTrue(verbose.contains("[+]ping ok") && verbose.contains("livez check passed"), verbose)
        let version = expectSuccess(try cluster.kubectl(["version", "-o", "json"]))
        XCTAssertTrue(version.contains("\"gitVersion\": \"v1.32.0-kubeswift\""), version)
        expectSuccess(try cluster.kubectl("get namespaces"))
        let metrics = expectSuccess(try cluster.kubectl(["get", "--raw", "/metrics"]))
        XCTAssertTrue(
            metrics.contains(#"apiserver_request_total{verb="list",resource="namespaces",code="200"}"#), metrics)
        XCTAssertTrue(metrics.contains("apiserver_request_duration_seconds_bucket"), metrics)
    }

    func testServiceClusterIPsAreUniqueUnderConcurrencyAndReleased() throws {
        let cluster = try cluster
        expectSuccess(
            try cluster.kubectl(
                ["create", "-f", "-"], input: "apiVersion: v1\nkind: Namespace\nmetadata: {name: svc}\n"))
        let count = 12
        DispatchQueue.concurrentPerform(iterations: count) { index in
            let manifest =
                "apiVersion: v1\nkind: Service\nmetadata: {name: s\(index), namespace: svc}\nspec: {type: NodePort, ports: [{port: 80}]}\n"
            _ = try? cluster.kubectl(["create", "-f", "-"], input: manifest)
        }
        let ips = expectSuccess(
            try cluster.kubectl(["get", "services", "-n", "svc", "-o", "jsonpath={.items[*].spec.clusterIP}"])
        )
        .split(separator: " ")
        XCTAssertEqual(ips.count, count)
        XCTAssertEqual(Set(ips).count, count, "duplicate cluster IPs: \(ips)")
        XCTAssertTrue(ips.allSatisfy { $0.hasPrefix("10.254.") && $0 != "10.254.0.1" }, "\(ips)")
        let ports = expectSuccess(
            try cluster.kubectl(["get", "services", "-n", "svc", "-o", "jsonpath={.items[*].spec.ports[0].nodePort}"])
        )
        .split(separator: " ")
        XCTAssertEqual(Set(ports).count, count, "duplicate node ports: \(ports)")

        let taken = String(ips[0])
        expectFailure(
            try cluster.kubectl(
                ["create", "-f", "-"],
                input:
                    "apiVersion: v1\nkind: Service\nmetadata: {name: clash, namespace: svc}\nspec: {clusterIP: \(taken), ports: [{port: 80}]}\n"
            ),
            "The Service \"clash\" is invalid: spec.clusterIPs: Invalid value: \"\(taken)\": failed to allocate IP \(taken): provided IP is already allocated"
        )
        expectFailure(
            try cluster.kubectl(
                ["create", "-f", "-"],
                input:
                    "apiVersion: v1\nkind: Service\nmetadata: {name: outside, namespace: svc}\nspec: {clusterIP: 10.0.0.5, ports: [{port: 80}]}\n"
            ),
            "The Service \"outside\" is invalid: spec.clusterIPs: Invalid value: \"10.0.0.5\": failed to allocate IP 10.0.0.5: the provided IP (10.0.0.5) is not in the valid range. The range of valid IPs is 10.254.0.0/16"
        )
        let owner = expectSuccess(
            try cluster.kubectl(["get", "services", "-n", "svc", "-o", "jsonpath={.items[0].metadata.name}"]))
        expectSuccess(try cluster.kubectl(["delete", "service", owner, "-n", "svc"]))
        expectSuccess(
            try cluster.kubectl(
                ["create", "-f", "-"],
                input:
                    "apiVersion: v1\nkind: Service\nmetadata: {name: reuse, namespace: svc}\nspec: {clusterIP: \(taken), ports: [{port: 80}]}\n"
            ))
        expectSuccess(
            try cluster.kubectl(
                ["create", "-f", "-"],
                input:
                    "apiVersion: v1\nkind: Service\nmetadata: {name: headless, namespace: svc}\nspec: {clusterIP: None, selector: {app: x}, ports: [{port: 80}]}\n"
            ))
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl("get service headless -n svc -o jsonpath={.spec.clusterIP}")), "None")
    }
}
