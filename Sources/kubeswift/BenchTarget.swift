import APIMachinery
import ArgumentParser
import Client

/// The API server a bench command measures and the namespace its objects go in; shared by the bench
/// commands that talk to a server.
struct BenchTarget: ParsableArguments {
    @Option(help: "Kubeconfig of the server to measure (default: $KUBECONFIG or ~/.kubeswift/admin.kubeconfig).")
    var kubeconfig: String = BenchObjects.defaultKubeconfig

    @Option(help: "Namespace for the bench objects; created if missing.")
    var namespace: String = "bench"

    /// Creates the namespace unless it exists.
    func ensureNamespace(_ client: RESTClient) async throws {
        try await Self.ensureNamespace(namespace, client)
    }

    /// Creates `namespace` unless it exists.
    static func ensureNamespace(_ namespace: String, _ client: RESTClient) async throws {
        do {
            _ = try await client.get(path: ResourcePath.path(resource: "namespaces", name: namespace))
        } catch let error as StatusError where error.code == 404 {
            _ = try await client.postJSON(
                path: ResourcePath.path(resource: "namespaces"),
                ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]])
        }
    }
}

extension ClientConfiguration {
    /// Benchmarks measure the server, so the client's own rate limit (upstream's 5 requests/s) is off.
    var unthrottled: ClientConfiguration {
        var configuration = self
        configuration.qps = -1
        return configuration
    }
}
