import APIMachinery
public import Component
import Foundation
public import Logging
public import NIOCore
public import NIOPosix
import NIOSSL
import Operations
import Storage

/// The `kube-apiserver` command line: the guide's flags, parsed pflag-style, then start and serve.
public enum APIServerCommand {
    static let issue3 = "the security issue (#3)"

    /// Every flag accepted, with upstream's names and defaults.
    public static let flags: [FlagDefinition] =
        [
            FlagDefinition("advertise-address"),
            FlagDefinition("bind-address", default: "0.0.0.0"),
            FlagDefinition("secure-port", default: "6443"),
            FlagDefinition("tls-cert-file"), FlagDefinition("tls-private-key-file"),
            FlagDefinition("cert-dir", default: "/var/run/kubernetes"),
            FlagDefinition("client-ca-file"),
            FlagDefinition("anonymous-auth", bool: true, default: "true"),
            FlagDefinition("service-cluster-ip-range", default: "10.0.0.0/24"),
            FlagDefinition("service-node-port-range", default: "30000-32767"),
            FlagDefinition("data-dir", usage: "directory of the embedded SQLite store"),
            FlagDefinition("storage-backend", default: ""),
            FlagDefinition("etcd-prefix", default: "/registry"),
            FlagDefinition("logtostderr", bool: true, default: "true"),
            FlagDefinition("alsologtostderr", bool: true, default: "false"),
            FlagDefinition("log-dir"), FlagDefinition("v", default: "0"),
            FlagDefinition("token-auth-file"),
            FlagDefinition("etcd-compaction-interval", default: "5m"),
            FlagDefinition("admission-control"), FlagDefinition("enable-admission-plugins"),
            FlagDefinition("disable-admission-plugins"),
            FlagDefinition("admission-control-config-file", usage: "File with admission control configuration."),
            FlagDefinition("authorization-mode", default: "AlwaysAllow"),
            FlagDefinition(
                "runtime-config",
                support: .noEffect("rbac.authorization.k8s.io/v1 serves RBAC (upstream removed v1beta1 in 1.22)")),
            FlagDefinition("kubelet-https", bool: true, support: .noEffect("kubelets are always reached over HTTPS")),
            FlagDefinition(
                "kubelet-client-certificate",
                support: .noEffect("this API server does not call kubelets (no logs, exec or port-forward)")),
            FlagDefinition(
                "kubelet-client-key",
                support: .noEffect("this API server does not call kubelets (no logs, exec or port-forward)")),
            FlagDefinition("profiling", bool: true, default: "true", support: .noEffect("no pprof endpoints")),
            FlagDefinition(
                "service-account-lookup", bool: true, default: "true",
                support: .notImplementedYet("service-account tokens are not checked against stored accounts yet")),
            FlagDefinition(
                "allow-privileged", bool: true, support: .noEffect("privileged containers are a kubelet setting now")),
            FlagDefinition("experimental-bootstrap-token-auth", aliases: ["enable-bootstrap-token-auth"], bool: true),
            FlagDefinition("service-account-key-file"),
            FlagDefinition("service-account-signing-key-file"),
            FlagDefinition("service-account-issuer", default: "https://kubernetes.default.svc.cluster.local"),
            FlagDefinition("api-audiences"),
            FlagDefinition("service-account-max-token-expiration", default: "0s"),
            FlagDefinition("enable-swagger-ui", bool: true, default: "false"),
            FlagDefinition("audit-log-path"),
            FlagDefinition("audit-log-maxage", default: "0"),
            FlagDefinition("audit-log-maxbackup", default: "0"),
            FlagDefinition("audit-log-maxsize", default: "0"),
            FlagDefinition("audit-policy-file"),
            FlagDefinition("event-ttl", default: "1h0m0s"),
            FlagDefinition("max-requests-inflight", default: "400"),
            FlagDefinition(
                "http2-max-streams-per-connection", default: String(HTTPServer.defaultMaxStreamsPerConnection)),
            FlagDefinition("max-mutating-requests-inflight", default: "200"),
            FlagDefinition("request-timeout", default: "1m0s"),
            FlagDefinition("watch-cache", bool: true, default: "true"),
            FlagDefinition("default-watch-cache-size", default: "100"),
            FlagDefinition("watch-cache-sizes"),
        ] + etcdFlags + lifecycleFlags + requestHeaderFlags + aggregationFlags + featureGateFlags

    /// Parses `arguments` (without the program name), starts the server and serves until it is closed.
    public static func main(arguments: [String]) async -> Int32 {
        guard
            let (flagSet, logger) = ComponentCommandLine.start(
                component: "kube-apiserver", definitions: flags, arguments: arguments)
        else { return 1 }
        do {
            let running = try await start(flagSet, logger: logger)
            SystemdNotify.ready()
            let returner = MemoryReturner().start()
            defer { returner.cancel() }
            await running.serveUntilTerminated(logger: logger)
            return 0
        } catch {
            logger.critical("\(error)")
            return 1
        }
    }

    /// A started API server: its listener and pipeline, and what its shutdown drives.
    public struct Running: Sendable {
        public let server: HTTPServer
        public let apiServer: APIServer
        public let lifecycle: Lifecycle
    }

    static func fail(_ message: String) -> FlagError { FlagError(message: message) }

    /// Starts from parsed flags; returns once the port listens and bootstrap data exists.
    public static func start(
        _ flags: FlagSet, logger: Logger, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    )
        async throws -> Running
    {
        for (name, support) in flags.accepted {
            switch support {
            case .noEffect(let why): logger.info("flag --\(name) is accepted and has no effect: \(why)")
            case .notImplementedYet(let work):
                logger.warning("flag --\(name) is not implemented yet; it arrives with \(work)")
            case .implemented: break
            }
        }
        let lifecycleOptions = try LifecycleOptions(flags)
        let gates = try FeatureGates(flags, logger: logger)
        guard let range = IPv4Range(cidr: flags.string("service-cluster-ip-range")) else {
            throw fail(
                "invalid argument \"\(flags.string("service-cluster-ip-range"))\" for \"--service-cluster-ip-range\" flag"
            )
        }
        let portText = flags.string("service-node-port-range").split(separator: "-").compactMap { Int($0) }
        guard portText.count == 2, portText[0] <= portText[1] else {
            throw fail(
                "invalid argument \"\(flags.string("service-node-port-range"))\" for \"--service-node-port-range\" flag"
            )
        }
        let securePort = try flags.int("secure-port")
        let bindAddress = flags.string("bind-address")
        var advertise = flags.string("advertise-address")
        if advertise.isEmpty { advertise = bindAddress == "0.0.0.0" || bindAddress.isEmpty ? "127.0.0.1" : bindAddress }

        let storage = try openStorage(flags, logger: logger)
        var configuration = APIServer.Configuration()
        configuration.storagePrefix = flags.string("etcd-prefix")
        configuration.serviceClusterIPRange = range
        configuration.serviceNodePortRange = portText[0]...portText[1]
        configuration.admission = try admissionChain(flags, logger: logger)
        do {
            configuration.authorizer = try AuthorizerConfiguration(flag: flags.string("authorization-mode"))
        } catch { throw fail(error.description) }
        let tls = try loadTLS(
            flags, advertise: advertise, serviceIP: IPv4Range.format(range.first), logger: logger)
        configuration.authentication = try await authentication(flags, servingKeyFile: tls.keyFile, logger: logger)
        try applyAuditAndLimits(flags, to: &configuration, logger: logger)
        configuration.watchCache = try watchCache(flags)
        configuration.enableSwaggerUI = flags.bool("enable-swagger-ui")
        configuration.componentStatus = ComponentStatusTargets(flags: flags)
        let apiServer = APIServer(storage: storage, configuration: configuration)
        _ = try await bootstrapWhenReachable(apiServer, securePort: securePort, logger: logger)
        let compaction = try flags.duration("etcd-compaction-interval")
        startCompaction(apiServer, every: compaction)
        Task { await apiServer.runAuthenticationConfigMap(AuthenticationTrust(flags: flags)) }
        Task { await apiServer.runFlowControlConfiguration() }
        try apiServer.startAggregation(try aggregation(flags))

        let server = try await HTTPServer.start(
            host: bindAddress, port: securePort, tls: tls.serving, responder: apiServer,
            group: group, compressResponses: gates.apiResponseCompression,
            maxStreamsPerConnection: try http2MaxStreams(flags))
        let lifecycle = try await startLifecycle(
            lifecycleOptions, apiServer: apiServer, advertise: advertise,
            securePort: server.localAddress?.port ?? securePort,
            logger: logger, group: group)
        logger.info("Serving securely on \(bindAddress):\(server.localAddress?.port ?? securePort)")
        return Running(server: server, apiServer: apiServer, lifecycle: lifecycle)
    }

    /// `--http2-max-streams-per-connection`; zero or less means Go's HTTP/2 default, 250, as upstream's.
    static func http2MaxStreams(_ flags: FlagSet) throws -> Int {
        let value = try flags.int("http2-max-streams-per-connection")
        return value > 0 ? value : 250
    }

    static func openStorage(_ flags: FlagSet, logger: Logger) throws -> any KeyValueStore {
        var directory = flags.string("data-dir")
        if directory.isEmpty {
            directory = getuid() == 0 ? "/var/lib/kubeswift" : NSHomeDirectory() + "/.local/share/kubeswift"
        }
        if let etcd = try openEtcd(flags, logger: logger) { return etcd }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        logger.info("Using the embedded SQLite store at \(directory)/state.db")
        return try SQLiteStore(path: directory + "/state.db")
    }

    /// The serving pair (given, else self-signed in `--cert-dir`) and client CA, followed for rotation.
    static func loadTLS(_ flags: FlagSet, advertise: String, serviceIP: String, logger: Logger) throws
        -> (serving: ServingTLS, keyFile: String)
    {
        var certificateFile = flags.string("tls-cert-file")
        var keyFile = flags.string("tls-private-key-file")
        if certificateFile.isEmpty || keyFile.isEmpty {
            let files = try SelfSignedServingCertificate.ensure(
                certDirectory: flags.string("cert-dir"), hostNames: ["localhost"],
                ipAddresses: Array(Set([advertise, "127.0.0.1", serviceIP])))
            certificateFile = files.certificateFile
            keyFile = files.keyFile
            logger.info("Using self-signed serving certificate \(certificateFile)")
        }
        let clientCAFile = flags.string("client-ca-file")
        let files = ServingTLS.Files(
            certificate: certificateFile, key: keyFile, clientCA: clientCAFile.isEmpty ? nil : clientCAFile)
        return (try ServingTLS(files: files, logger: logger), keyFile)
    }

    /// The authenticators the flags enable. Service-account tokens are verified with `--service-account-key-file`
    /// and signed with `--service-account-signing-key-file`; when only a private key file is given (the guide
    /// passes `ca-key.pem`) it does both, and with neither the serving key does both, as upstream's defaults had it.
    static func authentication(_ flags: FlagSet, servingKeyFile: String, logger: Logger) async throws
        -> Authenticator.Configuration
    {
        var configuration = Authenticator.Configuration()
        configuration.anonymous = flags.bool("anonymous-auth")
        configuration.requestHeader = try requestHeaderAuthenticator(flags)
        configuration.bootstrapTokens = flags.bool("experimental-bootstrap-token-auth")
        let tokenFile = flags.string("token-auth-file")
        if !tokenFile.isEmpty {
            do {
                configuration.staticTokens = try TokenFile.load(path: tokenFile)
            } catch {
                throw fail(error.message)
            }
        }
        var verification: [ServiceAccountKey] = []
        for path in flags.string("service-account-key-file").split(separator: ",") {
            verification += try ServiceAccountKey.load(path: String(path))
        }
        var signing: ServiceAccountKey?
        let signingFile = flags.string("service-account-signing-key-file")
        if !signingFile.isEmpty {
            signing = try ServiceAccountKey.load(path: signingFile).first(where: \.isPrivate)
            guard signing != nil else {
                throw fail("--service-account-signing-key-file \(signingFile) holds no private key")
            }
        } else if let privateKey = verification.first(where: \.isPrivate) {
            signing = privateKey
        } else if verification.isEmpty {
            signing = try ServiceAccountKey.load(path: servingKeyFile).first(where: \.isPrivate)
        }
        let issuers = flags.string("service-account-issuer").split(separator: ",").map(String.init)
        let audiences = flags.string("api-audiences").split(separator: ",").map(String.init)
        let maxExpiration = try flags.duration("service-account-max-token-expiration")
        let maxSeconds = Int64(maxExpiration.components.seconds)
        configuration.serviceAccountTokens = try await ServiceAccountTokens(
            issuers: issuers, audiences: audiences, verificationKeys: verification, signingKey: signing,
            maxExpirationSeconds: maxSeconds > 0 ? maxSeconds : nil)
        if signing == nil { logger.warning("no service account signing key: TokenRequest is unavailable") }
        return configuration
    }
}
