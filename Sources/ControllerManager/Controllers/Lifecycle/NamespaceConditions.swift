import Client

/// What a deletion pass left in a namespace: instances per resource (`<resource>.<group>`) and per finalizer.
struct NamespaceContentTotals: Sendable, Hashable {
    var remainingByResource: [String: Int] = [:]
    var remainingByFinalizer: [String: Int] = [:]
}

/// Upstream's `namespaceConditionUpdater`: turns one deletion pass's failures and leftovers into the five
/// deletion conditions, each True with its reason while the problem lasts and False with the "ok" text after.
struct NamespaceConditionUpdater: Sendable {
    /// The condition types the namespace controller owns, in upstream's order.
    static let types = [
        "NamespaceDeletionDiscoveryFailure", "NamespaceDeletionGroupVersionParsingFailure",
        "NamespaceDeletionContentFailure", "NamespaceContentRemaining", "NamespaceFinalizersRemaining",
    ]
    static let okReasons = [
        "NamespaceDeletionDiscoveryFailure": "ResourcesDiscovered",
        "NamespaceDeletionGroupVersionParsingFailure": "ParsedGroupVersions",
        "NamespaceDeletionContentFailure": "ContentDeleted",
        "NamespaceContentRemaining": "ContentRemoved",
        "NamespaceFinalizersRemaining": "ContentHasNoFinalizers",
    ]
    static let okMessages = [
        "NamespaceDeletionDiscoveryFailure": "All resources successfully discovered",
        "NamespaceDeletionGroupVersionParsingFailure": "All legacy kube types successfully parsed",
        "NamespaceDeletionContentFailure": "All content successfully deleted, may be waiting on finalization",
        "NamespaceContentRemaining": "All content successfully removed",
        "NamespaceFinalizersRemaining": "All content-preserving finalizers finished",
    ]

    private var failing: [String: (reason: String, message: String)] = [:]
    private var contentErrors: [String] = []

    /// Discovery failed for `failedGroups` group versions (the whole discovery when 0) with `message`.
    mutating func discoveryFailed(_ message: String, failedGroups: Int) {
        failing["NamespaceDeletionDiscoveryFailure"] = (
            "DiscoveryFailed",
            failedGroups > 0 ? "Discovery failed for some groups, \(failedGroups) failing: \(message)" : message
        )
    }

    mutating func groupVersionParsingFailed(_ message: String) {
        failing["NamespaceDeletionGroupVersionParsingFailure"] = ("GroupVersionParsingFailed", message)
    }

    /// One resource's content could not be deleted or listed.
    mutating func contentDeletionFailed(_ message: String) {
        contentErrors.append(message)
    }

    /// What is left after the pass; resources and finalizers with nothing left are not named.
    mutating func contentRemaining(_ totals: NamespaceContentTotals) {
        let resources = totals.remainingByResource.filter { $0.value > 0 }
            .map { "\($0.key) has \($0.value) resource instances" }.sorted()
        if !totals.remainingByResource.isEmpty {
            failing["NamespaceContentRemaining"] = (
                "SomeResourcesRemain", "Some resources are remaining: \(resources.joined(separator: ", "))"
            )
        }
        let finalizers = totals.remainingByFinalizer.filter { $0.value > 0 }
            .map { "\($0.key) in \($0.value) resource instances" }.sorted()
        if !totals.remainingByFinalizer.isEmpty {
            failing["NamespaceFinalizersRemaining"] = (
                "SomeFinalizersRemain",
                "Some content in the namespace has finalizers remaining: \(finalizers.joined(separator: ", "))"
            )
        }
    }

    /// Writes the pass's conditions into `status`; a condition's transition time moves only when its status
    /// flips. Returns whether anything changed.
    func update(_ status: inout NamespaceStatus, now: String) -> Bool {
        var failing = self.failing
        if failing["NamespaceDeletionContentFailure"] == nil, !contentErrors.isEmpty {
            failing["NamespaceDeletionContentFailure"] = (
                "ContentDeletionFailed",
                "Failed to delete all resource types, \(contentErrors.count) remaining: \(contentErrors.sorted().joined(separator: ", "))"
            )
        }
        var changed = false
        for type in Self.types {
            let wanted: NamespaceCondition
            if let (reason, message) = failing[type] {
                wanted = NamespaceCondition(
                    type: type, status: "True", lastTransitionTime: now, message: message, reason: reason)
            } else {
                wanted = NamespaceCondition(
                    type: type, status: "False", lastTransitionTime: now, message: Self.okMessages[type],
                    reason: Self.okReasons[type])
            }
            guard let index = status.conditions.firstIndex(where: { $0.type == type }) else {
                status.conditions.append(wanted)
                changed = true
                continue
            }
            var existing = status.conditions[index]
            guard
                existing.status != wanted.status || existing.reason != wanted.reason
                    || existing.message != wanted.message
            else { continue }
            if existing.status != wanted.status { existing.lastTransitionTime = now }
            existing.status = wanted.status
            existing.reason = wanted.reason
            existing.message = wanted.message
            status.conditions[index] = existing
            changed = true
        }
        return changed
    }
}
