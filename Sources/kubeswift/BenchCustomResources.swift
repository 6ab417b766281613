import APIMachinery
import ArgumentParser
import Client
import Foundation
import Operations

/// `kubeswift bench crd`: what a custom resource with a schema costs against a ConfigMap of the same JSON
/// size. Starts its own kube-apiserver (on SQLite, or on a local etcd member with `--etcd`), defines a
/// resource whose schema has typed fields, defaults and a CEL rule, then measures creates and gets of both
/// kinds in one run the same way, and the time from creating a definition to the first create of its kind.
struct BenchCustomResources: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crd",
        abstract:
            "Compare creates and gets of a custom resource with a ConfigMap of the same size; time CRD to first create."
    )

    @Option(help: "Objects of each kind created (and GETs sent).")
    var objects: Int = 2000

    @Option(help: "Requests kept in flight.")
    var concurrency: Int = 16

    @Option(help: "Definitions created one after another to time definition-to-first-create.")
    var definitions: Int = 10

    @Option(help: "Loopback address of the bench's kube-apiserver (and etcd member).")
    var address: String = "127.0.0.156"

    @Flag(help: "Store in a local etcd member (/usr/bin/etcd) instead of SQLite.")
    var etcd = false

    @Option(help: "kube-apiserver binary (default: beside kubeswift).")
    var apiserver: String?

    func validate() throws {
        guard objects > 0, concurrency > 0, definitions > 0 else {
            throw ValidationError("--objects, --concurrency and --definitions must be positive")
        }
        guard address.hasPrefix("127.") else { throw ValidationError("--address must be a 127.0.0.0/8 address") }
    }

    func run() async throws {
        let server = try await BenchAPIServer.start(
            name: "crd", apiServerPath: try BenchScheduler.binary(apiserver, named: "kube-apiserver"),
            address: address, etcd: etcd)
        do {
            try await measure(server)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    private func measure(_ server: BenchAPIServer) async throws {
        let client = server.client
        let storage = server.storage
        let namespace = "bench"
        _ = try await client.postJSON(
            path: ResourcePath.path(resource: "namespaces"),
            ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]])
        _ = try await client.postJSON(
            path: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            BenchCustomResourceObjects.definition(group: BenchCustomResourceObjects.group))
        let resources = "/apis/\(BenchCustomResourceObjects.group)/v1/namespaces/\(namespace)/benchwidgets"
        try await server.waitForStatus(resources)

        let run = BenchObjects.runID()
        let widgets = (0..<objects).map {
            BenchCustomResourceObjects.widget(name: "bench-\(run)-\($0)", namespace: namespace, run: run)
        }
        let bodyBytes = widgets.first?.count ?? 0
        // The ConfigMap's value is padded so its JSON body is exactly as long as the custom resource's.
        let emptyMap = BenchObjects.configMap(
            name: "bench-\(run)-0", namespace: namespace, run: run, set: "crd", valueBytes: 0)
        let maps = (0..<objects).map {
            BenchObjects.configMap(
                name: "bench-\(run)-\($0)", namespace: namespace, run: run, set: "crd",
                valueBytes: bodyBytes - emptyMap.count)
        }
        let mapPath = ResourcePath.path(namespace: namespace, resource: "configmaps")
        print("KubeSwift custom resource bench: one kube-apiserver on \(storage), run \(run), \(objects) objects")
        print("of each kind, \(bodyBytes)-byte JSON bodies (both kinds alike), \(concurrency) requests in flight")
        print("")
        try await warmUp(client, mapPath: mapPath, resources: resources, namespace: namespace, run: run)
        var reporter = BenchReporter(json: false)
        reporter.header()
        let mapCreates = await LoadRunner.run("create configmap", count: objects, concurrency: concurrency) { index in
            _ = try await client.post(path: mapPath, body: maps[index])
        }
        reporter.record(mapCreates)
        let widgetCreates = await LoadRunner.run("create custom resource", count: objects, concurrency: concurrency) {
            index in
            _ = try await client.post(path: resources, body: widgets[index])
        }
        reporter.record(widgetCreates)
        let mapGets = await LoadRunner.run("get configmap", count: objects, concurrency: concurrency) { index in
            _ = try await client.get(path: "\(mapPath)/bench-\(run)-\(index)")
        }
        reporter.record(mapGets)
        let widgetGets = await LoadRunner.run("get custom resource", count: objects, concurrency: concurrency) {
            index in
            _ = try await client.get(path: "\(resources)/bench-\(run)-\(index)")
        }
        reporter.record(widgetGets)

        let served = try await timeDefinitionsToFirstCreate(client, namespace: namespace)
        let summary = LatencySummary(milliseconds: served)
        print("")
        print(
            row("", "configmap/s", "custom/s", "cost ratio")
                + "\n" + row("creates", mapCreates.perSecond, widgetCreates.perSecond)
                + "\n" + row("gets", mapGets.perSecond, widgetGets.perSecond))
        print("(cost ratio: ConfigMap throughput / custom resource throughput; the goal is at most 1.50)")
        print(
            "definition created to first custom resource created: p50 \(format(summary.p50, 1)) ms, "
                + "max \(format(summary.max, 1)) ms over \(served.count) definitions")
    }

    /// A few hundred unmeasured creates and gets of both kinds first, so neither kind's figures carry the
    /// server's and the connection's first-use costs (whichever ran first would otherwise look slower).
    private func warmUp(_ client: RESTClient, mapPath: String, resources: String, namespace: String, run: String)
        async throws
    {
        let count = min(objects, 200)
        let outcomes = await [
            LoadRunner.run("warm-up", count: count, concurrency: concurrency) { index in
                let body = BenchObjects.configMap(
                    name: "warm-\(run)-\(index)", namespace: namespace, run: run, set: "warm-up", valueBytes: 100)
                _ = try await client.post(path: mapPath, body: body)
                _ = try await client.get(path: "\(mapPath)/warm-\(run)-\(index)")
            },
            LoadRunner.run("warm-up", count: count, concurrency: concurrency) { index in
                let body = BenchCustomResourceObjects.widget(
                    name: "warm-\(run)-\(index)", namespace: namespace, run: run)
                _ = try await client.post(path: resources, body: body)
                _ = try await client.get(path: "\(resources)/warm-\(run)-\(index)")
            },
        ]
        if let error = outcomes.lazy.compactMap(\.firstError).first {
            throw ValidationError("warm-up failed: \(error)")
        }
    }

    private func row(_ label: String, _ configMaps: Double, _ custom: Double) -> String {
        row(label, format(configMaps, 1), format(custom, 1), custom > 0 ? format(configMaps / custom, 2) : "-")
    }

    private func row(_ label: String, _ first: String, _ second: String, _ third: String) -> String {
        func pad(_ text: String, _ width: Int) -> String {
            String(repeating: " ", count: max(1, width - text.count)) + text
        }
        return label.padding(toLength: 10, withPad: " ", startingAt: 0) + pad(first, 14) + pad(second, 14)
            + pad(third, 12)
    }

    /// For each of `--definitions` new definitions (each its own group), the milliseconds from sending the
    /// definition to the first create of its kind that succeeds, retried every 2 ms meanwhile.
    private func timeDefinitionsToFirstCreate(_ client: RESTClient, namespace: String) async throws -> [Double] {
        var samples: [Double] = []
        let clock = ContinuousClock()
        for round in 0..<definitions {
            let group = "r\(round).\(BenchCustomResourceObjects.group)"
            let path = "/apis/\(group)/v1/namespaces/\(namespace)/benchwidgets"
            let body = BenchCustomResourceObjects.widget(
                name: "first", namespace: namespace, run: "probe", group: group)
            let start = clock.now
            _ = try await client.postJSON(
                path: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                BenchCustomResourceObjects.definition(group: group))
            while true {
                let request = Request(method: .post, path: path, body: body, contentType: "application/json")
                if let response = try? await client.send(request), response.status == 201 {
                    break
                }
                guard clock.now - start < .seconds(30) else {
                    throw ValidationError("\(group) was not served 30 s after its definition was created")
                }
                try await Task.sleep(for: .milliseconds(2))
            }
            samples.append(milliseconds(clock.now - start))
        }
        return samples
    }
}

/// The bench's custom resource: a definition whose schema types a ~300-byte object (strings, integers, a
/// boolean, a list, defaults and one CEL rule), and its objects as the JSON a client sends.
enum BenchCustomResourceObjects {
    static let group = "bench.kubeswift.io"

    /// A namespaced `BenchWidget` definition in `group`, served and stored as v1.
    static func definition(group: String) -> JSON {
        let spec: JSON = [
            "type": "object",
            "x-kubernetes-validations": [
                ["rule": "self.replicas <= self.maxReplicas", "message": "replicas must not exceed maxReplicas"]
            ],
            "properties": [
                "image": ["type": "string", "maxLength": 256],
                "replicas": ["type": "integer", "minimum": 0, "default": 1],
                "maxReplicas": ["type": "integer", "minimum": 0, "default": 10],
                "tier": ["type": "string", "enum": ["frontend", "backend", "batch"]],
                "paused": ["type": "boolean", "default": false],
                "ports": ["type": "array", "items": ["type": "integer", "minimum": 1, "maximum": 65535]],
                "owner": ["type": "string"],
            ],
        ]
        return [
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": ["name": .string("benchwidgets.\(group)")],
            "spec": [
                "group": .string(group), "scope": "Namespaced",
                "names": ["plural": "benchwidgets", "singular": "benchwidget", "kind": "BenchWidget"],
                "versions": [
                    [
                        "name": "v1", "served": true, "storage": true,
                        "schema": ["openAPIV3Schema": ["type": "object", "properties": ["spec": spec]]],
                    ]
                ],
            ],
        ]
    }

    /// One object of the bench's kind, labelled with the run as every bench object is (~300 bytes).
    static func widget(name: String, namespace: String, run: String, group: String = group) -> [UInt8] {
        Array(
            """
            {"apiVersion":"\(group)/v1","kind":"BenchWidget","metadata":{"name":"\(name)","namespace":"\(namespace)",\
            "labels":{"\(BenchObjects.label)":"\(run)","\(BenchObjects.label)-set":"crd"}},"spec":{\
            "image":"registry.example.com/team/app:v1.2.3","replicas":3,"maxReplicas":12,"tier":"backend",\
            "ports":[8080,8443],"owner":"platform@example.com"}}
            """.utf8)
    }
}
