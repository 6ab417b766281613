import Foundation
public import NIOCore
import NIOHPACK
public import NIOPosix
import NIOSSL

/// A client for the Kubernetes REST API over TLS and HTTP/2: every request is a stream on a shared
/// connection (or on a small pool of them), so hundreds of requests can be in flight at once. An `http://`
/// server gets plain HTTP/1.1 instead, one request per connection at a time, as Go's client.
public final class RESTClient: Sendable {
    /// The configuration the client was made with.
    public let configuration: ClientConfiguration
    let pool: ConnectionPool
    private let group: any EventLoopGroup
    /// Headers every request carries, after the pseudo-headers.
    private let commonHeaders: [(name: String, value: String, secret: Bool)]
    /// The bearer token when it comes from a file that may be rotated.
    private let tokenFile: FileTokenSource?
    /// The bearer token when its owner replaces it while the client runs.
    private let dynamicToken: DynamicToken?
    private let requestTimeout: TimeAmount?
    /// Rate limiting and retries around every request.
    private let retrier: RequestRetrier

    /// A client for `configuration`; nothing connects until the first request.
    /// `timeSource` paces client-side rate limiting and retries (`FakeTime` in tests).
    public convenience init(
        configuration: ClientConfiguration, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        timeSource: any TimeSource = SystemTime()
    ) throws {
        try self.init(configuration: configuration, eventLoopGroup: eventLoopGroup, pool: nil, timeSource: timeSource)
    }

    /// A client for `configuration` that sends its requests over the connections of the first of `clients`
    /// that reaches the same server with the same TLS identity (server, CA, client certificate), as client-go's
    /// transport cache shares one connection among clients that differ only in bearer token, user agent or
    /// rate limits; with no such client it connects on its own. Each such client keeps its own credentials and
    /// rate limit; the connections close when the last client sharing them shuts down.
    public convenience init(
        configuration: ClientConfiguration, sharingConnectionsWith clients: [RESTClient],
        timeSource: any TimeSource = SystemTime()
    ) throws {
        let match = clients.first { $0.configuration.sameTransport(as: configuration) && $0.pool.retain() }
        try self.init(
            configuration: configuration, eventLoopGroup: match?.group ?? MultiThreadedEventLoopGroup.singleton,
            pool: match?.pool, timeSource: timeSource)
    }

    private init(
        configuration: ClientConfiguration, eventLoopGroup: any EventLoopGroup, pool shared: ConnectionPool?,
        timeSource: any TimeSource
    ) throws {
        self.configuration = configuration
        self.group = eventLoopGroup
        retrier = RequestRetrier(
            rateLimiter: RequestRateLimiter(configuration: configuration, timeSource: timeSource),
            timeSource: timeSource)
        // A client that shares another's pool needs no TLS context of its own.
        pool = try shared ?? Self.makePool(configuration, group: eventLoopGroup)
        var common: [(name: String, value: String, secret: Bool)] = [("user-agent", configuration.userAgent, false)]
        tokenFile = configuration.bearerTokenFile.map {
            FileTokenSource(path: $0, initial: configuration.bearerToken, timeSource: timeSource)
        }
        dynamicToken = configuration.dynamicToken
        // A token file's or a dynamic token goes on each request, since it may be replaced under us.
        if tokenFile == nil && dynamicToken == nil {
            if let token = configuration.bearerToken {
                common.append(("authorization", "Bearer \(token)", true))
            } else if let user = configuration.basicAuthUser {
                let credentials = Data("\(user):\(configuration.basicAuthPassword ?? "")".utf8).base64EncodedString()
                common.append(("authorization", "Basic \(credentials)", true))
            }
        }
        commonHeaders = common
        requestTimeout = configuration.requestTimeout.map(TimeAmount.init)
    }

    /// A client for the current (or named) context of the kubeconfig at `kubeconfigPath`.
    public convenience init(kubeconfigPath: String, context: String? = nil) throws {
        try self.init(configuration: ClientConfiguration.load(kubeconfigPath: kubeconfigPath, context: context))
    }

    /// HTTP/2 connections opened so far, reconnects included; one while a single connection stays healthy.
    public var connectionsOpened: Int { pool.connectionsOpened }

    /// Closes the connections (once no other client shares them); requests after this fail with
    /// `ClientError.shutdown` unless they share connections another client still uses.
    public func shutdown() async {
        await pool.release()
    }

    /// A pool of connections to `configuration`'s server, with its TLS identity.
    private static func makePool(_ configuration: ClientConfiguration, group: any EventLoopGroup) throws
        -> ConnectionPool
    {
        let tls = try NIOSSLContext(configuration: Self.tlsConfiguration(configuration))
        let host = configuration.host
        let port = configuration.port
        let serverHostname = configuration.tlsServerName ?? (configuration.hostIsIPAddress ? nil : host)
        let connectTimeout = TimeAmount(configuration.connectTimeout)
        let usesTLS = configuration.usesTLS
        return ConnectionPool(size: configuration.connections, group: group) { eventLoop in
            guard usesTLS else {
                return eventLoop.makeSucceededFuture(
                    PlainHTTPConnections(host: host, port: port, connectTimeout: connectTimeout, eventLoop: eventLoop))
            }
            return HTTP2Connection.connect(
                host: host, port: port, serverHostname: serverHostname, tls: tls, connectTimeout: connectTimeout,
                eventLoop: eventLoop
            ).map { $0 }
        }
    }

    static func tlsConfiguration(_ configuration: ClientConfiguration) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let roots = configuration.trustRootsPEM {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(roots))
        }
        if configuration.insecureSkipTLSVerify { tls.certificateVerification = .none }
        if let certificate = configuration.clientCertificatePEM, let key = configuration.clientKeyPEM {
            tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(certificate).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
        }
        tls.applicationProtocols = ["h2"]
        return tls
    }

    // MARK: Requests

    /// Sends `request` and returns the answer whatever its status. It first waits for a token of the
    /// client-side rate limit (`qps`, `burst`). A request whose stream never opened is sent again on a
    /// fresh connection; a 429 or 5xx with `Retry-After` is sent again after that delay, up to 10 times;
    /// GET, HEAD, PUT and DELETE are also retried, with backoff, when the connection dies before the answer.
    public func send(_ request: Request) async throws -> Response {
        try await perform(request, consumer: nil, timeout: requestTimeout)
    }

    /// GET; a non-2xx answer throws `StatusError`.
    public func get(path: String, query: Query = [:]) async throws -> Response {
        try await checked(Request(method: .get, path: path, query: query))
    }

    /// POST (create); a non-2xx answer throws `StatusError`.
    public func post(path: String, query: Query = [:], body: [UInt8], contentType: String = "application/json")
        async throws -> Response
    {
        try await checked(Request(method: .post, path: path, query: query, body: body, contentType: contentType))
    }

    /// PUT (update or replace); a non-2xx answer throws `StatusError`.
    public func put(path: String, query: Query = [:], body: [UInt8], contentType: String = "application/json")
        async throws -> Response
    {
        try await checked(Request(method: .put, path: path, query: query, body: body, contentType: contentType))
    }

    /// PATCH with the content type naming the patch format; a non-2xx answer throws `StatusError`.
    public func patch(path: String, query: Query = [:], body: [UInt8], contentType: String) async throws -> Response {
        try await checked(Request(method: .patch, path: path, query: query, body: body, contentType: contentType))
    }

    /// DELETE, optionally with `DeleteOptions` as the body; a non-2xx answer throws `StatusError`.
    public func delete(
        path: String, query: Query = [:], body: [UInt8]? = nil, contentType: String = "application/json"
    ) async throws -> Response {
        try await checked(
            Request(method: .delete, path: path, query: query, body: body, contentType: body == nil ? nil : contentType)
        )
    }

    private func checked(_ request: Request) async throws -> Response {
        let response = try await send(request)
        guard response.isSuccess else { throw StatusError(response: response) }
        return response
    }

    /// The stream never opened, so the server never saw the request.
    private struct NotSent: Error {
        var underlying: any Error
    }

    /// Sends with the retry rules of `send`; with a consumer, returns at the 2xx head and streams the body.
    func perform(_ request: Request, consumer: (any StreamBodyConsumer)?, timeout: TimeAmount?) async throws
        -> Response
    {
        let headers = try requestHeaders(request)
        var body: ByteBuffer?
        if let bytes = request.body { body = ByteBuffer(bytes: bytes) }
        // A streamed response is a watch, which client-go does not rate-limit: it is one long request.
        return try await retrier.run(request, throttled: consumer == nil) {
            try await performReopening(headers: headers, body: body, consumer: consumer, timeout: timeout)
        }
    }

    /// One attempt, sent again (any verb) while the stream never opens, since the server never saw it then.
    private func performReopening(
        headers: HPACKHeaders, body: ByteBuffer?, consumer: (any StreamBodyConsumer)?, timeout: TimeAmount?
    ) async throws -> Response {
        for attempt in 1... {
            do {
                return try await performOnce(headers: headers, body: body, consumer: consumer, timeout: timeout)
            } catch let error as NotSent {
                // Bounded: a server that keeps refusing streams should surface, not spin.
                if attempt >= 3 || Task.isCancelled { throw error.underlying }
            }
        }
        throw ClientError.connectionClosed
    }

    private func performOnce(
        headers: HPACKHeaders, body: ByteBuffer?, consumer: (any StreamBodyConsumer)?, timeout: TimeAmount?
    ) async throws -> Response {
        let connection: any PooledConnection
        do {
            connection = try await pool.connection().get()
        } catch let error as ClientError where error == .connectionClosed {
            throw NotSent(underlying: error)
        }
        let response = connection.eventLoop.makePromise(of: Response.self)
        let stream = connection.openStream(
            headers: headers, body: body, response: response, consumer: consumer, timeout: timeout)
        return try await withTaskCancellationHandler {
            do {
                return try await response.futureResult.get()
            } catch let error as StreamNotOpened {
                throw NotSent(underlying: error.underlying)
            } catch {
                if Task.isCancelled { throw CancellationError() }
                throw error
            }
        } onCancel: {
            // Resets the stream; the handler then fails the promise.
            stream.cancel()
        }
    }

    private func requestHeaders(_ request: Request) throws(ClientError) -> HPACKHeaders {
        guard request.path.hasPrefix("/") else {
            throw .invalidConfiguration("request path \"\(request.path)\" must start with /")
        }
        guard !request.path.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "?") }) else {
            throw .invalidConfiguration("request path \"\(request.path)\" has spaces, controls or a query")
        }
        var target = configuration.basePath + request.path
        let query = request.query.encoded
        if !query.isEmpty { target += "?" + query }
        var headers = HPACKHeaders()
        headers.reserveCapacity(8 + request.headers.count)
        headers.add(name: ":method", value: request.method.rawValue)
        headers.add(name: ":scheme", value: configuration.usesTLS ? "https" : "http")
        headers.add(name: ":authority", value: configuration.authority)
        headers.add(name: ":path", value: target)
        for header in commonHeaders {
            headers.add(name: header.name, value: header.value, indexing: header.secret ? .neverIndexed : .indexable)
        }
        if let token = dynamicToken?.value ?? tokenFile?.token {
            headers.add(name: "authorization", value: "Bearer \(token)", indexing: .neverIndexed)
        }
        var hasAccept = false
        for header in request.headers {
            let name = header.name.lowercased()
            hasAccept = hasAccept || name == "accept"
            headers.add(name: name, value: header.value)
        }
        if !hasAccept { headers.add(name: "accept", value: "application/json") }
        if let body = request.body {
            headers.add(name: "content-type", value: request.contentType ?? "application/json")
            headers.add(name: "content-length", value: String(body.count))
        }
        return headers
    }
}

extension TimeAmount {
    /// Nanosecond precision, saturating at Int64's range.
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        self = .nanoseconds(overflow ? (seconds < 0 ? .min : .max) : scaled &+ attoseconds / 1_000_000_000)
    }
}
