public import APIMachinery

/// A set of field paths as a trie, the form `metadata.managedFields[].fieldsV1` records a manager's fields in.
///
/// A path is in the set when its last element is among `members` of the node its prefix leads to; a node
/// may be a member and have children at once (a list item a manager owns together with its fields),
/// which FieldsV1 writes as a `".": {}` entry. Children are never left empty.
public struct FieldSet: Sendable, Equatable {
    public private(set) var members: Set<PathElement> = []
    public private(set) var children: [PathElement: FieldSet] = [:]

    public init() {}

    /// A set holding the given paths.
    public init(_ paths: [FieldPath]) {
        for path in paths { insert(path) }
    }

    public var isEmpty: Bool { members.isEmpty && children.isEmpty }

    /// Adds a path; the empty path names the root, which is never a member.
    public mutating func insert(_ path: FieldPath) {
        insert(path[...])
    }

    private mutating func insert(_ path: ArraySlice<PathElement>) {
        guard let first = path.first else { return }
        if path.count == 1 {
            members.insert(first)
        } else {
            children[first, default: FieldSet()].insert(path.dropFirst())
        }
    }

    public func contains(_ path: FieldPath) -> Bool {
        var node = self
        for (offset, element) in path.enumerated() {
            if offset == path.count - 1 { return node.members.contains(element) }
            guard let child = node.children[element] else { return false }
            node = child
        }
        return false
    }

    /// True when the path or anything below it is in the set.
    public func containsPrefix(_ path: FieldPath) -> Bool {
        var node = self
        for (offset, element) in path.enumerated() {
            if offset == path.count - 1, node.members.contains(element) { return true }
            guard let child = node.children[element] else { return false }
            node = child
        }
        return true
    }

    /// The subtree below a path, relative to it.
    public func subtree(at element: PathElement) -> FieldSet? { children[element] }

    public func union(_ other: FieldSet) -> FieldSet {
        var result = self
        result.members.formUnion(other.members)
        for (element, child) in other.children {
            result.children[element] = result.children[element].map { $0.union(child) } ?? child
        }
        return result
    }

    /// The paths of this set that `other` does not hold; a path's descendants are judged one by one.
    public func subtracting(_ other: FieldSet) -> FieldSet {
        var result = FieldSet()
        result.members = members.subtracting(other.members)
        for (element, child) in children {
            let rest = other.children[element].map { child.subtracting($0) } ?? child
            if !rest.isEmpty { result.children[element] = rest }
        }
        return result
    }

    public func intersection(_ other: FieldSet) -> FieldSet {
        var result = FieldSet()
        result.members = members.intersection(other.members)
        for (element, child) in children {
            guard let theirs = other.children[element] else { continue }
            let common = child.intersection(theirs)
            if !common.isEmpty { result.children[element] = common }
        }
        return result
    }

    /// Removes top-level fields, with everything below them, whose names `remove` accepts.
    mutating func removeTopLevel(where remove: (String) -> Bool) {
        members = members.filter { if case .field(let name) = $0 { !remove(name) } else { true } }
        children = children.filter { if case .field(let name) = $0.key { !remove(name) } else { true } }
    }

    /// Removes one member at the top level, keeping what lies below it.
    mutating func removeMember(_ element: PathElement) {
        members.remove(element)
    }

    /// Removes fields directly below `element` (and what lies below them) whose names `remove` accepts.
    mutating func removeBelow(_ element: PathElement, where remove: (String) -> Bool) {
        guard var child = children[element] else { return }
        child.removeTopLevel(where: remove)
        children[element] = child.isEmpty ? nil : child
    }

    /// Keeps only the paths `keep` accepts; `keep` sees each member path.
    public func filter(_ keep: (FieldPath) -> Bool) -> FieldSet {
        FieldSet(paths.filter(keep))
    }

    /// Every path in the set, in upstream's order (a node before what lies below it).
    public var paths: [FieldPath] {
        var result: [FieldPath] = []
        collect(prefix: [], into: &result)
        return result
    }

    private func collect(prefix: FieldPath, into result: inout [FieldPath]) {
        for element in Set(members).union(children.keys).sorted() {
            let path = prefix + [element]
            if members.contains(element) { result.append(path) }
            children[element]?.collect(prefix: path, into: &result)
        }
    }

    // MARK: FieldsV1

    /// The FieldsV1 JSON of the set: `{"f:spec":{"f:replicas":{}}}`, keys in upstream's order.
    public var fieldsV1: JSON {
        var object = JSONObject()
        for element in Set(members).union(children.keys).sorted() {
            var node = JSONObject()
            if let child = children[element] {
                if members.contains(element) { node["."] = .object(JSONObject()) }
                node.entries += child.fieldsV1.objectValue?.entries ?? []
            }
            object.entries.append((element.fieldsV1Key, .object(node)))
        }
        return .object(object)
    }

    /// Reads FieldsV1 JSON.
    public init(fieldsV1 json: JSON) throws(FieldSetError) {
        guard case .object(let object) = json else { throw FieldSetError("FieldsV1 must be a JSON object") }
        try self.init(fieldsV1Object: object, depth: 0)
    }

    private init(fieldsV1Object object: JSONObject, depth: Int) throws(FieldSetError) {
        guard depth < 64 else { throw FieldSetError("FieldsV1 is nested too deeply") }
        for (key, value) in object where key != "." {
            guard let element = PathElement(fieldsV1Key: key) else {
                throw FieldSetError("invalid FieldsV1 key \(key)")
            }
            guard case .object(let inner) = value else {
                throw FieldSetError("FieldsV1 value of \(key) is not an object")
            }
            if let dot = inner["."] {
                guard dot.objectValue?.isEmpty == true else { throw FieldSetError("\".\" must map to {}") }
                members.insert(element)
            }
            let child = try FieldSet(fieldsV1Object: inner, depth: depth + 1)
            if child.isEmpty {
                members.insert(element)
            } else {
                children[element] = child
            }
        }
    }
}

/// FieldsV1 that cannot be read.
public struct FieldSetError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}
