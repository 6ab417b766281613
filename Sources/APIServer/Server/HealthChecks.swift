import EtcdStore
import Storage

/// /healthz, /livez and /readyz: named checks, each `[+]name ok` or `[-]name failed` with `?verbose`.
struct HealthChecks: Sendable {
    let storage: any KeyValueStore

    func run(endpoint: String) async -> [(name: String, ok: Bool)] {
        var results: [(String, Bool)] = [("ping", true), ("log", true)]
        results.append(("etcd", await storageIsHealthy()))
        if endpoint == "readyz" { results.append(("poststarthook/bootstrap-controller", true)) }
        return results
    }

    /// etcd: one read with a short deadline and no retries, so a probe answers while etcd is down.
    private func storageIsHealthy() async -> Bool {
        if let etcd = storage as? EtcdStore { return await etcd.checkHealth() }
        return (try? await storage.currentRevision()) != nil
    }

    func respond(endpoint: String, verbose: Bool) async -> HTTPResponse {
        let results = await run(endpoint: endpoint)
        let healthy = results.allSatisfy(\.ok)
        if !verbose, healthy { return .text("ok") }
        var text = ""
        for result in results {
            text += result.ok ? "[+]\(result.name) ok\n" : "[-]\(result.name) failed: reason withheld\n"
        }
        text += healthy ? "\(endpoint) check passed\n" : "\(endpoint) check failed\n"
        return .text(text, status: healthy ? .ok : .internalServerError)
    }
}
