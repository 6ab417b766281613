import APIMachinery
import Client
import XCTest

/// The indexer's keys and indices, and the lister over it.
final class IndexerTests: XCTestCase {
    private func pod(_ namespace: String, _ name: String, node: String?, labels: [String: String] = [:]) -> Pod {
        Pod(
            metadata: ObjectMeta(labels: labels, name: name, namespace: namespace),
            spec: PodSpec(nodeName: node))
    }

    private func names(_ pods: [Pod]) -> [String] { pods.compactMap(\.metadata.name).sorted() }

    func testCustomIndexFollowsUpdatesAndDeletes() throws {
        let indexer = Indexer<Pod>(indexers: ["nodeName": { [$0.spec.nodeName ?? ""] }])
        indexer.upsert(pod("a", "p1", node: "n1"))
        indexer.upsert(pod("a", "p2", node: "n1"))
        indexer.upsert(pod("b", "p3", node: nil))
        XCTAssertEqual(names(try indexer.byIndex("nodeName", "n1")), ["p1", "p2"])
        XCTAssertEqual(names(try indexer.byIndex("nodeName", "")), ["p3"])

        let old = indexer.upsert(pod("a", "p2", node: "n2"))
        XCTAssertEqual(old?.spec.nodeName, "n1")
        XCTAssertEqual(names(try indexer.byIndex("nodeName", "n1")), ["p1"])
        XCTAssertEqual(names(try indexer.byIndex("nodeName", "n2")), ["p2"])

        indexer.delete(ObjectKey(namespace: "a", name: "p1"))
        XCTAssertEqual(try indexer.byIndex("nodeName", "n1"), [])
        XCTAssertEqual(indexer.indexValues("nodeName").sorted(), ["", "n2"])
        XCTAssertEqual(names(try indexer.byIndex(Indexer<Pod>.namespaceIndex, "a")), ["p2"])
        XCTAssertEqual(indexer.count, 2)
        XCTAssertThrowsError(try indexer.byIndex("zone", "z1")) { error in
            XCTAssertEqual(error as? IndexerError, .unknownIndex("zone"))
        }
    }

    func testReplaceRebuildsIndicesAndReturnsThePreviousContents() throws {
        let indexer = Indexer<Pod>(indexers: ["nodeName": { [$0.spec.nodeName ?? ""] }])
        indexer.upsert(pod("a", "p1", node: "n1"))
        let previous = indexer.replace([pod("a", "p2", node: "n2")])
        XCTAssertEqual(Array(previous.keys), [ObjectKey(namespace: "a", name: "p1")])
        XCTAssertEqual(try indexer.byIndex("nodeName", "n1"), [])
        XCTAssertEqual(names(try indexer.byIndex("nodeName", "n2")), ["p2"])
    }

    func testIndexersAddedLaterIndexWhatIsStoredAndRefuseDuplicates() throws {
        let indexer = Indexer<Pod>()
        indexer.upsert(pod("a", "p1", node: "n1"))
        try indexer.addIndexers(["nodeName": { [$0.spec.nodeName ?? ""] }])
        XCTAssertEqual(names(try indexer.byIndex("nodeName", "n1")), ["p1"])
        XCTAssertThrowsError(try indexer.addIndexers(["nodeName": { _ in [] }])) { error in
            XCTAssertEqual(error as? IndexerError, .indexExists("nodeName"))
        }
    }

    func testListerFiltersByNamespaceAndLabelsInKeyOrder() throws {
        let indexer = Indexer<Pod>()
        indexer.upsert(pod("b", "web-2", node: nil, labels: ["app": "web"]))
        indexer.upsert(pod("a", "web-1", node: nil, labels: ["app": "web"]))
        indexer.upsert(pod("a", "db-1", node: nil, labels: ["app": "db"]))
        let lister = Lister(indexer: indexer)
        XCTAssertEqual(lister.list().map(\.key.description), ["a/db-1", "a/web-1", "b/web-2"])
        XCTAssertEqual(lister.list(namespace: "a").map(\.key.description), ["a/db-1", "a/web-1"])
        let web = try LabelSelector(parsing: "app=web")
        XCTAssertEqual(lister.list(selector: web).map(\.key.description), ["a/web-1", "b/web-2"])
        XCTAssertEqual(lister.list(namespace: "b", selector: web).map(\.key.description), ["b/web-2"])
        XCTAssertEqual(lister.get(namespace: "a", name: "db-1")?.metadata.labels, ["app": "db"])
        XCTAssertNil(lister.get(namespace: "b", name: "db-1"))
    }
}
