import Client
import XCTest

@testable import ControllerManager

/// The owner graph's bookkeeping as a pure state machine: nodes added, updated and deleted, virtual owners,
/// owners becoming absent, cycles, and references that name their owner wrongly.
final class OwnerGraphTests: XCTestCase {
    private func reference(
        _ name: String, uid: String, kind: String = "ConfigMap", apiVersion: String = "v1", blocking: Bool? = nil
    ) -> OwnerReference {
        OwnerReference(apiVersion: apiVersion, kind: kind, name: name, uid: uid, blockOwnerDeletion: blocking)
    }

    private func object(
        _ name: String, uid: String, namespace: String = "ns", kind: String = "ConfigMap", apiVersion: String = "v1",
        owners: [OwnerReference] = [], finalizers: [String] = [], deleting: Bool = false
    ) -> ObservedObject {
        ObservedObject(
            identity: ObjectIdentity(
                apiVersion: apiVersion, kind: kind, namespace: namespace, name: name, uid: UID(uid)),
            owners: owners, finalizers: finalizers, beingDeleted: deleting)
    }

    func testADependentSeenBeforeItsOwnerMakesAVirtualOwnerToVerify() {
        var graph = OwnerGraph()
        let actions = graph.process(.added(object("child", uid: "c", owners: [reference("parent", uid: "p")])))
        XCTAssertEqual(actions, [.attemptToDelete(UID("p"))])
        XCTAssertEqual(graph[UID("p")]?.virtual, true)
        XCTAssertEqual(
            graph[UID("p")]?.identity.namespace, "ns", "a virtual owner is looked up in its dependent's namespace")
        XCTAssertEqual(graph[UID("p")]?.dependents, [UID("c")])

        // The owner's own add makes it real; matching coordinates need no further work.
        XCTAssertEqual(graph.process(.added(object("parent", uid: "p"))), [])
        XCTAssertEqual(graph[UID("p")]?.virtual, false)
        XCTAssertEqual(graph[UID("p")]?.dependents, [UID("c")])
    }

    func testDeletingAnOwnerSendsItsDependentsToBeCheckedAndRemembersItAbsent() {
        var graph = OwnerGraph()
        _ = graph.process(.added(object("parent", uid: "p")))
        _ = graph.process(.added(object("a", uid: "a", owners: [reference("parent", uid: "p")])))
        _ = graph.process(.added(object("b", uid: "b", owners: [reference("parent", uid: "p")])))
        XCTAssertEqual(graph[UID("p")]?.dependents, [UID("a"), UID("b")])

        let actions = graph.process(.deleted(object("parent", uid: "p")))
        XCTAssertEqual(actions, [.attemptToDelete(UID("a")), .attemptToDelete(UID("b"))])
        XCTAssertNil(graph[UID("p")])
        XCTAssertTrue(graph.absentOwners.contains(object("parent", uid: "p").identity))

        // Deleting a dependent unlinks it from its owner and leaves the others alone.
        _ = graph.process(.added(object("parent2", uid: "p2")))
        _ = graph.process(.updated(old: nil, new: object("a", uid: "a", owners: [reference("parent2", uid: "p2")])))
        XCTAssertEqual(graph[UID("p2")]?.dependents, [UID("a")])
        XCTAssertEqual(graph.process(.deleted(object("a", uid: "a"))), [])
        XCTAssertEqual(graph[UID("p2")]?.dependents, [])
        XCTAssertEqual(graph.nodes.count, 2)
    }

    func testUpdatesMoveADependentBetweenOwnersAndUnblockWaitingOwners() {
        var graph = OwnerGraph()
        _ = graph.process(.added(object("p", uid: "p")))
        _ = graph.process(.added(object("q", uid: "q")))
        let blocked = object("c", uid: "c", owners: [reference("p", uid: "p", blocking: true)])
        _ = graph.process(.added(blocked))

        // The blocking reference to p goes, one to q comes: p may now finish a foreground deletion.
        let moved = object("c", uid: "c", owners: [reference("q", uid: "q")])
        XCTAssertEqual(graph.process(.updated(old: blocked, new: moved)), [.attemptToDelete(UID("p"))])
        XCTAssertEqual(graph[UID("p")]?.dependents, [])
        XCTAssertEqual(graph[UID("q")]?.dependents, [UID("c")])

        // A reference that stops blocking also unblocks its owner.
        let blocking = object("c", uid: "c", owners: [reference("q", uid: "q", blocking: true)])
        _ = graph.process(.updated(old: moved, new: blocking))
        let unblocking = object("c", uid: "c", owners: [reference("q", uid: "q", blocking: false)])
        XCTAssertEqual(graph.process(.updated(old: blocking, new: unblocking)), [.attemptToDelete(UID("q"))])
        XCTAssertEqual(graph.blockingDependents(of: UID("q")).map(\.identity.name), [])
    }

    func testForegroundAndOrphanFinalizersStartTheirWorkOnce() {
        var graph = OwnerGraph()
        let owner = object("p", uid: "p")
        _ = graph.process(.added(owner))
        _ = graph.process(.added(object("c", uid: "c", owners: [reference("p", uid: "p", blocking: true)])))

        let foreground = object("p", uid: "p", finalizers: [GCFinalizer.deleteDependents], deleting: true)
        XCTAssertEqual(
            graph.process(.updated(old: owner, new: foreground)),
            [.attemptToDelete(UID("c")), .attemptToDelete(UID("p"))])
        XCTAssertEqual(graph[UID("p")]?.deletingDependents, true)
        XCTAssertEqual(graph[UID("p")]?.beingDeleted, true)
        XCTAssertEqual(graph.blockingDependents(of: UID("p")).map(\.identity.name), ["c"])
        XCTAssertEqual(graph.process(.updated(old: foreground, new: foreground)), [], "a repeat starts nothing")

        var orphanGraph = OwnerGraph()
        _ = orphanGraph.process(.added(owner))
        let orphaning = object("p", uid: "p", finalizers: [GCFinalizer.orphanDependents], deleting: true)
        XCTAssertEqual(orphanGraph.process(.updated(old: owner, new: orphaning)), [.attemptToOrphan(UID("p"))])
        XCTAssertEqual(orphanGraph[UID("p")]?.deletingDependents, false)
        // An object first seen already deleting with the finalizer starts it too.
        var late = OwnerGraph()
        XCTAssertEqual(late.process(.added(orphaning)), [.attemptToOrphan(UID("p"))])
    }

    func testCyclesKeepTheGraphConsistent() {
        var graph = OwnerGraph()
        _ = graph.process(.added(object("a", uid: "a", owners: [reference("b", uid: "b")])))
        _ = graph.process(.added(object("b", uid: "b", owners: [reference("a", uid: "a")])))
        XCTAssertEqual(graph[UID("a")]?.dependents, [UID("b")])
        XCTAssertEqual(graph[UID("b")]?.dependents, [UID("a")])
        XCTAssertEqual(graph[UID("b")]?.virtual, false)

        // Deleting one member sends the other to be checked and leaves no link to the deleted node.
        XCTAssertEqual(graph.process(.deleted(object("a", uid: "a"))), [.attemptToDelete(UID("b"))])
        XCTAssertNil(graph[UID("a")])
        XCTAssertEqual(graph[UID("b")]?.dependents, [])
        XCTAssertEqual(graph[UID("b")]?.owners.map(\.uid), ["a"], "b still names a until the worker patches it")

        // A self-reference is its own dependent and goes away with the object.
        var selfOwned = OwnerGraph()
        _ = selfOwned.process(.added(object("s", uid: "s", owners: [reference("s", uid: "s")])))
        XCTAssertEqual(selfOwned[UID("s")]?.dependents, [UID("s")])
        _ = selfOwned.process(.deleted(object("s", uid: "s")))
        XCTAssertTrue(selfOwned.nodes.isEmpty)
    }

    func testAnOwnerObservedInAnotherNamespaceIsReportedEitherWayRound() {
        let reference = reference("p", uid: "p")
        let expectedOwner = ObjectIdentity(reference: reference, namespace: "other")
        let child = object("c", uid: "c", namespace: "other", owners: [reference])

        // Owner first: the dependent's reference is checked and reported at once.
        var ownerFirst = OwnerGraph()
        _ = ownerFirst.process(.added(object("p", uid: "p", namespace: "ns")))
        XCTAssertEqual(
            ownerFirst.process(.added(child)),
            [
                .invalidNamespaceOwnerReference(dependent: child.identity, owner: expectedOwner),
                .attemptToDelete(UID("c")),
            ])

        // Dependent first: the owner's observation replaces the virtual node and reports the dependent.
        var childFirst = OwnerGraph()
        XCTAssertEqual(childFirst.process(.added(child)), [.attemptToDelete(UID("p"))])
        XCTAssertEqual(
            childFirst.process(.added(object("p", uid: "p", namespace: "ns"))),
            [
                .invalidNamespaceOwnerReference(dependent: child.identity, owner: expectedOwner),
                .attemptToDelete(UID("c")),
            ])
        XCTAssertEqual(childFirst[UID("p")]?.identity.namespace, "ns")

        // A cluster-scoped dependent naming a namespaced owner is reported too.
        var clusterScoped = OwnerGraph()
        _ = clusterScoped.process(.added(object("p", uid: "p", namespace: "ns")))
        let node = object("n", uid: "n", namespace: "", kind: "Node", owners: [reference])
        XCTAssertEqual(
            clusterScoped.process(.added(node)),
            [
                .invalidNamespaceOwnerReference(
                    dependent: node.identity, owner: ObjectIdentity(reference: reference, namespace: "")),
                .attemptToDelete(UID("n")),
            ])

        // A cluster-scoped owner may own objects in any namespace.
        var clusterOwner = OwnerGraph()
        _ = clusterOwner.process(.added(object("node", uid: "n", namespace: "", kind: "Node")))
        XCTAssertEqual(
            clusterOwner.process(
                .added(object("c", uid: "c", owners: [self.reference("node", uid: "n", kind: "Node")]))), [])
    }

    func testAReferenceWithOtherCoordinatesThanTheObservedOwnerIsChecked() {
        var graph = OwnerGraph()
        _ = graph.process(.added(object("p", uid: "p")))
        // Right uid, wrong kind: the dependent is checked, nothing is reported.
        XCTAssertEqual(
            graph.process(.added(object("c", uid: "c", owners: [reference("p", uid: "p", kind: "Secret")]))),
            [.attemptToDelete(UID("c"))])
    }

    func testVirtualDeletesForgetAbsentOwnersAndTryOtherCoordinates() {
        var graph = OwnerGraph()
        _ = graph.process(.added(object("c", uid: "c", owners: [reference("p", uid: "p")])))
        let absent = graph[UID("p")]?.identity
        XCTAssertEqual(
            graph.process(.virtualDelete(absent ?? object("p", uid: "p").identity)), [.attemptToDelete(UID("c"))])
        XCTAssertNil(graph[UID("p")])
        XCTAssertTrue(graph.absentOwners.contains(object("p", uid: "p").identity))

        // Two dependents name uid q by different kinds: a virtual delete of one identity keeps the node for the
        // other, checks the dependents it matched, and retries with the alternative identity.
        var split = OwnerGraph()
        _ = split.process(.added(object("a", uid: "a", owners: [reference("q", uid: "q", kind: "ConfigMap")])))
        _ = split.process(.added(object("b", uid: "b", owners: [reference("q", uid: "q", kind: "Secret")])))
        let configMapIdentity = object("q", uid: "q", kind: "ConfigMap").identity
        XCTAssertEqual(split[UID("q")]?.identity, configMapIdentity)
        XCTAssertEqual(
            split.process(.virtualDelete(configMapIdentity)),
            [.attemptToDelete(UID("a")), .attemptToDeleteRateLimited(UID("q"))])
        XCTAssertEqual(split[UID("q")]?.identity.kind, "Secret")
        XCTAssertEqual(split[UID("q")]?.dependents, [UID("a"), UID("b")])

        // A virtual delete never removes an observed node with other coordinates.
        var observed = OwnerGraph()
        _ = observed.process(.added(object("r", uid: "r")))
        XCTAssertEqual(observed.process(.virtualDelete(object("r", uid: "r", kind: "Secret").identity)), [])
        XCTAssertNotNil(observed[UID("r")])
    }

    func testAnOwnerDeletingItsDependentsIsLookedAtWhenOneGoes() {
        var graph = OwnerGraph()
        _ = graph.process(.added(object("p", uid: "p", finalizers: [GCFinalizer.deleteDependents], deleting: true)))
        _ = graph.process(.added(object("c", uid: "c", owners: [reference("p", uid: "p", blocking: true)])))
        XCTAssertEqual(graph.process(.deleted(object("c", uid: "c"))), [.attemptToDelete(UID("p"))])
        XCTAssertEqual(graph.blockingDependents(of: UID("p")).count, 0)
    }

    func testReferenceDiffAndAbsentOwnerCache() {
        let a = reference("a", uid: "1")
        let b = reference("b", uid: "2")
        let bBlocking = reference("b", uid: "2", blocking: true)
        let c = reference("c", uid: "3")
        let diff = ReferenceDiff(old: [a, b], new: [bBlocking, c])
        XCTAssertEqual(diff.added, [c])
        XCTAssertEqual(diff.removed, [a])
        XCTAssertEqual(diff.changed.map(\.new), [bBlocking])
        XCTAssertTrue(ReferenceDiff(old: [a], new: [a]).isEmpty)

        var cache = AbsentOwnerCache(capacity: 2)
        let first = object("1", uid: "1").identity
        let second = object("2", uid: "2").identity
        let third = object("3", uid: "3").identity
        cache.add(first)
        cache.add(second)
        let hit = cache.hit(first)
        XCTAssertTrue(hit, "a hit makes the entry the most recent")
        cache.add(third)
        XCTAssertEqual(cache.count, 2)
        XCTAssertFalse(cache.contains(second), "the least recently used entry is dropped")
        XCTAssertTrue(cache.contains(first))
        XCTAssertTrue(cache.contains(third))
    }
}
