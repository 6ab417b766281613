import Foundation

/// Compares two strings by their UTF-8 bytes, as etcd and SQLite's BINARY collation do.
/// Swift's `<` and `==` follow Unicode canonical equivalence, which would merge or reorder keys
/// that etcd keeps apart.
@inline(__always) func compareUTF8(_ lhs: String, _ rhs: String) -> Int {
    let fast = lhs.utf8.withContiguousStorageIfAvailable { left in
        rhs.utf8.withContiguousStorageIfAvailable { right -> Int in
            let common = min(left.count, right.count)
            if common > 0, let l = left.baseAddress, let r = right.baseAddress {
                let c = memcmp(l, r, common)
                if c != 0 { return c < 0 ? -1 : 1 }
            }
            return left.count == right.count ? 0 : (left.count < right.count ? -1 : 1)
        }
    }
    if let result = fast ?? nil { return result }
    var left = lhs.utf8.makeIterator()
    var right = rhs.utf8.makeIterator()
    while true {
        switch (left.next(), right.next()) {
        case (nil, nil): return 0
        case (nil, _): return -1
        case (_, nil): return 1
        case (let l?, let r?): if l != r { return l < r ? -1 : 1 }
        }
    }
}

/// A dictionary key with bytewise equality and hashing (see `compareUTF8`).
struct StoreKey: Hashable, Comparable, Sendable {
    let string: String

    init(_ string: String) {
        var s = string
        s.makeContiguousUTF8()
        self.string = s
    }

    static func == (lhs: StoreKey, rhs: StoreKey) -> Bool { compareUTF8(lhs.string, rhs.string) == 0 }
    static func < (lhs: StoreKey, rhs: StoreKey) -> Bool { compareUTF8(lhs.string, rhs.string) < 0 }

    func hash(into hasher: inout Hasher) {
        let done: Void? = string.utf8.withContiguousStorageIfAvailable {
            hasher.combine(bytes: UnsafeRawBufferPointer($0))
        }
        if done == nil { for byte in string.utf8 { hasher.combine(byte) } }
    }
}

/// A key range with etcd's conventions: no end means the single key `start`; an end of "\0"
/// means every key at or after `start`; otherwise `[start, end)`.
struct KeyRange: Sendable {
    enum Upper: Sendable {
        case single
        case unbounded
        case before(String)
    }

    let start: String
    let upper: Upper

    init(start: String, end: String?) {
        self.start = start
        switch end {
        case nil, "": upper = .single
        case "\u{0}": upper = .unbounded
        case let end?: upper = .before(end)
        }
    }

    func contains(_ key: String) -> Bool {
        switch upper {
        case .single: return compareUTF8(key, start) == 0
        case .unbounded: return compareUTF8(key, start) >= 0
        case .before(let end): return compareUTF8(key, start) >= 0 && compareUTF8(key, end) < 0
        }
    }

    /// False when `key` sorts after every key of the range, so an ordered scan can stop.
    func mayContainAfter(_ key: String) -> Bool {
        switch upper {
        case .single: return compareUTF8(key, start) <= 0
        case .unbounded: return true
        case .before(let end): return compareUTF8(key, end) < 0
        }
    }
}

/// A mutable value guarded by a lock; `NSLock` because `Synchronization.Mutex` needs macOS 15.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    @inline(__always) func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
