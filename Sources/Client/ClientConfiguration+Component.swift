public import Foundation
public import Logging

/// Where a pod finds the API server and its service account's credentials; tests point it elsewhere.
public struct InClusterEnvironment: Sendable {
    /// Where the kubelet mounts the service account's `token`, `ca.crt` and `namespace`.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The folder holding `token`, `ca.crt` and `namespace`.
    public var directory: String
    /// The process environment, for `KUBERNETES_SERVICE_HOST`, `KUBERNETES_SERVICE_PORT` and `POD_NAMESPACE`.
    public var variables: [String: String]

    public init(
        directory: String = Self.serviceAccountDirectory,
        variables: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.directory = directory
        self.variables = variables
    }
}

extension ClientConfiguration {
    /// The configuration of a pod, as client-go's `rest.InClusterConfig`: the API server from
    /// `KUBERNETES_SERVICE_HOST`/`_PORT`, the service account's token, and its CA when readable.
    public static func inCluster(_ environment: InClusterEnvironment = InClusterEnvironment()) throws(ClientError)
        -> ClientConfiguration
    {
        guard let host = environment.variables["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
            let port = environment.variables["KUBERNETES_SERVICE_PORT"], !port.isEmpty
        else {
            throw .invalidConfiguration(
                "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined"
            )
        }
        let tokenPath = environment.directory + "/token"
        guard let token = FileManager.default.contents(atPath: tokenPath) else {
            throw .invalidConfiguration("cannot read \(tokenPath)")
        }
        var configuration = try ClientConfiguration(
            server: "https://" + (host.contains(":") ? "[\(host)]" : host) + ":" + port)
        // A trailing newline would make an invalid header value; tokens never contain whitespace.
        configuration.bearerToken = String(decoding: token, as: UTF8.self).trimmingCharacters(
            in: .whitespacesAndNewlines)
        configuration.bearerTokenFile = tokenPath
        // As upstream, an unreadable CA leaves the system roots rather than failing.
        configuration.trustRootsPEM = FileManager.default.contents(atPath: environment.directory + "/ca.crt").map {
            Array($0)
        }
        configuration.namespace = inClusterNamespace(environment)
        return configuration
    }

    /// client-go's in-cluster namespace: `POD_NAMESPACE`, else the service account's, else `default`.
    static func inClusterNamespace(_ environment: InClusterEnvironment) -> String {
        if let namespace = environment.variables["POD_NAMESPACE"], !namespace.isEmpty { return namespace }
        if let data = FileManager.default.contents(atPath: environment.directory + "/namespace") {
            let namespace = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if !namespace.isEmpty { return namespace }
        }
        return "default"
    }

    /// The configuration a component (scheduler, controller manager) builds from `--kubeconfig` and
    /// `--master`, with client-go's `BuildConfigFromFlags` precedence: the kubeconfig file with `master`
    /// replacing its server; `master` alone; neither means in-cluster. Empty strings count as not given.
    public static func forComponent(
        kubeconfig: String?, master: String?, inCluster environment: InClusterEnvironment = InClusterEnvironment(),
        logger: Logger = Logger(label: "kubeswift.client")
    ) throws -> ClientConfiguration {
        switch (kubeconfig.flatMap { $0.isEmpty ? nil : $0 }, master.flatMap { $0.isEmpty ? nil : $0 }) {
        case (nil, nil):
            logger.warning(
                "Neither --kubeconfig nor --master was specified.  Using the inClusterConfig.  This might not work.")
            do {
                return try inCluster(environment)
            } catch {
                logger.warning("error creating inClusterConfig, falling back to default config: \(error)")
                throw ClientError.invalidConfiguration(
                    "no configuration has been provided, try setting KUBERNETES_MASTER environment variable")
            }
        case (nil, let server?):
            // Only a server: no credentials and the system's trust roots, as client-go builds it.
            return try ClientConfiguration(server: server)
        case (let path?, let server):
            var configuration = try load(kubeconfigPath: path)
            if let server {
                let parsed = try parseServer(server)
                configuration.host = parsed.host
                configuration.port = parsed.port
                configuration.basePath = parsed.basePath
                configuration.usesTLS = parsed.usesTLS
            }
            return configuration
        }
    }
}
