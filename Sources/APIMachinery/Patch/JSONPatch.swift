import Foundation

/// RFC 6902 JSON Patch: add, remove, replace, move, copy and test at RFC 6901 pointers.
public enum JSONPatch {
    /// A patch that cannot be applied; the server answers 422 with this message (or 400 when malformed).
    public struct Failure: Error, Sendable, Equatable {
        public var message: String
        /// True when the patch document itself is malformed, rather than not applicable.
        public var malformed: Bool
    }

    public static func apply(_ patch: JSON, to document: JSON) throws(Failure) -> JSON {
        guard let operations = patch.arrayValue else {
            throw Failure(
                message: "json: cannot unmarshal object into Go value of type jsonpatch.Patch", malformed: true)
        }
        var result = document
        for operation in operations {
            guard let op = operation["op"]?.stringValue else {
                throw Failure(message: "Unexpected kind: unknown", malformed: true)
            }
            guard let pathText = operation["path"]?.stringValue else {
                throw Failure(message: "doc is missing path: \"unknown\"", malformed: false)
            }
            let path = try pointer(pathText)
            switch op {
            case "add":
                guard let value = operation["value"] else { throw Failure(message: "missing value", malformed: false) }
                try insert(value, at: path, in: &result, replacing: false)
            case "remove":
                _ = try remove(at: path, from: &result)
            case "replace":
                guard let value = operation["value"] else { throw Failure(message: "missing value", malformed: false) }
                _ = try remove(at: path, from: &result)
                try insert(value, at: path, in: &result, replacing: false)
            case "move":
                guard let from = operation["from"]?.stringValue else {
                    throw Failure(message: "missing from", malformed: false)
                }
                let value = try remove(at: try pointer(from), from: &result)
                try insert(value, at: path, in: &result, replacing: false)
            case "copy":
                guard let from = operation["from"]?.stringValue else {
                    throw Failure(message: "missing from", malformed: false)
                }
                guard let value = get(try pointer(from), in: result) else {
                    throw Failure(message: "copy from does not exist: \(from)", malformed: false)
                }
                try insert(value, at: path, in: &result, replacing: false)
            case "test":
                guard get(path, in: result) == operation["value"] else {
                    throw Failure(message: "testing value \(pathText) failed: test failed", malformed: false)
                }
            default:
                throw Failure(message: "Unexpected kind: \(op)", malformed: true)
            }
        }
        return result
    }

    static func pointer(_ text: String) throws(Failure) -> [String] {
        if text.isEmpty { return [] }
        guard text.hasPrefix("/") else {
            throw Failure(message: "JSON pointer must be empty or start with a \"/\"", malformed: true)
        }
        return text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    static func get(_ path: [String], in document: JSON) -> JSON? {
        var current = document
        for token in path {
            switch current {
            case .object(let object):
                guard let next = object[token] else { return nil }
                current = next
            case .array(let array):
                guard let index = Int(token), array.indices.contains(index) else { return nil }
                current = array[index]
            default: return nil
            }
        }
        return current
    }

    static func insert(_ value: JSON, at path: [String], in document: inout JSON, replacing: Bool) throws(Failure) {
        guard let token = path.first else {
            document = value
            return
        }
        let rest = Array(path.dropFirst())
        switch document {
        case .object(var object):
            if rest.isEmpty {
                object[token] = value
            } else {
                guard var child = object[token] else {
                    throw Failure(
                        message:
                            "add operation does not apply: doc is missing path: \"/\(path.joined(separator: "/"))\": missing value",
                        malformed: false)
                }
                try insert(value, at: rest, in: &child, replacing: replacing)
                object[token] = child
            }
            document = .object(object)
        case .array(var array):
            if rest.isEmpty {
                if token == "-" {
                    array.append(value)
                } else if let index = Int(token), (0...array.count).contains(index) {
                    array.insert(value, at: index)
                } else {
                    throw Failure(
                        message: "add operation does not apply: doc is missing path: \"\(token)\": missing value",
                        malformed: false)
                }
            } else {
                guard let index = Int(token), array.indices.contains(index) else {
                    throw Failure(message: "doc is missing path: \"\(token)\": missing value", malformed: false)
                }
                try insert(value, at: rest, in: &array[index], replacing: replacing)
            }
            document = .array(array)
        default:
            throw Failure(
                message: "doc is missing path: \"/\(path.joined(separator: "/"))\": missing value", malformed: false)
        }
    }

    static func remove(at path: [String], from document: inout JSON) throws(Failure) -> JSON {
        guard let token = path.first else {
            throw Failure(message: "unable to remove the whole document", malformed: false)
        }
        let rest = Array(path.dropFirst())
        let missing = Failure(
            message:
                "remove operation does not apply: doc is missing path: \"/\(path.joined(separator: "/"))\": missing value",
            malformed: false)
        switch document {
        case .object(var object):
            guard var child = object[token] else { throw missing }
            let removed: JSON
            if rest.isEmpty {
                removed = child
                object[token] = nil
            } else {
                removed = try remove(at: rest, from: &child)
                object[token] = child
            }
            document = .object(object)
            return removed
        case .array(var array):
            guard let index = Int(token), array.indices.contains(index) else { throw missing }
            let removed: JSON
            if rest.isEmpty {
                removed = array.remove(at: index)
            } else {
                removed = try remove(at: rest, from: &array[index])
            }
            document = .array(array)
            return removed
        default:
            throw missing
        }
    }
}
