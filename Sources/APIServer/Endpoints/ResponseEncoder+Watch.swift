import APIMachinery
import NIOHTTP1

extension ResponseEncoder {
    /// Streams events until the watch ends or the client leaves: `{"type":…,"object":…}` lines in JSON, or
    /// length-prefixed `WatchEvent` frames in protobuf (`;stream=watch`). Events are encoded as the
    /// connection takes them, everything waiting in one chunk, so a slow client's backlog stays in the
    /// watch's own bounded queue and goes out in few writes.
    func watch(_ queue: WatchQueue, options: ListOptions) -> HTTPResponse {
        let lines = WatchLines(WatchQueue.Reader(queue), encoder: self, options: options)
        let chunks = AsyncStream(unfolding: { await lines.next() })
        let contentType = format.media == .protobuf ? KubernetesProtobuf.watchMediaType : "application/json"
        var headers: HTTPHeaders = ["Content-Type": contentType]
        headers.add(name: "Cache-Control", value: "no-cache, private")
        return HTTPResponse(status: .ok, headers: headers, body: .stream(chunks))
    }

    /// A watch event's object in the served shape, converted as the request asked. Upstream sends an object it
    /// cannot convert (a list conversion asked of a single object) as it is.
    fileprivate func watchObject(_ object: JSON) -> JSON {
        switch format.target {
        case .partialObjectMetadata(let version): return Self.partial(object, version: version)
        default: return store.fromStorage(object)
        }
    }
}

/// The chunks of one watch response, pulled a batch at a time by the connection writer (a single consumer,
/// hence the unchecked sendability).
private final class WatchLines: @unchecked Sendable {
    private let events: WatchQueue.Reader
    private let encoder: ResponseEncoder
    private let options: ListOptions
    private var firstTable = true
    private var sentInitialEnd = false
    private var lastRevision = "0"

    init(_ events: WatchQueue.Reader, encoder: ResponseEncoder, options: ListOptions) {
        self.events = events
        self.encoder = encoder
        self.options = options
    }

    func next() async -> [UInt8]? {
        while let batch = await events.next() {
            var chunk: [UInt8] = []
            for output in batch {
                if encoder.format.media == .protobuf {
                    appendFrame(output, to: &chunk)
                } else {
                    append(output, to: &chunk)
                }
            }
            if !chunk.isEmpty { return chunk }
        }
        return nil
    }

    private func append(_ output: WatchOutput, to line: inout [UInt8]) {
        switch output {
        case .event(let type, let object, let encoded, _):
            lastRevision = object.resourceVersion ?? lastRevision
            line.append(contentsOf: "{\"type\":\"\(type)\",\"object\":".utf8)
            if case .table(let version) = encoder.format.target {
                var table = encoder.table(
                    [object], metadata: ["resourceVersion": .string(lastRevision)], withColumns: firstTable)
                table["apiVersion"] = .string("meta.k8s.io/" + version)
                table.encode(into: &line)
                firstTable = false
            } else if let encoded, encoder.wantsRaw {
                line.append(contentsOf: encoded)
            } else {
                encoder.watchObject(object).encode(into: &line)
            }
        case .bookmark(let revision):
            guard let object = bookmark(revision) else { return }
            line.append(contentsOf: "{\"type\":\"BOOKMARK\",\"object\":".utf8)
            object.encode(into: &line)
        case .error(let error):
            line.append(contentsOf: "{\"type\":\"ERROR\",\"object\":".utf8)
            error.status.encode(into: &line)
        }
        line.append(contentsOf: "}\n".utf8)
    }

    /// The protobuf form: each event a frame whose object is enveloped protobuf. An object that cannot be
    /// encoded ends up as an ERROR event with a 500 Status, as upstream reports a failed watch encode.
    private func appendFrame(_ output: WatchOutput, to chunk: inout [UInt8]) {
        let type: String
        let object: JSON
        let apiVersion: String
        let kind: String
        switch output {
        case .event(let eventType, let stored, _, let shared?)
        where encoder.format.target == nil && encoder.store.definition.conversion == nil:
            // Every protobuf watcher of an object served as stored sends the same bytes: the first makes them.
            lastRevision = stored.resourceVersion ?? lastRevision
            let object = encoder.watchObject(stored)
            let definition = encoder.store.definition
            do {
                let bytes = try shared.get { () throws(ProtobufEncodeError) in
                    try KubernetesProtobuf.encode(
                        object, apiVersion: object["apiVersion"]?.stringValue ?? definition.apiVersion,
                        kind: object["kind"]?.stringValue ?? definition.kind)
                }
                KubernetesProtobuf.appendWatchFrame(type: eventType, object: bytes, to: &chunk)
            } catch {
                appendEncodeFailure(error, to: &chunk)
            }
            return
        case .event(let eventType, let stored, _, _):
            lastRevision = stored.resourceVersion ?? lastRevision
            type = eventType
            object = encoder.watchObject(stored)
            apiVersion = object["apiVersion"]?.stringValue ?? encoder.store.definition.apiVersion
            kind = object["kind"]?.stringValue ?? encoder.store.definition.kind
        case .bookmark(let revision):
            guard let bookmark = bookmark(revision) else { return }
            (type, object) = ("BOOKMARK", bookmark)
            apiVersion = bookmark["apiVersion"]?.stringValue ?? ""
            kind = bookmark["kind"]?.stringValue ?? ""
        case .error(let error):
            (type, object, apiVersion, kind) = ("ERROR", error.status, "v1", "Status")
        }
        do {
            let bytes = try KubernetesProtobuf.encode(object, apiVersion: apiVersion, kind: kind)
            KubernetesProtobuf.appendWatchFrame(type: type, object: bytes, to: &chunk)
        } catch {
            appendEncodeFailure(error, to: &chunk)
        }
    }

    private func appendEncodeFailure(_ error: ProtobufEncodeError, to chunk: inout [UInt8]) {
        let failure = APIError.internalError("unable to encode watch object: \(error)").status
        if let bytes = try? KubernetesProtobuf.encode(failure, apiVersion: "v1", kind: "Status") {
            KubernetesProtobuf.appendWatchFrame(type: "ERROR", object: bytes, to: &chunk)
        }
    }

    /// A BOOKMARK's object: the kind (or PartialObjectMetadata) with only the revision, and the
    /// initial-events-end annotation on the first one after `sendInitialEvents`; nil when not asked for.
    private func bookmark(_ revision: Int64) -> JSON? {
        guard options.allowWatchBookmarks else { return nil }
        lastRevision = String(revision)
        var metadata: JSONObject = ["resourceVersion": .string(lastRevision)]
        if !sentInitialEnd, options.sendInitialEvents == true {
            metadata["annotations"] = ["k8s.io/initial-events-end": "true"]
            sentInitialEnd = true
        }
        if case .partialObjectMetadata(let version) = encoder.format.target {
            return ResponseEncoder.partial(["metadata": .object(metadata)], version: version)
        }
        let definition = encoder.store.definition
        return [
            "kind": .string(definition.kind), "apiVersion": .string(definition.apiVersion),
            "metadata": .object(metadata),
        ]
    }
}
