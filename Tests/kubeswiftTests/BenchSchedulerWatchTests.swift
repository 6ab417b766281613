import APIMachinery
import Client
import XCTest

@testable import kubeswift

/// The scheduler bench finding bound pods in its watch stream's bytes, across chunks.
final class BenchSchedulerWatchTests: XCTestCase {
    private let scanner = BoundPodScanner(indexByName: ["pod-0": 0, "pod-1": 1])

    private func line(_ type: String, name: String, nodeName: String?) -> [UInt8] {
        var spec: JSONObject = ["containers": [["name": "pause", "image": "registry.k8s.io/pause:3.10"]]]
        if let nodeName { spec["nodeName"] = .string(nodeName) }
        let pod: JSON = [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": .string(name), "namespace": "sched-1", "resourceVersion": "9"],
            "spec": .object(spec),
        ]
        let event: JSON = ["type": .string(type), "object": pod]
        return event.encoded()
    }

    func testABoundPodOfThePhaseIsFoundByItsName() {
        XCTAssertEqual(scanner.scan(line("ADDED", name: "pod-1", nodeName: "node-7")[...]), .bound(1))
        XCTAssertEqual(scanner.scan(line("MODIFIED", name: "pod-0", nodeName: "node-2")[...]), .bound(0))
        XCTAssertEqual(scanner.scan(line("ADDED", name: "pod-1", nodeName: nil)[...]), .nothing, "not bound")
        XCTAssertEqual(scanner.scan(line("ADDED", name: "pod-1", nodeName: "")[...]), .nothing, "not bound")
        XCTAssertEqual(scanner.scan(line("ADDED", name: "other", nodeName: "n")[...]), .nothing, "not this phase's")
        let error: JSON = ["type": "ERROR", "object": ["kind": "Status", "code": 410, "reason": "Expired"]]
        guard case .error(let text) = scanner.scan(error.encoded()[...]) else {
            return XCTFail("an ERROR event is reported")
        }
        XCTAssertTrue(text.contains("Expired"))
    }

    func testLinesAreFoundWhateverTheChunkBoundaries() throws {
        let stream =
            line("ADDED", name: "pod-0", nodeName: "a") + [10] + line("ADDED", name: "pod-1", nodeName: "b") + [10]
        for cut in [1, 7, 40, stream.count - 1] {
            var lines = LineSplitter()
            var found: [BoundPodScanner.Found] = []
            for chunk in [stream[..<cut], stream[cut...]] {
                try lines.append(chunk) { found.append(scanner.scan($0)) }
            }
            XCTAssertEqual(found, [.bound(0), .bound(1)], "cut at \(cut)")
        }
    }
}
