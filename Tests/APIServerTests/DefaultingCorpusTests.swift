import APIMachinery
import Foundation
import TestSupport
import XCTest

/// Our defaulted objects against upstream's, for a corpus of manifests in the shapes users write
/// (Fixtures/Defaulting/manifests). Each is created with `kubectl create --dry-run=server` against our server and
/// compared with what upstream's server answered for the same manifest (Fixtures/Defaulting/upstream, recorded by
/// scripts/record-defaulting-fixtures.sh from v1.20, with v1.32's differences in `DefaultingOverlay`).
final class DefaultingCorpusTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.148" }

    private static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/Defaulting")

    /// The manifests' names (file names without `.yaml`), sorted.
    private static func manifestNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: corpus.appendingPathComponent("manifests").path)
            .filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
    }

    private static func upstreamAnswer(_ name: String) throws -> JSON {
        try JSON.parse(Data(contentsOf: corpus.appendingPathComponent("upstream/\(name).json")))
    }

    private static func key(_ object: JSON) -> String {
        "\(object["kind"]?.stringValue ?? "")/\(object[path: "metadata", "name"]?.stringValue ?? "")"
    }

    func testEveryManifestIsDefaultedAsUpstreamDefaultsIt() throws {
        let names = try Self.manifestNames()
        // One kubectl run for the whole folder; it prints each answer as its own JSON document.
        let output = try cluster.kubectl([
            "create", "--dry-run=server", "-o", "json", "-f", Self.corpus.appendingPathComponent("manifests").path,
        ])
        XCTAssertEqual(output.stderr, "", "kubectl refused some manifests")
        var ours: [String: JSON] = [:]
        for document in Self.documents(output.stdout) {
            let object = try JSON.parse(document)
            ours[Self.key(object)] = object
        }

        var report: [String] = []
        var setAside = Set<String>()
        for name in names {
            let recorded = try Self.upstreamAnswer(name)
            guard let object = ours[Self.key(recorded)] else {
                report.append("\(name): our server gave no \(Self.key(recorded))")
                continue
            }
            let upstream = DefaultingOverlay.apply(to: DefaultingCorpus.normalized(recorded), of: name)
            for difference in DefaultingCorpus.differences(
                upstream: upstream, ours: DefaultingCorpus.normalized(object))
            {
                let known = "\(name) \(difference.path.joined(separator: "|"))"
                if DefaultingOverlay.notDefaulting.contains(where: { "\($0.manifest) \($0.path)" == known }) {
                    setAside.insert(known)
                } else {
                    report.append("\(name): \(difference)")
                }
            }
        }
        XCTAssert(report.isEmpty, "defaulting differs from upstream's:\n" + report.joined(separator: "\n"))
        for entry in DefaultingOverlay.notDefaulting where !setAside.contains("\(entry.manifest) \(entry.path)") {
            XCTFail("\(entry.manifest) \(entry.path) now agrees with upstream: retire its notDefaulting entry")
        }
    }

    /// kubectl prints several answers as pretty-printed documents one after another, each closing with a `}`
    /// alone on its line.
    private static func documents(_ output: String) -> [String] {
        (output.hasSuffix("\n") ? output : output + "\n").components(separatedBy: "\n}\n").map {
            $0.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        .filter { !$0.isEmpty }.map { $0 + "\n}" }
    }

    func testEveryManifestHasARecordedUpstreamAnswerOfItsKind() throws {
        let names = try Self.manifestNames()
        XCTAssertGreaterThanOrEqual(names.count, 47)
        for name in names {
            let manifest = try String(
                contentsOf: Self.corpus.appendingPathComponent("manifests/\(name).yaml"), encoding: .utf8)
            let kind = manifest.split(separator: "\n").first { $0.hasPrefix("kind: ") }?.dropFirst(6)
            XCTAssertEqual(try Self.upstreamAnswer(name)["kind"]?.stringValue, kind.map(String.init), name)
        }
    }

    /// The comparison itself: a changed, a missing and an extra field are each reported by path, and what is
    /// instance-specific is not.
    func testTheComparisonReportsEachDifferingPathAndIgnoresInstanceFields() throws {
        let recorded = try Self.upstreamAnswer("service-nodeport")
        var changed = recorded
        DefaultingCorpus.set("ClientIP", at: ["spec", "sessionAffinity"], in: &changed)
        DefaultingCorpus.set(nil, at: ["spec", "ports", "1", "protocol"], in: &changed)
        DefaultingCorpus.set(["app": "web"], at: ["metadata", "labels"], in: &changed)
        DefaultingCorpus.set("another-uid", at: ["metadata", "uid"], in: &changed)
        DefaultingCorpus.set(30001, at: ["spec", "ports", "0", "nodePort"], in: &changed)
        DefaultingCorpus.set("10.254.9.9", at: ["spec", "clusterIP"], in: &changed)
        let differences = DefaultingCorpus.differences(
            upstream: DefaultingCorpus.normalized(recorded), ours: DefaultingCorpus.normalized(changed))
        XCTAssertEqual(
            differences.map(\.description),
            [
                "metadata.labels: upstream <absent>, ours {\"app\":\"web\"}",
                "spec.ports[1].protocol: upstream \"TCP\", ours <absent>",
                "spec.sessionAffinity: upstream \"None\", ours \"ClientIP\"",
            ])
    }

    func testThePodTokenVolumeIsIgnoredWhicheverNameTheServerGaveIt() throws {
        let recorded = try Self.upstreamAnswer("pod-run")
        let normalized = DefaultingCorpus.normalized(recorded)
        XCTAssertNotNil(recorded[path: "spec", "volumes"])
        XCTAssertNil(normalized[path: "spec", "volumes"])
        XCTAssertNil(normalized[path: "spec", "containers"]?.arrayValue?.first?["volumeMounts"])
        XCTAssertEqual(normalized[path: "spec", "serviceAccountName"], "default")
    }
}
