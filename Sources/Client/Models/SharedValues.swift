import NIOConcurrencyHelpers

/// One shared copy of each value that many decoded objects repeat: 10,000 pods of one ReplicaSet carry the
/// same image, label keys and values, owner reference, tolerations and condition timestamps, and each decoded
/// copy would be heap allocations of its own.
///
/// Only values whose equality means identical encoding are shared: ASCII strings (Swift's `==` on other text
/// is canonical equivalence, which would let one byte sequence stand for another), maps of them (labels,
/// annotations, selectors), owner references, tolerations, pod conditions and host IPs; never models holding
/// a `Quantity` (`1Gi` equals `1073741824`) or free-form JSON, whose encoding a shared copy could change under
/// a template hash. Strings of 15 UTF-8 bytes or fewer are stored inline by Swift and long ones rarely repeat,
/// so only the sizes between are looked up. Each table is bounded: once full it starts afresh (values already
/// handed out stay shared; later ones are deduplicated anew), so values that never repeat (names, uids) cost a
/// bounded amount and nothing is kept for objects that are gone.
enum SharedValues {
    /// Values each table keeps at most.
    static let capacity = 8192
    /// The longest string looked up.
    static let maximumLength = 128

    private static let strings = NIOLockedValueBox(Set<String>())
    private static let values = NIOLockedValueBox(Set<SharedValue>())

    /// A table entry, compared as its own type: `AnyHashable` compares a map or an array by first converting it
    /// to one of `AnyHashable`s, an allocation per element on every lookup of a pod's labels.
    private struct SharedValue: Hashable, Sendable {
        let value: any Hashable & Sendable
        /// Computed once, outside the table's lock.
        let hash: Int

        init(_ value: some Hashable & Sendable) {
            self.value = value
            var hasher = Hasher()
            value.hash(into: &hasher)
            hash = hasher.finalize()
        }

        static func == (lhs: SharedValue, rhs: SharedValue) -> Bool {
            lhs.hash == rhs.hash && equal(lhs.value, rhs.value)
        }

        func hash(into hasher: inout Hasher) { hasher.combine(hash) }

        private static func equal<Value: Hashable & Sendable>(_ lhs: Value, _ rhs: any Hashable & Sendable) -> Bool {
            guard let rhs = rhs as? Value else { return false }
            return lhs == rhs
        }
    }

    /// Fields whose values identify one object and so never repeat across objects: looking them up would only
    /// churn the tables.
    static let uniqueFields: Set<String> = [
        "uid", "name", "resourceVersion", "containerID", "ip", "podIP", "podIPs", "selfLink", "containerStatuses",
        "initContainerStatuses", "ephemeralContainerStatuses", "managedFields",
    ]

    /// The shared copy of `value`, which becomes the shared copy if there is none.
    static func shared(_ value: String) -> String {
        let length = value.utf8.count
        guard length > 15, length <= maximumLength, isASCII(value) else { return value }
        return strings.withLockedValue { insert(value, into: &$0) }
    }

    /// `value` of field `key`, shared unless the field is one whose values are unique.
    static func shared(_ value: String, field key: String) -> String {
        uniqueFields.contains(key) ? value : shared(value)
    }

    /// The shared copy of a decoded array field (`ownerReferences`, `tolerations`, `finalizers`, …) when its
    /// values can be shared exactly; `values` itself otherwise.
    static func sharedArray<Element: ModelValue>(_ values: [Element], field key: String) -> [Element] {
        guard !values.isEmpty, !uniqueFields.contains(key), values.allSatisfy(Element.encodesIdentically) else {
            return values
        }
        return sharedValue(values)
    }

    /// The shared copy of a decoded map field of ASCII strings (`labels`, `annotations`, `nodeSelector`, …);
    /// `map` itself otherwise.
    static func sharedMap<Value: ModelValue>(_ map: [String: Value], field key: String) -> [String: Value] {
        guard !map.isEmpty, !uniqueFields.contains(key),
            map.allSatisfy({ isASCII($0.key) && Value.encodesIdentically($0.value) })
        else { return map }
        return sharedValue(map)
    }

    private static func sharedValue<Value: Hashable & Sendable>(_ value: Value) -> Value {
        let entry = SharedValue(value)
        let member = values.withLockedValue { insert(entry, into: &$0) }
        return member.value as? Value ?? value
    }

    static func isASCII(_ value: String) -> Bool { value.utf8.allSatisfy { $0 < 0x80 } }

    static func allASCII(_ values: String?...) -> Bool { values.allSatisfy { isASCII($0 ?? "") } }

    private static func insert<Element: Hashable>(_ value: Element, into table: inout Set<Element>) -> Element {
        if let index = table.firstIndex(of: value) { return table[index] }
        if table.count >= capacity { table.removeAll(keepingCapacity: true) }
        table.insert(value)
        return value
    }
}

// Which decoded values `SharedValues` may share: the answer is the element type's own (a witness of
// `ModelValue`), where a dynamic cast of the whole array to each candidate type cost 4% of the scheduler's CPU.

extension String {
    static func encodesIdentically(_ value: String) -> Bool { SharedValues.isASCII(value) }
}

extension OwnerReference {
    static func encodesIdentically(_ reference: OwnerReference) -> Bool {
        reference.unknownFields.isEmpty
            && SharedValues.allASCII(reference.apiVersion, reference.kind, reference.name, reference.uid)
    }
}

extension Toleration {
    static func encodesIdentically(_ toleration: Toleration) -> Bool {
        toleration.unknownFields.isEmpty
            && SharedValues.allASCII(toleration.key, toleration.operator, toleration.value, toleration.effect)
    }
}

extension PodCondition {
    /// Pods that became ready in the same second carry equal conditions.
    static func encodesIdentically(_ condition: PodCondition) -> Bool {
        condition.unknownFields.isEmpty
            && SharedValues.allASCII(
                condition.type, condition.status, condition.reason, condition.message, condition.lastProbeTime,
                condition.lastTransitionTime)
    }
}

extension HostIP {
    static func encodesIdentically(_ address: HostIP) -> Bool {
        address.unknownFields.isEmpty && SharedValues.allASCII(address.ip)
    }
}
