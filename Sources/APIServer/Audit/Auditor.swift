import APIMachinery
import Foundation
import NIOConcurrencyHelpers
import NIOHTTP1

/// The audit flags, resolved: which policy decides the level and where events go.
public struct AuditConfiguration: Sendable {
    public var policy: AuditPolicy
    public var sink: any AuditSink

    public init(policy: AuditPolicy, sink: any AuditSink) {
        self.policy = policy
        self.sink = sink
    }
}

/// Upstream's WithAuditInit and WithAudit filters in one: every request gets an audit ID (echoed as the
/// `Audit-Id` header); when a backend is configured, the policy's level decides which events are written
/// — RequestReceived before the work, ResponseComplete after it, and ResponseStarted in between for
/// watches and other long-running requests, whose ResponseComplete comes when the stream ends.
final class Auditor: Sendable {
    let configuration: AuditConfiguration?
    let metrics: AuditMetrics?

    init(configuration: AuditConfiguration?, metrics: AuditMetrics?) {
        self.configuration = configuration
        self.metrics = metrics
    }

    /// Runs `next` as the audited request. `request.user` is the authenticated user.
    func audit(
        _ request: HTTPRequest, info: RequestInfo?, next: (HTTPRequest) async -> HTTPResponse
    ) async -> HTTPResponse {
        let received = AuditEvent.nowMicros()
        let auditID = Self.auditID(request)
        guard let configuration else { return Self.withAuditID(await next(request), auditID) }
        let attributes = Self.attributes(request, info: info)
        let decision = configuration.policy.evaluate(attributes)
        guard decision.level > .none else { return Self.withAuditID(await next(request), auditID) }

        var event = Self.event(
            request, info: info, attributes: attributes, auditID: auditID, level: decision.level, received: received)
        event.omitManagedFields = decision.omitManagedFields
        emit(event, omitting: decision.omitStages)

        let context = AuditContext(auditID: auditID, level: decision.level)
        let response = await AuditContext.$current.withValue(context) { await next(request) }
        event.annotations = context.annotations
        event.impersonatedUser = context.impersonatedUser
        event.responseStatus = AuditEvent.ResponseStatus(code: Int(response.status.code))
        switch response.body {
        case .bytes, .chunked:
            var response = response
            // A list encoded as it is written is made whole only when its object is logged.
            if case .chunked(let chunks) = response.body, decision.level >= .requestResponse {
                response.body = .bytes(chunks.collect())
            }
            let body: [UInt8]
            if case .bytes(let bytes) = response.body { body = bytes } else { body = [] }
            record(response: response, body: body, request: request, info: info, into: &event)
            event.stage = .responseComplete
            event.stageTimestamp = AuditEvent.nowMicros()
            emit(event, omitting: decision.omitStages)
            return Self.withAuditID(response, auditID)
        case .stream(let chunks):
            event.stage = .responseStarted
            event.stageTimestamp = AuditEvent.nowMicros()
            emit(event, omitting: decision.omitStages)
            var streamed = response
            let omitted = decision.omitStages
            let started = event
            streamed.body = .stream(
                Self.observing(chunks) { [self] in
                    var completed = started
                    completed.annotations = context.annotations
                    completed.stage = .responseComplete
                    completed.stageTimestamp = AuditEvent.nowMicros()
                    emit(completed, omitting: omitted)
                })
            return Self.withAuditID(streamed, auditID)
        }
    }

    /// Upstream's WithFailedAuthenticationAudit: one ResponseStarted event, with no user, saying which
    /// credentials were tried.
    func failedAuthentication(_ request: HTTPRequest, response: HTTPResponse) -> HTTPResponse {
        let received = AuditEvent.nowMicros()
        let auditID = Self.auditID(request)
        guard let configuration else { return Self.withAuditID(response, auditID) }
        var unauthenticated = request
        unauthenticated.user = nil
        let info = RequestInfo(method: request.method, path: request.path, query: request.query)
        let attributes = Self.attributes(unauthenticated, info: info)
        let decision = configuration.policy.evaluate(attributes)
        guard decision.level > .none else { return Self.withAuditID(response, auditID) }
        var event = Self.event(
            unauthenticated, info: info, attributes: attributes, auditID: auditID, level: decision.level,
            received: received)
        event.stage = .responseStarted
        event.stageTimestamp = AuditEvent.nowMicros()
        event.responseStatus = AuditEvent.ResponseStatus(
            code: Int(response.status.code), message: Self.authenticationMethods(request))
        emit(event, omitting: decision.omitStages)
        return Self.withAuditID(response, auditID)
    }

    private func emit(_ event: AuditEvent, omitting omitted: Set<AuditStage>) {
        guard let configuration, !omitted.contains(event.stage) else { return }
        metrics?.events.increment()
        configuration.sink.process(event)
    }

    /// Fills in what the response and, at higher levels, the bodies add to the event.
    private func record(
        response: HTTPResponse, body: [UInt8], request: HTTPRequest, info: RequestInfo?, into event: inout AuditEvent
    ) {
        let code = Int(response.status.code)
        let isProtobuf = KubernetesProtobuf.isProtobuf(contentType: response.headers.first(name: "Content-Type") ?? "")
        let decoded = code >= 300 ? AuditEvent.RequestBody(bytes: body, isProtobuf: isProtobuf).decoded() : nil
        // A Status body's bounded fields are kept, as upstream's LogResponseObject does.
        if let status = decoded, status["kind"]?.stringValue == "Status" {
            event.responseStatus = AuditEvent.ResponseStatus(
                code: Int(status["code"]?.intValue ?? Int64(code)), status: status["status"]?.stringValue ?? "",
                message: status["message"]?.stringValue ?? "", reason: status["reason"]?.stringValue ?? "",
                details: status["details"])
        }
        guard info != nil else { return }
        // The writer decodes the body: for the object reference of creates and updates, and as requestObject.
        if !request.body.isEmpty, event.level >= .request || ["create", "update"].contains(event.verb) {
            event.requestBody = AuditEvent.RequestBody(
                bytes: request.body,
                isProtobuf: KubernetesProtobuf.isProtobuf(contentType: request.header("Content-Type") ?? ""))
        }
        if event.level >= .requestResponse, !body.isEmpty {
            event.responseObject = body
            event.responseIsProtobuf = isProtobuf
        }
    }

    static func withAuditID(_ response: HTTPResponse, _ auditID: String) -> HTTPResponse {
        var response = response
        if response.headers.first(name: "Audit-Id") == nil { response.headers.add(name: "Audit-Id", value: auditID) }
        return response
    }

    /// The client's `Audit-ID` header when it sent one, else a new random UUID.
    static func auditID(_ request: HTTPRequest) -> String {
        if let given = request.header("Audit-ID"), !given.isEmpty { return given }
        return RandomIdentifiers.uuid()
    }

    static func attributes(_ request: HTTPRequest, info: RequestInfo?) -> AuditAttributes {
        guard let info else {
            return AuditAttributes(
                user: request.user, verb: request.method.rawValue.lowercased(), isResourceRequest: false,
                path: request.path)
        }
        return AuditAttributes(
            user: request.user, verb: info.verb, isResourceRequest: true, apiGroup: info.group,
            resource: info.resource, subresource: info.subresource ?? "", namespace: info.namespace ?? "",
            name: info.name ?? "", path: request.path)
    }

    static func event(
        _ request: HTTPRequest, info: RequestInfo?, attributes: AuditAttributes, auditID: String, level: AuditLevel,
        received: Int64
    ) -> AuditEvent {
        var objectRef: AuditEvent.ObjectReference?
        if let info {
            objectRef = AuditEvent.ObjectReference(
                resource: info.resource, namespace: info.namespace ?? "", name: info.name ?? "",
                apiGroup: info.group, apiVersion: info.version, subresource: info.subresource ?? "")
        }
        return AuditEvent(
            level: level, auditID: auditID, stage: .requestReceived, requestURI: request.uri, verb: attributes.verb,
            user: request.user, sourceIPs: sourceIPs(request), userAgent: userAgent(request), objectRef: objectRef,
            requestReceivedTimestamp: received, stageTimestamp: received)
    }

    /// Upstream keeps the first 1024 bytes of a long User-Agent.
    static func userAgent(_ request: HTTPRequest) -> String {
        let agent = request.header("User-Agent") ?? ""
        guard agent.utf8.count > 1024 else { return agent }
        return String(decoding: agent.utf8.prefix(1024), as: UTF8.self) + "...TRUNCATED"
    }

    /// As upstream's utilnet.SourceIPs: X-Forwarded-For's addresses, X-Real-Ip, then the peer's address.
    static func sourceIPs(_ request: HTTPRequest) -> [String] {
        var addresses: [String] = []
        if let forwarded = request.header("X-Forwarded-For") {
            for part in forwarded.split(separator: ",") {
                if let address = canonicalIP(part.trimmingCharacters(in: .whitespaces)) { addresses.append(address) }
            }
        }
        if let real = request.header("X-Real-Ip").flatMap(canonicalIP), !addresses.contains(real) {
            addresses.append(real)
        }
        if let remote = canonicalIP(request.remoteAddress), addresses.last != remote { addresses.append(remote) }
        return addresses
    }

    /// The address in its canonical text form, or nil when it is not an IP address.
    static func canonicalIP(_ text: String) -> String? {
        var v4 = in_addr()
        var v6 = in6_addr()
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        if inet_pton(AF_INET, text, &v4) == 1 {
            guard inet_ntop(AF_INET, &v4, &buffer, socklen_t(buffer.count)) != nil else { return nil }
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            guard inet_ntop(AF_INET6, &v6, &buffer, socklen_t(buffer.count)) != nil else { return nil }
        } else {
            return nil
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Upstream's getAuthMethods: which credentials a request that failed authentication carried.
    static func authenticationMethods(_ request: HTTPRequest) -> String {
        var methods: [String] = []
        let authorization = (request.header("Authorization") ?? "").trimmingCharacters(in: .whitespaces)
        let parts = authorization.split(separator: " ", omittingEmptySubsequences: false)
        if parts.first?.lowercased() == "basic", parts.count > 1 { methods.append("basic") }
        if parts.count > 1, parts[0].lowercased() == "bearer" { methods.append("bearer") }
        if let token = request.query["access_token"], !token.trimmingCharacters(in: .whitespaces).isEmpty {
            methods.append("access_token")
        }
        if request.clientCertificate != .none { methods.append("x509") }
        return methods.isEmpty
            ? "Authentication failed, no credentials provided"
            : "Authentication failed, attempted: " + methods.joined(separator: ", ")
    }

    /// Passes a stream's chunks through one at a time (so backpressure is unchanged) and calls `completed`
    /// once when it ends, is cancelled, or is dropped unfinished.
    static func observing(
        _ chunks: AsyncStream<[UInt8]>, completed: @escaping @Sendable () -> Void
    ) -> AsyncStream<[UInt8]> {
        let source = StreamSource(chunks.makeAsyncIterator(), completion: OnceAction(completed))
        return AsyncStream(
            unfolding: { await source.next() },
            onCancel: { source.completion.run() })
    }
}

extension AuditEvent.ObjectReference {
    /// Takes namespace, name, uid and resourceVersion from the request's object where the URL gave none.
    mutating func fillEmpty(from object: JSON) {
        if namespace.isEmpty { namespace = object.namespace ?? "" }
        if name.isEmpty { name = object.name ?? "" }
        if uid.isEmpty { uid = object.uid ?? "" }
        if resourceVersion.isEmpty { resourceVersion = object.resourceVersion ?? "" }
    }
}

/// An action that runs at most once: on demand, or when the last reference goes away.
final class OnceAction: Sendable {
    private let action: NIOLockedValueBox<(@Sendable () -> Void)?>

    init(_ action: @escaping @Sendable () -> Void) { self.action = NIOLockedValueBox(action) }

    func run() {
        let action = self.action.withLockedValue { action in
            defer { action = nil }
            return action
        }
        action?()
    }

    deinit { run() }
}

/// The wrapped stream's iterator. Only the one consumer of the outer stream calls `next`, one call at a time.
private final class StreamSource: @unchecked Sendable {
    private var iterator: AsyncStream<[UInt8]>.Iterator
    let completion: OnceAction

    init(_ iterator: AsyncStream<[UInt8]>.Iterator, completion: OnceAction) {
        self.iterator = iterator
        self.completion = completion
    }

    func next() async -> [UInt8]? {
        guard let chunk = await iterator.next() else {
            completion.run()
            return nil
        }
        return chunk
    }
}
