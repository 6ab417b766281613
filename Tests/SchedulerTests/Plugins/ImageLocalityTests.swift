import Client
import XCTest

@testable import Scheduler

final class ImageLocalityTests: XCTestCase {
    private let mb: Int64 = 1024 * 1024

    private func node(_ name: String, images: [String: Int64]) -> NodeInfo {
        var node = Fixtures.node(name)
        node.status.images = images.map { ContainerImage(names: [$0.key], sizeBytes: $0.value) }
        return Fixtures.nodeInfo(node)
    }

    private func pod(_ images: String...) -> Pod {
        Fixtures.pod("p") { pod in
            pod.spec.containers = images.enumerated().map { Container(name: "c\($0.offset)", image: $0.element) }
        }
    }

    func testScoreScalesPresentImageBytesBySpreadBetweenThresholds() {
        let nodes = [
            node("a", images: ["nginx:latest": 300 * mb]),
            node("b", images: [:]),
            node("c", images: ["nginx:latest": 300 * mb, "tiny:1": 10 * mb]),
        ]
        let (raw, normalized) = Harness.scores(ImageLocality(), pod: pod("nginx"), nodes: nodes)
        // Two of three nodes hold the image: 300 MB * 2 / 3 = 200 MB, between 23 MB and 1000 MB per container.
        let expected = 100 * (200 * mb - 23 * mb) / (1000 * mb - 23 * mb)
        XCTAssertEqual(raw, [expected, 0, expected])
        XCTAssertEqual(normalized, raw, "ImageLocality does not normalise")
        XCTAssertEqual(
            Harness.scores(ImageLocality(), pod: pod("tiny:1"), nodes: nodes).raw, [0, 0, 0],
            "below the 23 MB threshold an image earns nothing")
        // Two containers double the upper threshold; only one image is present.
        let two = Harness.scores(ImageLocality(), pod: pod("nginx", "other:2"), nodes: nodes).raw
        XCTAssertEqual(two[0], 100 * (200 * mb - 23 * mb) / (2000 * mb - 23 * mb))
    }

    func testSpreadCountsEveryNodeOfTheSnapshotWhenAPreFilterRecordedThem() {
        let holder = node("a", images: ["nginx:latest": 300 * mb])
        let others = (0..<3).map { node("o\($0)", images: [:]) }
        let state = CycleState()
        state.write(AllNodes(nodes: [holder] + others))
        let pod = PodInfo(pod("nginx"))
        _ = ImageLocality().preScore(state: state, pod: pod, nodes: [holder])
        // One of four nodes holds it: 300 MB / 4 = 75 MB, not the full 300 MB of the only feasible node.
        XCTAssertEqual(
            ImageLocality().score(state: state, pod: pod, node: holder), 100 * (75 * mb - 23 * mb) / (977 * mb))
    }

    func testAnImageWithoutATagMeansLatest() {
        let cases: [(image: String, normalized: String)] = [
            ("nginx", "nginx:latest"),
            ("nginx:1.27", "nginx:1.27"),
            ("registry.local:5000/app", "registry.local:5000/app:latest"),
            ("registry.local:5000/app:v2", "registry.local:5000/app:v2"),
            ("app@sha256:abcd", "app@sha256:abcd"),
        ]
        for test in cases { XCTAssertEqual(ImageLocality.normalized(test.image), test.normalized, test.image) }
    }
}
