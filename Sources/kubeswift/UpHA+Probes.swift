import Client
import EtcdStore
import Foundation
import Operations

/// The health checks `kubeswift up --masters` waits on and `kubeswift status` prints: an API server's /readyz,
/// an etcd member's Maintenance/Status, a Lease's holder, the `kubernetes` Endpoints.
enum ClusterProbe {
    /// A client with the kubeconfig's credentials, aimed at `server` when given (one master rather than nginx);
    /// short timeouts, since a probe's answer is only useful soon.
    static func client(kubeconfig: String, server: String? = nil) throws -> RESTClient {
        var configuration = try ClientConfiguration.load(kubeconfigPath: kubeconfig)
        if let server {
            let target = try ClientConfiguration(server: server)
            configuration.host = target.host
            configuration.port = target.port
        }
        configuration.connectTimeout = .seconds(1)
        configuration.requestTimeout = .seconds(3)
        configuration.qps = -1
        configuration.userAgent = "kubeswift-status/v1.32.0 (linux/amd64) kubeswift"
        return try RESTClient(configuration: configuration)
    }

    /// "ok", or what /readyz said or why it could not be asked.
    static func readyz(kubeconfig: String, server: String? = nil) async -> String {
        let client: RESTClient
        do { client = try self.client(kubeconfig: kubeconfig, server: server) } catch { return "no client (\(error))" }
        let answer: String
        do {
            let response = try await client.send(Request(method: .get, path: "/readyz"))
            answer =
                response.status == 200
                ? "ok" : "HTTP \(response.status): " + String(decoding: response.body.prefix(200), as: UTF8.self)
        } catch {
            answer = "unreachable (\(error))"
        }
        await client.shutdown()
        return answer
    }

    /// An etcd client for one member, with the API servers' client certificate.
    static func etcdStore(endpoint: String, pki: String) throws -> EtcdStore {
        guard let parsed = GRPCEndpoint(url: endpoint) else {
            throw EtcdConfigurationError("invalid etcd endpoint \(endpoint)")
        }
        var configuration = EtcdConfiguration(
            endpoints: [parsed], caFile: pki + "/ca.pem", certificateFile: pki + "/etcd-client.pem",
            keyFile: pki + "/etcd-client-key.pem")
        configuration.dialTimeout = .seconds(1)
        configuration.retryBudget = .seconds(2)
        return try EtcdStore(configuration: configuration)
    }

    /// One member's status, or why it has none.
    static func etcdStatus(endpoint: String, pki: String) async -> Result<EtcdMemberStatus, any Error> {
        do {
            let store = try etcdStore(endpoint: endpoint, pki: pki)
            defer { store.close() }
            return .success(try await store.memberStatus())
        } catch {
            return .failure(error)
        }
    }

    /// A kube-system Lease's holder and renew time, from the API server behind `client`.
    static func leaseHolder(_ name: String, client: RESTClient) async -> (holder: String, renewed: String)? {
        guard
            let object = try? await json(
                client, "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/\(name)"),
            let spec = object["spec"] as? [String: Any], let holder = spec["holderIdentity"] as? String
        else { return nil }
        return (holder, spec["renewTime"] as? String ?? "")
    }

    /// The `kubernetes` Service's endpoint addresses and ports, `address:port` each.
    static func kubernetesEndpoints(client: RESTClient) async -> [String]? {
        guard let object = try? await json(client, "/api/v1/namespaces/default/endpoints/kubernetes") else {
            return nil
        }
        var endpoints: [String] = []
        for subset in object["subsets"] as? [[String: Any]] ?? [] {
            let ports = (subset["ports"] as? [[String: Any]] ?? []).compactMap { $0["port"] as? Int }
            for address in subset["addresses"] as? [[String: Any]] ?? [] {
                guard let ip = address["ip"] as? String else { continue }
                endpoints += ports.isEmpty ? [ip] : ports.map { "\(ip):\($0)" }
            }
        }
        return endpoints.sorted()
    }

    static func json(_ client: RESTClient, _ path: String) async throws -> [String: Any]? {
        let response = try await client.send(Request(method: .get, path: path))
        guard response.status == 200 else { return nil }
        return try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
    }

    /// Polls `check` every 100 ms until it is true, for at most `limit`; throws with `what` on timeout.
    static func wait(
        for what: String, within limit: Duration, _ check: () async -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if await check() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ClusterProbeError("\(what) was not ready within \(limit)")
    }
}

/// A probe that gave up.
struct ClusterProbeError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension LocalCluster {
    /// Which process holds `role`'s lease (the scheduler's or controller-manager's): the one whose log, since
    /// its latest start, says it acquired the lease. Their logs go to `--log-dir` as the guide's do.
    func leader(of role: Role) -> LocalCluster.Process? {
        (try? processes())?.filter { $0.role == role && livePID($0) != nil }.first { process in
            guard let logDirectory = process.flag("log-dir"),
                let log = try? String(contentsOfFile: "\(logDirectory)/\(role.rawValue).INFO", encoding: .utf8),
                let start = log.range(of: "attempting to acquire leader lease", options: .backwards)
            else { return false }
            return log[start.upperBound...].contains("successfully acquired lease")
        }
    }
}

extension LocalCluster.Process {
    /// The value of `--name=value` in its command line.
    func flag(_ name: String) -> String? {
        arguments.last { $0.hasPrefix("--\(name)=") }.map { String($0.dropFirst(name.count + 3)) }
    }
}
