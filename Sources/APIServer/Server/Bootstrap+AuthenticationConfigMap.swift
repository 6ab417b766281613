import APIMachinery
public import Component
import Foundation
import NIOSSL

/// How this server authenticates clients, as published for components that delegate authentication
/// (aggregated API servers, the controller-manager and scheduler's `--authentication-kubeconfig`).
public struct AuthenticationTrust: Sendable, Equatable {
    /// `--client-ca-file`: the PEM bundle that signs client certificates.
    public var clientCAFile: String?
    /// `--requestheader-client-ca-file`: the PEM bundle that signs front proxies' client certificates.
    public var requestHeaderClientCAFile: String?
    public var requestHeaderAllowedNames: [String]
    public var requestHeaderExtraHeadersPrefix: [String]
    public var requestHeaderGroupHeaders: [String]
    public var requestHeaderUsernameHeaders: [String]

    public init(
        clientCAFile: String?, requestHeaderClientCAFile: String? = nil, requestHeaderAllowedNames: [String] = [],
        requestHeaderExtraHeadersPrefix: [String] = [], requestHeaderGroupHeaders: [String] = [],
        requestHeaderUsernameHeaders: [String] = []
    ) {
        self.clientCAFile = clientCAFile
        self.requestHeaderClientCAFile = requestHeaderClientCAFile
        self.requestHeaderAllowedNames = requestHeaderAllowedNames
        self.requestHeaderExtraHeadersPrefix = requestHeaderExtraHeadersPrefix
        self.requestHeaderGroupHeaders = requestHeaderGroupHeaders
        self.requestHeaderUsernameHeaders = requestHeaderUsernameHeaders
    }

    /// From kube-apiserver's flags (`APIServerCommand.requestHeaderFlags` and `--client-ca-file`).
    public init(flags: FlagSet) {
        func file(_ name: String) -> String? { flags.string(name).isEmpty ? nil : flags.string(name) }
        self.init(
            clientCAFile: file("client-ca-file"), requestHeaderClientCAFile: file("requestheader-client-ca-file"),
            requestHeaderAllowedNames: flags.list("requestheader-allowed-names"),
            requestHeaderExtraHeadersPrefix: flags.list("requestheader-extra-headers-prefix"),
            requestHeaderGroupHeaders: flags.list("requestheader-group-headers"),
            requestHeaderUsernameHeaders: flags.list("requestheader-username-headers"))
    }
}

extension APIServerCommand {
    /// upstream's front-proxy flags: they configure `RequestHeaderAuthenticator`, and are published so that
    /// delegating components read the same configuration upstream's server gives them.
    public static let requestHeaderFlags: [FlagDefinition] = [
        "requestheader-client-ca-file", "requestheader-allowed-names", "requestheader-extra-headers-prefix",
        "requestheader-group-headers", "requestheader-username-headers",
    ].map { FlagDefinition($0) }
}

extension APIServer {
    static let authenticationConfigMapNamespace = "kube-system"
    static let authenticationConfigMapName = "extension-apiserver-authentication"

    /// Keeps `kube-system/extension-apiserver-authentication` current, as upstream's
    /// cluster-authentication-trust controller does: a pass at start and one every `interval`, which
    /// rereads the CA files (so a rotated bundle is published) and restores a deleted or edited map.
    public func runAuthenticationConfigMap(_ trust: AuthenticationTrust, every interval: Duration = .seconds(60))
        async
    {
        while !Task.isCancelled {
            do {
                try await syncAuthenticationConfigMap(trust)
            } catch {
                // Storage may not be reachable yet; the next pass retries.
            }
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
        }
    }

    /// One pass: what the map holds, merged with this server's settings as upstream merges them (so servers
    /// of one cluster with different CAs all stay trusted), written only when it changes.
    public func syncAuthenticationConfigMap(_ trust: AuthenticationTrust) async throws {
        guard let configMaps = store(resource: "configmaps") else { return }
        let clientCA = try trust.clientCAFile.map { try Self.readPEM($0) } ?? ""
        let requestHeaderCA = try trust.requestHeaderClientCAFile.map { try Self.readPEM($0) } ?? ""
        let namespace = Self.authenticationConfigMapNamespace
        let name = Self.authenticationConfigMapName
        do {
            // ConfigMaps are not created by an update (upstream's strategy says so), hence get, then create or update.
            _ = try await configMaps.get(namespace: namespace, name: name)
        } catch let error as APIError where error.code == 404 {
            let data = Self.authenticationData(
                existing: JSONObject(), trust: trust, clientCA: clientCA, requestHeaderCA: requestHeaderCA)
            let object: JSON = [
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": ["name": .string(name), "namespace": .string(namespace)], "data": .object(data),
            ]
            _ = try await configMaps.create(namespace: namespace, object: object, options: WriteOptions())
            return
        }
        do {
            _ = try await configMaps.update(namespace: namespace, name: name, options: WriteOptions()) { old in
                let existing = old["data"]?.objectValue ?? JSONObject()
                let data = Self.authenticationData(
                    existing: existing, trust: trust, clientCA: clientCA, requestHeaderCA: requestHeaderCA)
                guard JSON.object(existing) != .object(data) else { throw UnchangedConfigMap() }
                var object = old
                object["data"] = .object(data)
                object.setMeta("resourceVersion", nil)
                return object
            }
        } catch is UnchangedConfigMap {}
    }

    private struct UnchangedConfigMap: Error {}

    /// The map's data, as upstream's `getConfigMapDataFor` writes it: the client CA when there is one, and
    /// the request-header keys (lists as JSON arrays) only when a request-header CA is configured.
    static func authenticationData(
        existing: JSONObject, trust: AuthenticationTrust, clientCA: String, requestHeaderCA: String
    ) -> JSONObject {
        func list(_ key: String, _ required: [String]) -> JSON {
            var merged: [String] = []
            let previous = existing[key]?.stringValue.flatMap { try? JSON.parse(Array($0.utf8)) }?.arrayValue ?? []
            for name in previous.compactMap(\.stringValue) + required where !merged.contains(name) {
                merged.append(name)
            }
            return .string(String(decoding: JSON.array(merged.map { .string($0) }).encoded(), as: UTF8.self))
        }
        var data = JSONObject()
        let clients = mergedBundle(existing["client-ca-file"]?.stringValue ?? "", clientCA)
        if !clients.isEmpty { data["client-ca-file"] = .string(clients) }
        let proxies = mergedBundle(existing["requestheader-client-ca-file"]?.stringValue ?? "", requestHeaderCA)
        guard !proxies.isEmpty else { return data }
        data["requestheader-username-headers"] = list(
            "requestheader-username-headers", trust.requestHeaderUsernameHeaders)
        data["requestheader-group-headers"] = list("requestheader-group-headers", trust.requestHeaderGroupHeaders)
        data["requestheader-extra-headers-prefix"] = list(
            "requestheader-extra-headers-prefix", trust.requestHeaderExtraHeadersPrefix)
        data["requestheader-client-ca-file"] = .string(proxies)
        data["requestheader-allowed-names"] = list("requestheader-allowed-names", trust.requestHeaderAllowedNames)
        return data
    }

    /// The certificates of both bundles, each once, less those expired more than five minutes ago, as PEM.
    static func mergedBundle(_ existing: String, _ required: String) -> String {
        var seen: [[UInt8]] = []
        var pem = ""
        let slack = time_t(Date().timeIntervalSince1970) - 300
        for bundle in [existing, required] where !bundle.isEmpty {
            guard let certificates = try? NIOSSLCertificate.fromPEMBytes(Array(bundle.utf8)) else { continue }
            for certificate in certificates {
                guard let der = try? certificate.toDERBytes(), !seen.contains(der),
                    certificate.notValidAfter > slack
                else { continue }
                seen.append(der)
                pem += "-----BEGIN CERTIFICATE-----\n"
                let base64 = Data(der).base64EncodedString()
                var index = base64.startIndex
                while index < base64.endIndex {
                    let end = base64.index(index, offsetBy: 64, limitedBy: base64.endIndex) ?? base64.endIndex
                    pem += base64[index..<end] + "\n"
                    index = end
                }
                pem += "-----END CERTIFICATE-----\n"
            }
        }
        return pem
    }

    private static func readPEM(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw APIError.internalError("unable to read \(path)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
