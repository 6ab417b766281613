import APIMachinery
import XCTest

@testable import kubeswift

/// Finding the bench's objects in watch streams without decoding them, in JSON and protobuf, across chunks.
final class BenchWatchFramesTests: XCTestCase {
    private let names = BenchWatchNames(run: "abc123")

    private func configMap(_ index: Int) -> JSON {
        [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": ["name": .string(names.name(index)), "namespace": "bench", "resourceVersion": "17"],
            "data": ["value": "bw-abc123-x"],
        ]
    }

    func testNamesCarrySevenDigitIndexesThatReadBack() {
        XCTAssertEqual(names.name(42), "bw-abc123-0000042")
        XCTAssertEqual(names.index(in: Array("{\"name\":\"bw-abc123-0000042\"}".utf8)[...]), 42)
        XCTAssertNil(names.index(in: Array("bw-abc123-00x0042 bw-abc999-0000001".utf8)[...]))
        XCTAssertEqual(names.index(in: Array("bw-abc123-x bw-abc123-0000007".utf8)[...]), 7)
        XCTAssertNil(names.index(in: Array("bw-abc123-12".utf8)[...]))
    }

    func testJSONLinesSplitAnywhereYieldEveryAddedIndexOnce() throws {
        var stream: [UInt8] = []
        for index in [3, 1_234_567, 0] {
            stream += Array("{\"type\":\"ADDED\",\"object\":".utf8)
            configMap(index).encode(into: &stream)
            stream += Array("}\n".utf8)
        }
        stream += Array("{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"9\"}}}\n".utf8)
        stream += Array("{\"type\":\"MODIFIED\",\"object\":".utf8)
        configMap(5).encode(into: &stream)
        stream += Array("}\n".utf8)
        for chunkSize in [1, 7, 64, stream.count] {
            var reader = BenchWatchFrameReader(format: .json, names: names)
            var all = BenchWatchFrameReader.Events()
            for start in stride(from: 0, to: stream.count, by: chunkSize) {
                let events = reader.append(stream[start..<min(stream.count, start + chunkSize)])
                all.added += events.added
                all.other += events.other
            }
            XCTAssertEqual(
                all, BenchWatchFrameReader.Events(added: [3, 1_234_567, 0], other: 2), "chunks of \(chunkSize)")
        }
    }

    func testProtobufFramesSplitAnywhereYieldEveryAddedIndexOnce() throws {
        var stream: [UInt8] = []
        for index in [8, 99] {
            let object = try KubernetesProtobuf.encode(configMap(index), apiVersion: "v1", kind: "ConfigMap")
            KubernetesProtobuf.appendWatchFrame(type: "ADDED", object: object, to: &stream)
        }
        let deleted = try KubernetesProtobuf.encode(configMap(4), apiVersion: "v1", kind: "ConfigMap")
        KubernetesProtobuf.appendWatchFrame(type: "DELETED", object: deleted, to: &stream)
        for chunkSize in [1, 5, 100, stream.count] {
            var reader = BenchWatchFrameReader(format: .protobuf, names: names)
            var all = BenchWatchFrameReader.Events()
            for start in stride(from: 0, to: stream.count, by: chunkSize) {
                let events = reader.append(stream[start..<min(stream.count, start + chunkSize)])
                all.added += events.added
                all.other += events.other
            }
            XCTAssertEqual(all, BenchWatchFrameReader.Events(added: [8, 99], other: 1), "chunks of \(chunkSize)")
        }
    }
}
