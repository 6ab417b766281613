public import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The HTTPS endpoint every control-plane component serves on `--secure-port`: health probes and metrics,
/// over TLS with the given certificate or a self-signed one, HTTP/1.1.
///
/// Connections are served by one task per connection under a single task that owns the listener, so ``close()``
/// stops everything by closing the listener and cancelling that task.
public final class ComponentServer: Sendable {
    /// A connection as the pipeline hands it over: TLS done, HTTP/1.1 parts in and out.
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// The bound port, which differs from the configured one for ``ServingConfiguration/anyFreePort``.
    public let port: Int
    /// What new connections are served with.
    let tls: ServingTLSContext
    private let listener: any Channel
    /// Accepts and serves connections, and re-reads given certificate files.
    private let serving: Task<Void, Never>

    private init(port: Int, tls: ServingTLSContext, listener: any Channel, serving: Task<Void, Never>) {
        self.port = port
        self.tls = tls
        self.listener = listener
        self.serving = serving
    }

    /// Starts serving and returns once the port listens; nil when `--secure-port` is 0, which turns serving off.
    /// `/healthz` and `/livez` run `health`; `/readyz` runs `health` then `readiness`.
    public static func start(
        _ configuration: ServingConfiguration, health: HealthChecks, readiness: HealthChecks,
        metrics: @escaping @Sendable () -> String, logger: Logger
    ) async throws -> ComponentServer? {
        guard configuration.securePort != 0 else { return nil }
        guard
            configuration.securePort == ServingConfiguration.anyFreePort
                || (1...65535).contains(configuration.securePort)
        else {
            throw ServingError(
                message:
                    "--secure-port \(configuration.securePort) must be between 0 and 65535, inclusive. 0 for turning off secure port"
            )
        }
        let tls = try ServingTLSContext(configuration, logger: logger)
        let port = configuration.securePort == ServingConfiguration.anyFreePort ? 0 : configuration.securePort
        let listener = try await listen(configuration, port: port, tls: tls)
        let address = listener.channel.localAddress
        logger.info("Serving securely on \(address.map(display) ?? "\(configuration.bindAddress):\(port)")")
        let routes = ComponentRoutes(health: health, readiness: readiness, metrics: metrics, logger: logger)
        let serving = Task {
            await withDiscardingTaskGroup { group in
                if tls.followsFiles {
                    group.addTask { await tls.followFiles() }
                }
                await serve(listener, routes: routes, logger: logger)
                group.cancelAll()
            }
        }
        return ComponentServer(port: address?.port ?? port, tls: tls, listener: listener.channel, serving: serving)
    }

    /// Stops listening and closes every open connection; returns when all of them are gone.
    public func close() async {
        try? await listener.close()
        serving.cancel()
        await serving.value
    }

    /// Binds the listener. An unspecified address listens on `::` with IPv4 mapped in, as Go listens for
    /// kube-scheduler; a host without IPv6 falls back to `0.0.0.0`.
    private static func listen(_ configuration: ServingConfiguration, port: Int, tls: ServingTLSContext) async throws
        -> NIOAsyncChannel<Connection, Never>
    {
        // A fresh bootstrap per attempt: its options accumulate. It sets TCP_NODELAY on accepted connections itself.
        let bootstrap = {
            ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        }
        let bind = { (bootstrap: ServerBootstrap, host: String) in
            do {
                return try await bootstrap.bind(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(IdleConnectionCloser())
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.current))
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        return try Connection(wrappingChannelSynchronously: channel)
                    }
                }
            } catch {
                let address = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
                throw ServingError(message: "failed to create listener: failed to listen on \(address): \(error)")
            }
        }
        guard configuration.bindsEveryInterface else { return try await bind(bootstrap(), configuration.bindAddress) }
        let dualStack = bootstrap().serverChannelOption(
            ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only), value: 0)
        do {
            return try await bind(dualStack, "::")
        } catch {
            return try await bind(bootstrap(), "0.0.0.0")
        }
    }

    /// Accepts connections until the listener closes or the task is cancelled.
    private static func serve(_ listener: NIOAsyncChannel<Connection, Never>, routes: ComponentRoutes, logger: Logger)
        async
    {
        do {
            try await listener.executeThenClose { connections in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in connections {
                        group.addTask { await serve(connection, routes: routes, logger: logger) }
                    }
                }
            }
        } catch  where !Task.isCancelled {
            logger.error("Secure serving stopped: \(error)")
        } catch {}
    }

    /// Answers the requests of one connection in turn until the client or ``close()`` ends it.
    private static func serve(_ connection: Connection, routes: ComponentRoutes, logger: Logger) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                for try await part in inbound {
                    switch part {
                    case .head(let requestHead):
                        head = requestHead
                    case .body:
                        // No endpoint here reads a body; its parts stream past without being kept.
                        continue
                    case .end:
                        guard let request = head else { continue }
                        head = nil
                        let response = await routes.respond(to: request.uri)
                        try await write(response, answering: request, to: outbound)
                        guard request.isKeepAlive else { return }
                    }
                }
            }
        } catch {
            // Failed handshakes and resets are the client's doing; Go's server logs them only as noise.
            logger.trace("Secure serving connection ended: \(error)")
        }
    }

    private static func write(
        _ response: ComponentRoutes.Response, answering request: HTTPRequestHead,
        to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        let body = ByteBuffer(string: response.body)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        if !request.isKeepAlive {
            headers.add(name: "Connection", value: "close")
        } else if request.version == .http1_0 {
            headers.add(name: "Connection", value: "keep-alive")
        }
        try await outbound.write(
            .head(HTTPResponseHead(version: request.version, status: response.status, headers: headers)))
        if request.method != .HEAD { try await outbound.write(.body(.byteBuffer(body))) }
        try await outbound.write(.end(nil))
    }

    /// `host:port`, with IPv6 hosts bracketed as Go's net.JoinHostPort writes them.
    private static func display(_ address: SocketAddress) -> String {
        let host = address.ipAddress ?? "?"
        let port = address.port.map(String.init) ?? "?"
        return address.protocol == .inet6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
