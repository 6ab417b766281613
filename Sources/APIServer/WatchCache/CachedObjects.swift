import APIMachinery
import NIOConcurrencyHelpers
import Storage

/// One current object of a watch cache: parsed once for non-JSON answers and selectors, and its JSON
/// (with its resourceVersion) ready to be written into a response as it is.
struct CachedObject: Sendable {
    let key: String
    let object: JSON
    let encoded: [UInt8]
    let fields: SelectorFields
    let revision: Revision
    /// Its protobuf message, made by the first protobuf list that needs it and shared by every later one.
    let protobuf = EncodedOnce()
}

/// Bytes made from an immutable value the first time they are asked for, then kept. Two first askers at
/// once may both make them; either result is the same.
final class EncodedOnce: Sendable {
    private let bytes = NIOLockedValueBox<[UInt8]?>(nil)

    func get<Failure: Error>(_ make: () throws(Failure) -> [UInt8]) throws(Failure) -> [UInt8] {
        if let made = bytes.withLockedValue({ $0 }) { return made }
        let made = try make()
        bytes.withLockedValue { $0 = made }
        return made
    }
}

/// The current objects of a resource in storage's key order (bytewise, as etcd's), so a list pages
/// through one namespace without sorting. A value type: a copy is an O(1) snapshot that a paged list
/// keeps at its revision, and the next change copies the storage once.
struct CachedObjects: Sendable {
    private var byKey: [[UInt8]: CachedObject] = [:]
    /// Every key of `byKey`, sorted bytewise.
    private var keys: [[UInt8]] = []

    var count: Int { keys.count }

    subscript(key: String) -> CachedObject? { byKey[Array(key.utf8)] }

    mutating func put(_ object: CachedObject) {
        let key = Array(object.key.utf8)
        if byKey.updateValue(object, forKey: key) == nil {
            keys.insert(key, at: Self.lowerBound(of: key, in: keys))
        }
    }

    mutating func remove(_ key: String) {
        let bytes = Array(key.utf8)
        guard byKey.removeValue(forKey: bytes) != nil else { return }
        let index = Self.lowerBound(of: bytes, in: keys)
        if index < keys.count, keys[index] == bytes { keys.remove(at: index) }
    }

    /// One page of the objects under `scope` from `start` on (inclusive) that `include` accepts: at most
    /// `limit` (0: all), and whether any key under `scope` follows the last one returned.
    func page(scope: String, from start: String?, limit: Int, include: (CachedObject) -> Bool) -> (
        objects: [CachedObject], more: Bool
    ) {
        let prefix = Array(scope.utf8)
        var first = prefix
        if let start, Array(start.utf8).lexicographicallyPrecedes(prefix) == false { first = Array(start.utf8) }
        var index = Self.lowerBound(of: first, in: keys)
        var objects: [CachedObject] = []
        if limit == 0 { objects.reserveCapacity(keys.count - index) }
        while index < keys.count, keys[index].starts(with: prefix) {
            if limit > 0, objects.count == limit { return (objects, true) }
            if let object = byKey[keys[index]], include(object) { objects.append(object) }
            index += 1
        }
        return (objects, false)
    }

    /// The first index whose key is not below `key`.
    private static func lowerBound(of key: [UInt8], in keys: [[UInt8]]) -> Int {
        var low = 0
        var high = keys.count
        while low < high {
            let middle = (low + high) / 2
            if keys[middle].lexicographicallyPrecedes(key) { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
