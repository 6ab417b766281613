public import APIMachinery
import Yams

/// Reads one YAML (or JSON) document into `JSON`, as upstream's sigs.k8s.io/yaml does for configuration
/// files and apply bodies: plain scalars become nulls, booleans and numbers; quoted ones stay strings.
public enum YAMLDocument {
    /// Why a document could not be read.
    public struct DecodeError: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        public init(_ message: String) { self.message = message }
        public var description: String { "error converting YAML to JSON: \(message)" }
    }

    /// Decodes `bytes`: JSON directly when it parses as JSON (libyaml rejects some valid JSON), else YAML.
    /// An empty document is `nil`.
    public static func decode(_ bytes: some Collection<UInt8>, maxDepth: Int = 100) throws(DecodeError) -> JSON? {
        if let json = try? JSON.parse(bytes) { return json }
        let node: Node?
        do {
            node = try Yams.compose(yaml: String(decoding: bytes, as: UTF8.self))
        } catch {
            throw DecodeError("\(error)")
        }
        guard let node else { return nil }
        return try json(from: node, depth: 0, maxDepth: maxDepth)
    }

    private static func json(from node: Node, depth: Int, maxDepth: Int) throws(DecodeError) -> JSON {
        guard depth < maxDepth else { throw DecodeError("nesting too deep") }
        switch node {
        case .scalar(let scalar):
            if scalar.style != .plain && scalar.style != .any { return .string(scalar.string) }
            if node.null != nil { return .null }
            if let value = node.bool { return .bool(value) }
            if let value = node.int { return .int(Int64(value)) }
            if let value = node.float { return .double(value) }
            return .string(scalar.string)
        case .mapping(let mapping):
            var object = JSONObject()
            for (key, value) in mapping {
                guard let name = key.string else {
                    throw DecodeError("a mapping key is not a string")
                }
                object[name] = try json(from: value, depth: depth + 1, maxDepth: maxDepth)
            }
            return .object(object)
        case .sequence(let sequence):
            var items: [JSON] = []
            for item in sequence { items.append(try json(from: item, depth: depth + 1, maxDepth: maxDepth)) }
            return .array(items)
        }
    }
}
