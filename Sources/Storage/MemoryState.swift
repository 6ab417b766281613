/// The data of a `MemoryStore`; every method runs under the store's lock.
struct MemoryState {
    var revision: Revision = 0
    /// History at or before this revision is gone; `log` starts right after it.
    var compacted: Revision = 0
    var current: [StoreKey: KeyValue] = [:]
    /// The keys of `current` in byte order, for ranges; a sorted array beats a tree at our sizes
    /// because inserts only move pointers.
    var sortedKeys: [StoreKey] = []
    /// Every write after `compacted`: `log[i]` has revision `compacted + 1 + i`. Ranges at a past
    /// revision and watch replays read it; `previous` holds the state each write replaced.
    var log: [WatchEvent] = []
    var leases = LeaseTable()
    var leaseKeys: [LeaseID: Set<StoreKey>] = [:]
    var closed = false

    func checkOpen() throws(StorageError) { if closed { throw .unavailable("store closed") } }

    // MARK: Writes

    mutating func put(_ key: StoreKey, value: [UInt8], lease: LeaseID, previous: KeyValue?) -> WatchEvent {
        revision += 1
        let kv = KeyValue(
            key: key.string, value: value, createRevision: previous?.createRevision ?? revision, modRevision: revision,
            lease: lease)
        current[key] = kv
        if previous == nil { sortedKeys.insert(key, at: lowerBound(key.string)) }
        moveKey(key, from: previous?.lease ?? 0, to: lease)
        let event = WatchEvent(kind: .put, current: kv, previous: previous)
        log.append(event)
        return event
    }

    mutating func remove(_ key: StoreKey, previous: KeyValue) -> WatchEvent {
        revision += 1
        current[key] = nil
        let index = lowerBound(key.string)
        if index < sortedKeys.count, sortedKeys[index] == key { sortedKeys.remove(at: index) }
        moveKey(key, from: previous.lease, to: 0)
        let tombstone = KeyValue(key: key.string, value: [], createRevision: 0, modRevision: revision)
        let event = WatchEvent(kind: .delete, current: tombstone, previous: previous)
        log.append(event)
        return event
    }

    private mutating func moveKey(_ key: StoreKey, from old: LeaseID, to new: LeaseID) {
        if old == new { return }
        if old != 0 { leaseKeys[old]?.remove(key) }
        if new != 0 { leaseKeys[new, default: []].insert(key) }
    }

    /// Deletes every key attached to `lease`, one revision per key, in key order.
    mutating func deleteKeys(of lease: LeaseID) -> [WatchEvent] {
        let keys = (leaseKeys.removeValue(forKey: lease) ?? []).sorted()
        var events: [WatchEvent] = []
        events.reserveCapacity(keys.count)
        for key in keys { if let previous = current[key] { events.append(remove(key, previous: previous)) } }
        return events
    }

    mutating func compact(to target: Revision) throws(StorageError) {
        if target > revision { throw .futureRevision(requested: target, current: revision) }
        if target <= compacted { throw .compacted(requested: target, compactedAt: compacted) }
        log.removeFirst(Int(target - compacted))
        compacted = target
    }

    // MARK: Reads

    /// The index of the first key not below `key`.
    func lowerBound(_ key: String) -> Int {
        var low = 0
        var high = sortedKeys.count
        while low < high {
            let mid = (low + high) / 2
            if compareUTF8(sortedKeys[mid].string, key) < 0 { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Checks a requested read revision and resolves nil/0 to the current one.
    func readRevision(_ requested: Revision?) throws(StorageError) -> Revision {
        guard let requested, requested > 0 else { return revision }
        if requested > revision { throw .futureRevision(requested: requested, current: revision) }
        if requested < compacted { throw .compacted(requested: requested, compactedAt: compacted) }
        return requested
    }

    func range(_ range: KeyRange, limit: Int, at target: Revision) -> RangeResult {
        // The state at `target` is the current state with every later write undone; the first
        // write after `target` to a key carries, as `previous`, the key's state at `target`.
        var undone: [StoreKey: KeyValue?] = [:]
        if target < revision {
            for event in log[Int(target - compacted)...] where range.contains(event.current.key) {
                let key = StoreKey(event.current.key)
                if undone.index(forKey: key) == nil { undone[key] = event.previous }
            }
        }
        let changed = undone.keys.sorted()
        var items: [KeyValue] = []
        var more = false
        var i = lowerBound(range.start)
        var j = 0
        func emit(_ kv: KeyValue?) -> Bool {
            guard let kv else { return true }
            if limit > 0, items.count == limit {
                more = true
                return false
            }
            items.append(kv)
            return true
        }
        while true {
            let live = i < sortedKeys.count && range.mayContainAfter(sortedKeys[i].string) ? sortedKeys[i] : nil
            let old = j < changed.count ? changed[j] : nil
            switch (live, old) {
            case (nil, nil): return RangeResult(items: items, more: more, revision: target)
            case (let l?, nil):
                i += 1
                guard emit(current[l]) else { return RangeResult(items: items, more: more, revision: target) }
            case (let l?, let o?) where l < o:
                i += 1
                guard emit(current[l]) else { return RangeResult(items: items, more: more, revision: target) }
            case (let l, let o?):
                if l == o { i += 1 }
                j += 1
                guard emit(undone[o] ?? nil) else { return RangeResult(items: items, more: more, revision: target) }
            }
        }
    }

    /// The logged events after `after` (which must not be below `compacted`) in `range`.
    func history(after: Revision, in range: KeyRange) -> [WatchEvent] {
        let from = max(0, Int(after - compacted))
        guard from < log.count else { return [] }
        return log[from...].filter { range.contains($0.current.key) }
    }
}
