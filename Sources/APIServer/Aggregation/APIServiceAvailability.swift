import APIMachinery
import NIOCore
import NIOHTTP1

/// The verdict on one APIService, as its `Available` condition states it.
struct APIServiceCondition: Sendable, Equatable {
    var status: String
    var reason: String
    var message: String
    /// Where requests go when available.
    var backend: AggregatorBackend?
    /// The backend's APIResourceList, from the discovery check.
    var resources: JSON?

    static let local = APIServiceCondition(
        status: "True", reason: "Local", message: "Local APIServices are always available")
}

/// Upstream's availability controller's checks for a service-backed APIService, in its order and with its
/// messages: the Service exists and has the port, its Endpoints have an address for that port, and the
/// backend answers `GET /apis/<group>/<version>` with a 2xx within 5 s, asked as `system:kube-aggregator`.
struct APIServiceAvailability: Sendable {
    let services: RegistryStore
    let endpoints: RegistryStore
    let transport: AggregatorTransport?
    /// `--enable-aggregator-routing`: dial an endpoint rather than the cluster IP. Cluster IPs are not routed
    /// on the hosts this server runs on, so a cluster IP is only dialled when it is a loopback address.
    let aggregatorRouting: Bool

    func check(_ view: APIServiceView) async -> APIServiceCondition {
        guard let reference = view.service else { return .local }
        func unavailable(_ reason: String, _ message: String) -> APIServiceCondition {
            APIServiceCondition(status: "False", reason: reason, message: message)
        }
        let service: JSON
        do {
            service = try await services.get(namespace: reference.namespace, name: reference.name)
        } catch {
            return unavailable(
                "ServiceNotFound", "service/\(reference.name) in \"\(reference.namespace)\" is not present")
        }
        let ports = service["spec"]?["ports"]?.arrayValue ?? []
        guard let servicePort = ports.first(where: { $0["port"]?.intValue == Int64(reference.port) }) else {
            return unavailable(
                "ServicePortError",
                "service/\(reference.name) in \"\(reference.namespace)\" is not listening on port \(reference.port)")
        }
        let portName = servicePort["name"]?.stringValue ?? ""
        let endpoint: (host: String, port: Int)?
        do {
            let object = try await endpoints.get(namespace: reference.namespace, name: reference.name)
            endpoint = Self.address(in: object, portName: portName)
        } catch {
            return unavailable(
                "EndpointsNotFound", "cannot find endpoints for service/\(reference.name) in \"\(reference.namespace)\""
            )
        }
        guard let endpoint else {
            return unavailable(
                "MissingEndpoints",
                "endpoints for service/\(reference.name) in \"\(reference.namespace)\" have no addresses with port name \"\(portName)\""
            )
        }
        var backend = AggregatorBackend(
            host: endpoint.host, port: endpoint.port, serverName: "\(reference.name).\(reference.namespace).svc",
            caBundle: view.caBundle, insecureSkipTLSVerify: view.insecureSkipTLSVerify)
        if !aggregatorRouting, let clusterIP = service["spec"]?["clusterIP"]?.stringValue, clusterIP.hasPrefix("127.") {
            backend.host = clusterIP
            backend.port = reference.port
        }
        let url = backend.origin + "/apis/\(view.group)/\(view.version)"
        func failed(_ why: String) -> APIServiceCondition {
            unavailable("FailedDiscoveryCheck", "failing or missing response from \(url): \(why)")
        }
        guard let transport else { return failed("no proxy client is configured") }
        var headers: HTTPHeaders = ["Accept": "application/json", "Host": "\(backend.host):\(backend.port)"]
        headers.add(name: "X-Remote-User", value: "system:kube-aggregator")
        headers.add(name: "X-Remote-Group", value: "system:masters")
        let head = HTTPRequestHead(
            version: .http1_1, method: .GET, uri: "/apis/\(view.group)/\(view.version)", headers: headers)
        do {
            let response = try await transport.send(head, body: [], to: backend, timeout: .seconds(5))
            var body: [UInt8] = []
            for try await chunk in response.body { body += chunk }
            guard (200..<300).contains(response.status.code) else {
                return failed("bad status from \(url): \(response.status.code)")
            }
            return APIServiceCondition(
                status: "True", reason: "Passed", message: "all checks passed", backend: backend,
                resources: try? JSON.parse(body))
        } catch {
            return failed("Get \"\(url)\": \(error)")
        }
    }

    /// The first ready address of a subset that has the port named `portName`, with that port.
    static func address(in endpoints: JSON, portName: String) -> (host: String, port: Int)? {
        for subset in endpoints["subsets"]?.arrayValue ?? [] {
            guard let ip = subset["addresses"]?.arrayValue?.first?["ip"]?.stringValue,
                let port = subset["ports"]?.arrayValue?.first(where: { ($0["name"]?.stringValue ?? "") == portName })?[
                    "port"]?.intValue
            else { continue }
            return (ip, Int(port))
        }
        return nil
    }
}
