import APIMachinery
import Foundation
import Schemas
import XCTest

/// Runs the real kubectl 1.32 against our OpenAPI v3 documents, served with minimal legacy
/// discovery by a stdlib Python HTTP server on loopback, and checks `kubectl explain`.
final class KubectlExplainTests: XCTestCase {
    static let kubectl = "/usr/bin/kubectl"
    static let python = "/usr/bin/python3"

    func testKubectlExplainReadsOurV3Documents() throws {
        let fileManager = FileManager.default
        guard fileManager.isExecutableFile(atPath: Self.kubectl), fileManager.isExecutableFile(atPath: Self.python)
        else {
            throw XCTSkip("needs \(Self.kubectl) and \(Self.python)")
        }
        let directory = fileManager.temporaryDirectory.appendingPathComponent("schemas-explain-\(UUID().uuidString)")
        try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? fileManager.removeItem(at: directory) }

        let routesFile = directory.appendingPathComponent("routes.json")
        try Data(Self.routes(for: ServedResources.all, documents: ServedResources.documents).encoded()).write(
            to: routesFile)
        let server = try Self.startServer(routes: routesFile)
        defer {
            server.process.terminate()
            server.process.waitUntilExit()
        }

        let containers = try Self.explain("pods.spec.containers", port: server.port, home: directory)
        XCTAssertTrue(containers.contains("KIND:       Pod"), containers)
        XCTAssertTrue(containers.contains("VERSION:    v1"), containers)
        XCTAssertTrue(containers.contains("FIELD: containers <[]Container>"), containers)
        XCTAssertTrue(containers.contains("name\t<string> -required-"), containers)
        XCTAssertTrue(containers.contains("ports\t<[]ContainerPort>"), containers)

        let strategy = try Self.explain("deployments.spec.strategy", port: server.port, home: directory)
        XCTAssertTrue(strategy.contains("GROUP:      apps"), strategy)
        XCTAssertTrue(strategy.contains("KIND:       Deployment"), strategy)
        XCTAssertTrue(strategy.contains("FIELD: strategy <DeploymentStrategy>"), strategy)
        XCTAssertTrue(strategy.contains("rollingUpdate\t<RollingUpdateDeployment>"), strategy)

        let configMaps = try Self.explain("configmaps", port: server.port, home: directory)
        XCTAssertTrue(configMaps.contains("KIND:       ConfigMap"), configMaps)
        XCTAssertTrue(configMaps.contains("Non-secret configuration"), configMaps)
        XCTAssertTrue(configMaps.contains("data\t<map[string]string>"), configMaps)
    }

    /// Legacy discovery plus the OpenAPI v3 documents, keyed by request path.
    static func routes(for resources: [OpenAPIResource], documents: OpenAPIDocuments) -> JSON {
        var routes: [(key: String, value: JSON)] = []
        let groupVersions = OpenAPIBuilder(resources: resources).groupVersions
        routes.append(("/api", ["kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []]))
        let groups: [JSON] = groupVersions.filter { !$0.group.isEmpty }.map { groupVersion in
            let version: JSON = [
                "groupVersion": .string(groupVersion.apiVersion), "version": .string(groupVersion.version),
            ]
            return ["name": .string(groupVersion.group), "versions": [version], "preferredVersion": version]
        }
        routes.append(("/apis", ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groups)]))
        for groupVersion in groupVersions {
            var list: [JSON] = []
            for resource in resources where resource.groupVersion == groupVersion {
                list.append(
                    [
                        "name": .string(resource.resource), "singularName": .string(resource.kind.lowercased()),
                        "namespaced": .bool(resource.namespaced), "kind": .string(resource.kind),
                        "verbs": .array(resource.verbs.map(JSON.string)),
                    ])
            }
            routes.append(
                (
                    "/" + groupVersion.openAPIV3Path,
                    [
                        "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(groupVersion.apiVersion),
                        "resources": .array(list),
                    ]
                ))
        }
        routes.append(("/openapi/v3", .string(String(decoding: documents.v3Root, as: UTF8.self))))
        for (path, document) in documents.v3 {
            routes.append(("/openapi/v3/" + path, .string(String(decoding: document.bytes, as: UTF8.self))))
        }
        // The server writes bodies verbatim; discovery documents are encoded here.
        return .object(
            JSONObject(
                routes.map { route in
                    if case .string = route.value { return route }
                    return (route.key, .string(route.value.jsonString))
                }))
    }

    static func startServer(routes: URL) throws -> (process: Process, port: Int) {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/serve_routes.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script.path, routes.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let port = Int(text) else {
            process.terminate()
            throw XCTSkip("fixture server did not start: \(text)")
        }
        return (process, port)
    }

    static func explain(_ field: String, port: Int, home: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: kubectl)
        process.arguments = [
            "--server", "http://127.0.0.1:\(port)", "--cache-dir", home.appendingPathComponent("cache").path,
            "explain", field,
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = home.path
        environment["KUBECONFIG"] = home.appendingPathComponent("no-kubeconfig").path
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, "kubectl explain \(field): \(text)")
        return text
    }
}
