import EtcdStore
import NIOConcurrencyHelpers
import Storage

/// Set once when a graceful shutdown begins; `/readyz` fails from then on, so load balancers stop sending
/// new requests while the server drains, as upstream's `shutdown` readiness check makes them.
public final class ShutdownSignal: Sendable {
    private let begun = NIOLockedValueBox(false)

    public init() {}

    /// Marks the shutdown as begun; it cannot be undone.
    public func signal() { begun.withLockedValue { $0 = true } }

    public var isSignalled: Bool { begun.withLockedValue { $0 } }
}

/// /healthz, /livez and /readyz: named checks, each `[+]name ok` or `[-]name failed` with `?verbose`.
struct HealthChecks: Sendable {
    let storage: any KeyValueStore
    let shutdown: ShutdownSignal

    func run(endpoint: String) async -> [(name: String, ok: Bool)] {
        var results: [(String, Bool)] = [("ping", true), ("log", true)]
        results.append(("etcd", await storageIsHealthy()))
        if endpoint == "readyz" {
            results.append(("poststarthook/bootstrap-controller", true))
            results.append(("shutdown", !shutdown.isSignalled))
        }
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
