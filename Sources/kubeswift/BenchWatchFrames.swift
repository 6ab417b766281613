/// How the watch bench names its objects and finds them again in a watch stream without decoding it: a name is
/// `bw-RUN-NNNNNNN`, the create's index in seven digits, and the same bytes appear in a JSON line and in a
/// protobuf frame, so one scan of an event's bytes yields the index in either format.
struct BenchWatchNames: Sendable {
    static let digits = 7
    /// `bw-RUN-`.
    let prefix: [UInt8]

    init(run: String) { prefix = Array("bw-\(run)-".utf8) }

    /// The name of create `index`.
    func name(_ index: Int) -> String {
        let number = String(index)
        return String(decoding: prefix, as: UTF8.self)
            + String(repeating: "0", count: max(0, Self.digits - number.count))
            + number
    }

    /// The index in the first bench name within `event`, or nil when the bytes hold none.
    func index(in event: ArraySlice<UInt8>) -> Int? {
        guard let first = prefix.first, event.count >= prefix.count + Self.digits else { return nil }
        var start = event.startIndex
        let last = event.endIndex - prefix.count - Self.digits
        while start <= last {
            guard let candidate = event[start...last].firstIndex(of: first) else { return nil }
            if event[candidate..<candidate + prefix.count].elementsEqual(prefix),
                let value = Self.number(event[(candidate + prefix.count)..<(candidate + prefix.count + Self.digits)])
            {
                return value
            }
            start = candidate + 1
        }
        return nil
    }

    private static func number(_ digits: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }
}

/// Splits one watch response body into events, whatever the chunk boundaries (newline-terminated JSON, or
/// protobuf frames behind a 4-byte big-endian length), and sorts them into ADDED events of bench objects
/// (their create indexes) and anything else.
struct BenchWatchFrameReader: Sendable {
    /// What one chunk held.
    struct Events: Equatable, Sendable {
        /// Create indexes of the bench objects' ADDED events, in stream order.
        var added: [Int] = []
        /// Other events: bookmarks, errors, objects that are not the bench's.
        var other = 0
    }

    let format: BenchWatchFormat
    let names: BenchWatchNames
    private var buffer: [UInt8] = []

    init(format: BenchWatchFormat, names: BenchWatchNames) {
        self.format = format
        self.names = names
    }

    /// Appends `bytes` and returns the events that are now complete.
    mutating func append(_ bytes: some Collection<UInt8>) -> Events {
        buffer.append(contentsOf: bytes)
        var events = Events()
        var start = 0
        switch format {
        case .json:
            while let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[start..<newline]
                if !line.isEmpty { classify(line, isAdded: Self.isAddedLine(line), into: &events) }
                start = newline + 1
            }
        case .protobuf:
            while buffer.count - start >= 4 {
                let length = buffer[start..<start + 4].reduce(0) { $0 << 8 | Int($1) }
                guard buffer.count - start - 4 >= length else { break }
                let frame = buffer[(start + 4)..<(start + 4 + length)]
                classify(frame, isAdded: Self.isAddedFrame(frame), into: &events)
                start += 4 + length
            }
        }
        buffer.removeFirst(start)
        return events
    }

    private func classify(_ event: ArraySlice<UInt8>, isAdded: Bool, into events: inout Events) {
        if isAdded, let index = names.index(in: event) {
            events.added.append(index)
        } else {
            events.other += 1
        }
    }

    private static let addedJSON = Array(#""type":"ADDED""#.utf8)
    /// A protobuf `WatchEvent` starts with field 1, `type`: tag 0x0a, length 5, "ADDED".
    private static let addedProtobuf: [UInt8] = [0x0A, 0x05] + Array("ADDED".utf8)

    /// Whether a JSON event line is ADDED; servers write `type` first, so only the line's start is searched.
    private static func isAddedLine(_ line: ArraySlice<UInt8>) -> Bool {
        let head = line.prefix(32)
        guard head.count >= addedJSON.count else { return false }
        return (head.startIndex...(head.endIndex - addedJSON.count)).contains {
            head[$0..<$0 + addedJSON.count].elementsEqual(addedJSON)
        }
    }

    private static func isAddedFrame(_ frame: ArraySlice<UInt8>) -> Bool {
        frame.prefix(addedProtobuf.count).elementsEqual(addedProtobuf)
    }
}

/// The watch response format the bench's watchers ask for.
enum BenchWatchFormat: String, CaseIterable, Sendable {
    case json, protobuf

    /// The Accept header client-go sends for a watch in this format.
    var accept: String {
        switch self {
        case .json: return "application/json"
        case .protobuf: return "application/vnd.kubernetes.protobuf, */*"
        }
    }
}
