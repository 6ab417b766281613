import APIMachinery
import ArgumentParser
import Client
import Foundation

/// `kubeswift bench patch`: writes to Deployments with a 10-container pod template three ways in one run —
/// a plain PUT of the whole object, a strategic merge patch of one container's image (what `kubectl set
/// image` and client-side apply send) and a server-side apply of the whole manifest — so their costs compare.
struct BenchPatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "patch",
        abstract: "Compare update, strategic merge patch and server-side apply of a 10-container Deployment.")

    @OptionGroup var target: BenchTarget
    var namespace: String { target.namespace }

    @Option(help: "Writes per scenario and concurrency.")
    var writes: Int = 2000

    @Option(help: "Requests kept in flight, one run per value; each worker writes its own Deployment.")
    var concurrency = ConcurrencyList([8])

    @Option(help: "Containers in the pod template.")
    var containers: Int = 10

    @Flag(help: "Print one JSON document instead of a table.")
    var json = false

    func validate() throws {
        guard writes > 0, containers > 0 else { throw ValidationError("--writes and --containers must be positive") }
    }

    func run() async throws {
        let configuration = try ClientConfiguration.load(kubeconfigPath: target.kubeconfig)
        let client = try RESTClient(configuration: configuration.unthrottled)
        do {
            try await measure(client, server: "https://\(configuration.authority)")
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
    }

    /// The Deployment's manifest with every container's image at `tag`.
    func deployment(name: String, run: String, tag: Int) -> JSON {
        let containerList: [JSON] = (0..<containers).map { index in
            [
                "name": .string("c\(index)"), "image": .string("registry.local/app\(index):\(tag)"),
                "ports": [["containerPort": .int(Int64(8000 + index))]],
                "env": [["name": "INDEX", "value": .string("\(index)")], ["name": "MODE", "value": "bench"]],
                "resources": ["requests": ["cpu": "10m", "memory": "16Mi"]],
            ]
        }
        return [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": [
                "name": .string(name), "namespace": .string(namespace),
                "labels": [.init(stringLiteral: BenchObjects.label): .string(run)],
            ],
            "spec": [
                "replicas": 1, "selector": ["matchLabels": ["app": .string(name)]],
                "template": [
                    "metadata": ["labels": ["app": .string(name)]], "spec": ["containers": .array(containerList)],
                ],
            ],
        ]
    }

    private func measure(_ client: RESTClient, server: String) async throws {
        let version = try await client.getJSON(path: "/version")["gitVersion"]?.stringValue ?? "unknown"
        try await target.ensureNamespace(client)
        let run = BenchObjects.runID()
        let collection = ResourcePath.path(group: "apps", version: "v1", namespace: namespace, resource: "deployments")
        var reporter = BenchReporter(json: json)
        reporter.note(
            "KubeSwift bench patch: \(server) (\(version)), namespace \(namespace), run \(run), "
                + "Deployments with \(containers) containers")
        reporter.note("")
        reporter.header()

        for level in concurrency.levels {
            let names = (0..<level).map { "bench-\(run)-p\(level)-\($0)" }
            for name in names {
                _ = try await client.postJSON(path: collection, deployment(name: name, run: run, tag: 0))
            }
            let paths = names.map { collection + "/" + $0 }
            let putBodies = (0..<writes).map {
                deployment(name: names[$0 % level], run: run, tag: $0 + 1).encoded()
            }
            reporter.record(
                await LoadRunner.run("update deployment (PUT)", count: writes, concurrency: level) { index in
                    _ = try await client.put(path: paths[index % level], body: putBodies[index])
                })
            let patches = (0..<writes).map { index -> [UInt8] in
                let container = index % containers
                return JSON.object([
                    "spec": [
                        "template": [
                            "spec": [
                                "containers": [
                                    [
                                        "name": .string("c\(container)"),
                                        "image": .string("registry.local/app\(container):p\(index)"),
                                    ]
                                ]
                            ]
                        ]
                    ]
                ]).encoded()
            }
            reporter.record(
                await LoadRunner.run("strategic merge patch", count: writes, concurrency: level) { index in
                    _ = try await client.patch(
                        path: paths[index % level], body: patches[index],
                        contentType: "application/strategic-merge-patch+json")
                })
            let applies = (0..<writes).map {
                deployment(name: names[$0 % level], run: run, tag: writes + $0 + 1).encoded()
            }
            reporter.record(
                await LoadRunner.run("server-side apply", count: writes, concurrency: level) { index in
                    _ = try await client.patch(
                        path: paths[index % level], query: ["fieldManager": "kubeswift-bench", "force": "true"],
                        body: applies[index], contentType: "application/apply-patch+yaml")
                })
        }
        let deleted = try await client.deleteJSON(
            path: collection, query: ["labelSelector": "\(BenchObjects.label)=\(run)"])
        reporter.note("Deleted \(deleted["items"]?.arrayValue?.count ?? 0) bench Deployments.")
        try reporter.finish(parameters: [
            "server": server, "serverVersion": version, "namespace": namespace, "run": run,
            "writes": "\(writes)", "concurrency": concurrency.description, "containers": "\(containers)",
        ])
    }
}
