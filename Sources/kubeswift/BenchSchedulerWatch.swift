/// Finds the bound pods in a scheduler bench phase's watch stream from its raw bytes, on the connection's event
/// loop: each event line is scanned for the pod's name and `"nodeName"`, not parsed. The bench shares the two
/// cores with the processes it measures, and parsing every pod (managedFields and all) cost it about a third of
/// its CPU. Every pod of a phase is in one namespace and its watch selects only that phase's bound pods, so the
/// first `"name"` value that is one of the phase's pod names (metadata's, written first) says which pod it is.
struct BoundPodScanner: Sendable {
    private static let nameKey = Array(#""name":""#.utf8)
    private static let nodeNameKey = Array(#""nodeName":""#.utf8)
    private static let errorType = Array(#"{"type":"ERROR""#.utf8)

    /// What one line of the stream said.
    enum Found: Equatable {
        /// The pod at this index in the phase's list is bound.
        case bound(Int)
        /// An ERROR event: the watch failed (its line, for the report).
        case error(String)
        /// Anything else: a bookmark, a pod not of this phase, one not bound.
        case nothing
    }

    /// Pod name → its index in the phase's list.
    let indexByName: [String: Int]

    func scan(_ line: ArraySlice<UInt8>) -> Found {
        if line.starts(with: Self.errorType) { return .error(String(decoding: line.prefix(512), as: UTF8.self)) }
        guard let nodeName = Self.value(after: Self.nodeNameKey, in: line), !nodeName.isEmpty else { return .nothing }
        var rest = line[...]
        while let start = Self.end(of: Self.nameKey, in: rest) {
            guard let close = rest[start...].firstIndex(of: UInt8(ascii: "\"")) else { return .nothing }
            if let index = indexByName[String(decoding: rest[start..<close], as: UTF8.self)] { return .bound(index) }
            rest = rest[close...]
        }
        return .nothing
    }

    /// The string value after the first `key` (a quoted key, colon and opening quote) in `line`.
    private static func value(after key: [UInt8], in line: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        guard let start = end(of: key, in: line),
            let close = line[start...].firstIndex(of: UInt8(ascii: "\""))
        else { return nil }
        return line[start..<close]
    }

    /// The index just past the first occurrence of `key` in `bytes`.
    private static func end(of key: [UInt8], in bytes: ArraySlice<UInt8>) -> Int? {
        // Not `firstRange(of:)`: for byte slices Foundation's `DataProtocol` overload wins, and it ran unspecialized,
        // element by element through protocol witnesses (a third of the bench client's CPU).
        guard let first = key.first else { return bytes.startIndex }
        var from = bytes.startIndex
        while let candidate = bytes[from...].firstIndex(of: first) {
            if bytes[candidate...].starts(with: key) { return candidate + key.count }
            from = candidate + 1
        }
        return nil
    }
}
