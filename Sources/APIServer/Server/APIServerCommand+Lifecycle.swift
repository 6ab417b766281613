import APIMachinery
import Component
import Foundation
public import Logging
import NIOCore
import NIOPosix

extension APIServerCommand {
    /// The flags for the endpoint reconciler, graceful shutdown and the plain local port, with upstream's names
    /// and defaults (the plain port's default is off, where upstream's was 8080 until 1.24 removed it).
    static let lifecycleFlags: [FlagDefinition] = [
        FlagDefinition(
            "endpoint-reconciler-type", default: EndpointReconcilerType.lease.rawValue,
            usage: "Use an endpoint reconciler (master-count, lease, none)"),
        FlagDefinition(
            "apiserver-count", default: "1",
            usage: "The number of apiservers running in the cluster (with --endpoint-reconciler-type=master-count)"),
        FlagDefinition(
            "shutdown-delay-duration", default: "0s",
            usage: "Time to keep serving after SIGTERM while /readyz fails, so load balancers stop sending requests"),
        FlagDefinition(
            "shutdown-watch-termination-grace-period", default: "0s",
            usage: "How long watches may keep running once the listener closed before they are ended"),
        FlagDefinition(
            "insecure-port", aliases: ["port"], default: "0",
            usage: "Plain HTTP port without authentication or authorization, on a loopback address only; 0 is off"),
        FlagDefinition(
            "insecure-bind-address", aliases: ["address"], default: "127.0.0.1",
            usage: "Loopback address the --insecure-port listens on"),
    ]

    /// What the plain local port authenticates every request as, as upstream's insecure handler did.
    static let unsecuredUser = UserInfo(name: "system:unsecured", groups: ["system:masters", "system:authenticated"])

    /// The parts of a running server that shutdown drives.
    public struct Lifecycle: Sendable {
        /// The plain local port, when `--insecure-port` asks for it.
        public let plainServer: HTTPServer?
        let kubernetesService: KubernetesServiceController
        let reconciling: Task<Void, Never>
        let options: LifecycleOptions
    }

    /// The lifecycle flags, read and checked before anything starts.
    struct LifecycleOptions: Sendable {
        var reconcilerType: EndpointReconcilerType
        var masterCount: Int
        var shutdownDelay: Duration
        var watchGracePeriod: Duration
        /// `--request-timeout`: how long requests in flight may take to finish once the listener closed.
        var requestGracePeriod: Duration
        /// `--insecure-bind-address` and `--insecure-port`, when the port is asked for.
        var plainPort: (address: String, port: Int)?
        /// APIResponseCompression, which the plain port follows as the secure one does.
        var compressResponses: Bool

        init(_ flags: FlagSet) throws {
            compressResponses = try FeatureGates(flags).apiResponseCompression
            let typeName = flags.string("endpoint-reconciler-type")
            guard let type = EndpointReconcilerType(rawValue: typeName) else {
                throw fail(
                    "invalid value \"\(typeName)\" for --endpoint-reconciler-type: must be one of master-count, lease, none"
                )
            }
            reconcilerType = type
            masterCount = try flags.int("apiserver-count")
            guard masterCount > 0 else {
                throw fail("--apiserver-count should be a positive number, but value '\(masterCount)' provided")
            }
            shutdownDelay = try Self.duration(flags, "shutdown-delay-duration")
            watchGracePeriod = try Self.duration(flags, "shutdown-watch-termination-grace-period")
            requestGracePeriod = try Self.duration(flags, "request-timeout")
            let port = try flags.int("insecure-port")
            guard (0...65535).contains(port) else {
                throw fail(
                    "--insecure-port \(port) must be between 0 and 65535, inclusive. 0 for turning off insecure port")
            }
            let address = flags.string("insecure-bind-address")
            // Whoever reaches the plain port owns the cluster: it may listen on this host's loopback only.
            guard port == 0 || APIServerCommand.isLoopback(address) else {
                throw fail(
                    "--insecure-bind-address \(address) is not a loopback address: the insecure port serves every request without authentication or authorization, so it listens only on 127.0.0.0/8 or ::1"
                )
            }
            plainPort = port == 0 ? nil : (address, port)
        }

        /// A duration flag that may not be negative, as upstream validates the shutdown settings.
        private static func duration(_ flags: FlagSet, _ name: String) throws -> Duration {
            let value = try flags.duration(name)
            guard value >= .zero else { throw fail("--\(name) can not be negative value") }
            return value
        }
    }

    /// Starts the kubernetes Service's endpoint reconciler (its first pass done before returning) and the plain
    /// local port; `securePort` is the port bound, which differs from the flag's for port 0.
    static func startLifecycle(
        _ options: LifecycleOptions, apiServer: APIServer, advertise: String, securePort: Int, logger: Logger,
        group: any EventLoopGroup
    ) async throws -> Lifecycle {
        var configuration = KubernetesServiceController.Configuration(
            type: options.reconcilerType, advertiseAddress: advertise, port: securePort)
        configuration.masterCount = options.masterCount
        let controller = KubernetesServiceController(apiServer: apiServer, configuration: configuration, logger: logger)
        do {
            try await controller.renewAndReconcile()
        } catch {
            logger.warning("Unable to reconcile the kubernetes service endpoints: \(error)")
        }
        let reconciling = Task {
            try? await Task.sleep(for: configuration.interval)
            await controller.run()
        }
        var plain: HTTPServer?
        if let (address, port) = options.plainPort {
            let server = try await HTTPServer.startPlain(
                host: address, port: port, user: unsecuredUser, responder: apiServer, group: group,
                compressResponses: options.compressResponses)
            logger.warning(
                "The insecure port serves every request as system:unsecured in system:masters, without authentication or authorization"
            )
            let host = address.contains(":") ? "[\(address)]" : address
            logger.info("Serving insecurely on \(host):\(server.localAddress?.port ?? port)")
            plain = server
        }
        return Lifecycle(plainServer: plain, kubernetesService: controller, reconciling: reconciling, options: options)
    }

    /// True for IPv4 127.0.0.0/8 and IPv6 ::1, by their bytes so every spelling counts alike.
    static func isLoopback(_ address: String) -> Bool {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, address, &v6) == 1 else { return false }
        return withUnsafeBytes(of: &v6) { bytes in bytes.dropLast().allSatisfy { $0 == 0 } && bytes.last == 1 }
    }
}

extension APIServerCommand.Running {
    /// Serves until SIGTERM or SIGINT, then shuts down gracefully as upstream's server does; returns when done.
    public func serveUntilTerminated(logger: Logger) async {
        let (signals, continuation) = AsyncStream<Void>.makeStream()
        let watcher = SignalWatcher { continuation.yield() }
        defer { watcher.cancel() }
        for await _ in signals { break }
        await shutdown(logger: logger)
    }

    /// The graceful shutdown: systemd hears STOPPING=1, `/readyz` fails and this server leaves the `kubernetes`
    /// endpoints at once; after `--shutdown-delay-duration` the listeners close, watches end cleanly (after
    /// `--shutdown-watch-termination-grace-period`) and requests in flight finish (within `--request-timeout`).
    public func shutdown(logger: Logger) async {
        // Readiness fails before systemd hears of it, so whoever watches the unit sees them in that order.
        apiServer.shutdown.signal()
        SystemdNotify.stopping()
        logger.info("[graceful-termination] shutdown event received; /readyz now fails")
        lifecycle.reconciling.cancel()
        let options = lifecycle.options
        async let removed: Void = lifecycle.kubernetesService.removeEndpoints()
        try? await Task.sleep(for: options.shutdownDelay)
        await removed
        logger.info("[graceful-termination] not accepting new connections; draining requests in flight")
        async let plain: Void? = lifecycle.plainServer?.shutdown(
            watchGracePeriod: options.watchGracePeriod, requestGracePeriod: options.requestGracePeriod)
        await server.shutdown(
            watchGracePeriod: options.watchGracePeriod, requestGracePeriod: options.requestGracePeriod)
        _ = await plain
        logger.info("[graceful-termination] apiserver is exiting")
    }
}
