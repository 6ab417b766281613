/// A binary heap of queued pods keyed by UID, ordered by a `less` function, with removal and update by key
/// (upstream's `heap.Heap` behind the active and backoff queues).
struct PodHeap {
    private var items: [QueuedPodInfo] = []
    private var positions: [String: Int] = [:]
    private let less: @Sendable (QueuedPodInfo, QueuedPodInfo) -> Bool

    init(less: @escaping @Sendable (QueuedPodInfo, QueuedPodInfo) -> Bool) {
        self.less = less
    }

    var count: Int { items.count }
    var isEmpty: Bool { items.isEmpty }
    var first: QueuedPodInfo? { items.first }
    var all: [QueuedPodInfo] { items }

    func contains(_ uid: String) -> Bool { positions[uid] != nil }
    func get(_ uid: String) -> QueuedPodInfo? { positions[uid].map { items[$0] } }

    /// Adds the pod, or replaces the queued entry with the same UID.
    mutating func upsert(_ pod: QueuedPodInfo) {
        let uid = pod.podInfo.uid
        if let index = positions[uid] {
            items[index] = pod
            fix(index)
        } else {
            items.append(pod)
            positions[uid] = items.count - 1
            siftUp(items.count - 1)
        }
    }

    mutating func popFirst() -> QueuedPodInfo? {
        guard let top = items.first else { return nil }
        _ = remove(top.podInfo.uid)
        return top
    }

    @discardableResult
    mutating func remove(_ uid: String) -> QueuedPodInfo? {
        guard let index = positions.removeValue(forKey: uid) else { return nil }
        let removed = items[index]
        let last = items.removeLast()
        if index < items.count {
            items[index] = last
            positions[last.podInfo.uid] = index
            fix(index)
        }
        return removed
    }

    private mutating func fix(_ index: Int) {
        if index > 0 && less(items[index], items[(index - 1) / 2]) { siftUp(index) } else { siftDown(index) }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(items[child], items[parent]) else { return }
            swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < items.count && less(items[left], items[smallest]) { smallest = left }
            if right < items.count && less(items[right], items[smallest]) { smallest = right }
            guard smallest != parent else { return }
            swapAt(parent, smallest)
            parent = smallest
        }
    }

    private mutating func swapAt(_ a: Int, _ b: Int) {
        items.swapAt(a, b)
        positions[items[a].podInfo.uid] = a
        positions[items[b].podInfo.uid] = b
    }
}
