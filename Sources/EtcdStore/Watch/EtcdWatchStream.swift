import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Storage
import SwiftProtobuf

/// One multiplexed etcd Watch stream per client, as etcd's Go client keeps one per connection: every
/// `watch` is a registration on it, and the stream is reopened on the current member when it breaks.
final class EtcdWatchStream: Sendable {
    typealias Continuation = AsyncThrowingStream<WatchUpdate, any Error>.Continuation

    private struct State {
        var machine = WatchStreamStateMachine()
        var continuations: [Int64: Continuation] = [:]
        var call: GRPCCallStream?
        var nextID: Int64 = 1
        var closed = false
    }

    private let client: EtcdClient
    private let state = NIOLockedValueBox(State())

    init(client: EtcdClient) { self.client = client }

    static let path = "/etcdserverpb.Watch/Watch"

    func watch(start: String, end: String?, afterRevision: Revision, progressNotify: Bool) -> AsyncThrowingStream<
        WatchUpdate, any Error
    > {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: WatchUpdate.self)
        let (id, actions) = state.withLockedValue { state -> (Int64, [WatchStreamStateMachine.Action]) in
            if state.closed {
                continuation.finish(throwing: StorageError.unavailable("etcd store is closed"))
                return (0, [])
            }
            let id = state.nextID
            state.nextID += 1
            state.continuations[id] = continuation
            return (
                id,
                state.machine.register(
                    id: id, start: start, end: end, afterRevision: afterRevision, progressNotify: progressNotify)
            )
        }
        guard id != 0 else { return stream }
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            let actions = self.state.withLockedValue { state in
                state.continuations[id] = nil
                return state.machine.cancel(id: id)
            }
            self.perform(actions)
        }
        perform(actions)
        return stream
    }

    /// Ends every watch with `.unavailable` and closes the stream.
    func close() {
        let (continuations, call) = state.withLockedValue { state in
            state.closed = true
            defer { state.continuations = [:] }
            return (state.continuations, state.call)
        }
        for continuation in continuations.values {
            continuation.finish(throwing: StorageError.unavailable("etcd store is closed"))
        }
        call?.cancel()
    }

    private func perform(_ actions: [WatchStreamStateMachine.Action]) {
        for action in actions {
            switch action {
            case .openStream(let generation):
                Task { await self.open(generation: generation) }
            case .reopenAfterBackoff(let failures):
                Task {
                    try? await Task.sleep(for: .milliseconds(min(50 << min(failures - 1, 5), 2000)))
                    self.perform(self.state.withLockedValue { $0.machine.backoffElapsed() })
                }
            case .create(let id, let registration):
                var create = Etcdserverpb_WatchCreateRequest()
                create.key = EtcdStore.rangeStart(registration.start)
                if let end = registration.end, !end.isEmpty { create.rangeEnd = Data(end.utf8) }
                create.startRevision = registration.nextRevision
                create.prevKv = true
                create.progressNotify = true
                create.watchID = id
                var request = Etcdserverpb_WatchRequest()
                request.createRequest = create
                send(request)
            case .cancel(let id):
                var cancel = Etcdserverpb_WatchCancelRequest()
                cancel.watchID = id
                var request = Etcdserverpb_WatchRequest()
                request.cancelRequest = cancel
                send(request)
            case .deliver(let id, let events):
                guard let continuation = state.withLockedValue({ $0.continuations[id] }) else { continue }
                for event in events { continuation.yield(.event(event)) }
            case .progress(let id, let revision):
                state.withLockedValue { $0.continuations[id] }?.yield(.progress(revision))
            case .fail(let id, let error):
                let continuation = state.withLockedValue { $0.continuations.removeValue(forKey: id) }
                continuation?.finish(throwing: error)
            }
        }
    }

    private func send(_ request: Etcdserverpb_WatchRequest) {
        guard let call = state.withLockedValue({ $0.call }),
            let bytes = try? request.serializedBytes() as [UInt8]
        else { return }
        call.send(ByteBuffer(bytes: bytes))
    }

    private func open(generation: Int) async {
        do {
            let connection = try await client.connection(slot: 0)
            let observer = WatchStreamObserver(owner: self, generation: generation, connection: connection)
            // etcd's WithRequireLeader: a member cut off from the leader ends the stream instead of going quiet.
            // A stream that fails at once tells the observer, which moves the machine past this generation.
            let call = connection.openCall(
                path: Self.path, unary: false, timeout: nil, metadata: [("hasleader", "true")], observer: observer)
            let actions = state.withLockedValue { state -> [WatchStreamStateMachine.Action] in
                if state.closed { return [] }
                state.call = call
                return state.machine.streamOpened(generation: generation)
            }
            if state.withLockedValue({ $0.closed }) { call.cancel() }
            perform(actions)
        } catch {
            client.logger.debug("etcd watch stream could not be opened: \(error)")
            streamEnded(generation: generation)
        }
    }

    fileprivate func received(_ message: ByteBuffer, generation: Int) {
        guard let response = try? Etcdserverpb_WatchResponse(serializedBytes: Array(message.readableBytesView)) else {
            return
        }
        let summary = WatchResponseSummary(response)
        perform(state.withLockedValue { $0.machine.received(summary, generation: generation) })
    }

    fileprivate func streamEnded(generation: Int) {
        perform(
            state.withLockedValue { state in
                if state.closed { return [] }
                return state.machine.streamFailed(generation: generation)
            })
    }

    fileprivate func streamFailed(_ error: GRPCStatusError?, generation: Int, connection: GRPCConnection) {
        if let error, error.code == .unavailable, error.message.contains("no leader") {
            client.abandon(connection, because: error)
        }
        if let error { client.logger.info("etcd watch stream ended, resuming: \(error.message)") }
        streamEnded(generation: generation)
    }
}

/// Feeds one Watch stream's responses to its `EtcdWatchStream`.
private final class WatchStreamObserver: GRPCCallObserver {
    private weak let owner: EtcdWatchStream?
    private let generation: Int
    private let connection: GRPCConnection

    init(owner: EtcdWatchStream, generation: Int, connection: GRPCConnection) {
        self.owner = owner
        self.generation = generation
        self.connection = connection
    }

    func received(_ message: ByteBuffer) { owner?.received(message, generation: generation) }

    func finished(_ error: GRPCStatusError?) {
        owner?.streamFailed(error, generation: generation, connection: connection)
    }
}

extension WatchResponseSummary {
    init(_ response: Etcdserverpb_WatchResponse) {
        self.init(watchID: response.watchID, headerRevision: response.header.revision)
        created = response.created
        canceled = response.canceled
        compactRevision = response.compactRevision
        cancelReason = response.cancelReason
        events = response.events.map(WatchEvent.init)
    }
}

extension WatchEvent {
    init(_ event: Mvccpb_Event) {
        let previous = event.hasPrevKv ? KeyValue(event.prevKv) : nil
        switch event.type {
        case .delete:
            // A delete carries the key and the delete's revision; etcd also leaves value and lease empty.
            let current = KeyValue(
                key: String(decoding: event.kv.key, as: UTF8.self), value: [], createRevision: 0,
                modRevision: event.kv.modRevision)
            self.init(kind: .delete, current: current, previous: previous)
        default:
            self.init(kind: .put, current: KeyValue(event.kv), previous: previous)
        }
    }
}

extension KeyValue {
    init(_ kv: Mvccpb_KeyValue) {
        self.init(
            key: String(decoding: kv.key, as: UTF8.self), value: [UInt8](kv.value), createRevision: kv.createRevision,
            modRevision: kv.modRevision, lease: kv.lease)
    }
}
