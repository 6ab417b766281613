import Client
import Foundation
import Logging
import NIOConcurrencyHelpers
import XCTest

/// A `ListWatch` the test answers call by call: each list or watch the reflector makes arrives on `calls` and
/// waits until the test responds, so a test steps the reflector one request at a time.
final class ScriptedListWatch<Object: KubernetesObject>: ListWatch {
    /// One request from the reflector, waiting for its answer.
    struct Call: Sendable {
        enum Kind: Sendable, Equatable {
            case list(limit: Int, continueToken: String?, resourceVersion: String)
            case watch(resourceVersion: String)
        }

        let kind: Kind
        fileprivate let id: UInt64
        fileprivate let owner: ScriptedListWatch<Object>

        /// Answers a list call.
        func respond(_ page: ListPage<Object>) { owner.resume(id, with: .success(.page(page))) }

        /// Answers a watch call with a stream the test feeds through the returned continuation.
        func respondWatch() -> WatchChanges<Object>.Continuation {
            let (stream, continuation) = WatchChanges<Object>.makeStream()
            owner.resume(id, with: .success(.watch(stream)))
            return continuation
        }

        /// Fails the call.
        func fail(_ error: any Error) { owner.resume(id, with: .failure(error)) }
    }

    fileprivate enum Answer: Sendable {
        case page(ListPage<Object>)
        case watch(WatchChanges<Object>)
    }

    private let pending = NIOLockedValueBox([UInt64: CheckedContinuation<Answer, any Error>]())
    private let nextID = NIOLockedValueBox(UInt64(0))
    let calls: AsyncStream<Call>
    private let callSink: AsyncStream<Call>.Continuation

    init() {
        (calls, callSink) = AsyncStream.makeStream(of: Call.self)
    }

    func list(limit: Int, continueToken: String?, resourceVersion: String) async throws -> ListPage<Object> {
        let answer = try await call(.list(limit: limit, continueToken: continueToken, resourceVersion: resourceVersion))
        guard case .page(let page) = answer else { throw ClientError.invalidResponse("a watch answered a list") }
        return page
    }

    func watch(resourceVersion: String, timeout: Duration) async throws -> WatchChanges<Object> {
        let answer = try await call(.watch(resourceVersion: resourceVersion))
        guard case .watch(let stream) = answer else { throw ClientError.invalidResponse("a page answered a watch") }
        return stream
    }

    private func call(_ kind: Call.Kind) async throws -> Answer {
        let id = nextID.withLockedValue { id in
            id += 1
            return id
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Answer, any Error>) in
                pending.withLockedValue { $0[id] = continuation }
                callSink.yield(Call(kind: kind, id: id, owner: self))
            }
        } onCancel: {
            resume(id, with: .failure(CancellationError()))
        }
    }

    fileprivate func resume(_ id: UInt64, with result: Result<Answer, any Error>) {
        pending.withLockedValue { $0.removeValue(forKey: id) }?.resume(with: result)
    }
}

/// Waits for the next element of `iterator`, failing the test instead of hanging if none comes within 10 s.
func nextElement<Element: Sendable>(
    of iterator: inout AsyncStream<Element>.Iterator, file: StaticString = #filePath, line: UInt = #line
) async throws -> Element {
    let box = IteratorBox(iterator)
    let element: Element? = await withTaskGroup(of: Element?.self) { group in
        group.addTask { await box.next() }
        group.addTask {
            try? await Task.sleep(for: .seconds(10))
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
    iterator = box.iterator
    guard let element else {
        XCTFail("nothing arrived within 10 s", file: file, line: line)
        throw CancellationError()
    }
    return element
}

/// Lets the iterator cross into a child task; only one task uses it at a time.
private final class IteratorBox<Element: Sendable>: @unchecked Sendable {
    var iterator: AsyncStream<Element>.Iterator

    init(_ iterator: AsyncStream<Element>.Iterator) { self.iterator = iterator }

    func next() async -> Element? { await iterator.next() }
}

/// Records what an informer's handler is told, as lines such as `add ns/a initial`, `update ns/a 1->2`,
/// `delete ns/a`, `tombstone ns/a@5`, and lets a test wait for them.
final class HandlerRecorder<Object: KubernetesObject>: Sendable {
    let lines: AsyncStream<String>
    private let sink: AsyncStream<String>.Continuation

    init() {
        (lines, sink) = AsyncStream.makeStream(of: String.self)
    }

    /// A handler recording objects `include` accepts (all by default).
    func handler(include: @escaping @Sendable (Object) -> Bool = { _ in true }) -> ResourceEventHandler<Object> {
        let sink = self.sink
        return ResourceEventHandler(
            onAdd: { object, initial in
                if include(object) { sink.yield("add \(object.key)\(initial ? " initial" : "")") }
            },
            onUpdate: { old, new in
                if include(new) {
                    sink.yield(
                        "update \(new.key) \(old.metadata.resourceVersion ?? "")->\(new.metadata.resourceVersion ?? "")"
                    )
                }
            },
            onDelete: { event in
                guard include(event.object) else { return }
                switch event {
                case .deleted(let object): sink.yield("delete \(object.key)")
                case .tombstone(let key, let last):
                    sink.yield("tombstone \(key)@\(last.metadata.resourceVersion ?? "")")
                }
            })
    }

    /// The next `count` lines.
    func next(_ count: Int, file: StaticString = #filePath, line: UInt = #line) async throws -> [String] {
        var iterator = lines.makeAsyncIterator()
        var out: [String] = []
        for _ in 0..<count { out.append(try await nextElement(of: &iterator, file: file, line: line)) }
        return out
    }
}

/// A ConfigMap in `namespace` at `resourceVersion`.
func configMapModel(_ namespace: String, _ name: String, resourceVersion: String, data: [String: String] = [:])
    -> ConfigMap
{
    ConfigMap(data: data, metadata: ObjectMeta(name: name, namespace: namespace, resourceVersion: resourceVersion))
}

/// Tests that provoke failures on purpose keep the log quiet.
let quietLogger = Logger(label: "client-tests") { _ in SwiftLogNoOpLogHandler() }
