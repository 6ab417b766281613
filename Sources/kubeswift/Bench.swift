import ArgumentParser
import Foundation

/// `kubeswift bench`: measures an API server (the default), the storage backend alone, or start-up
/// time and memory, printing throughput and latency percentiles.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the API server: creates, gets and lists of ConfigMaps; storage alone; start-up and RSS.",
        subcommands: [
            BenchAPI.self, BenchStorage.self, BenchStartup.self, BenchEtcd.self, BenchWatch.self, BenchPatch.self,
            BenchScheduler.self, BenchNodes.self, BenchFailover.self, BenchCustomResources.self,
        ],
        defaultSubcommand: BenchAPI.self)
}

/// `--concurrency 1,16`: the numbers of operations kept in flight, one scenario run each.
struct ConcurrencyList: ExpressibleByArgument, Sendable, CustomStringConvertible {
    var levels: [Int]

    init?(argument: String) {
        let levels = argument.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !levels.isEmpty, levels.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        self.levels = levels.compactMap { $0 }
    }

    init(_ levels: [Int]) { self.levels = levels }

    var description: String { levels.map(String.init).joined(separator: ",") }
    var defaultValueDescription: String { description }
}

/// What every bench writes: the same ConfigMaps, so figures from different subcommands compare.
enum BenchObjects {
    /// A random tag that keeps this run's object names and labels apart from earlier runs.
    static func runID() -> String {
        String((0..<6).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement() ?? "x" })
    }

    /// The label every bench object carries, `kubeswift.io/bench=<run>`, so cleanup removes only ours.
    static let label = "kubeswift.io/bench"

    /// A ConfigMap whose `data.value` is `valueBytes` bytes, as the JSON a client sends. Names and
    /// labels are ours and plain ASCII, so no escaping is needed.
    static func configMap(name: String, namespace: String, run: String, set: String, valueBytes: Int) -> [UInt8] {
        let value = String(repeating: "x", count: max(0, valueBytes))
        return Array(
            """
            {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"\(name)","namespace":"\(namespace)",\
            "labels":{"\(label)":"\(run)","\(label)-set":"\(set)"}},"data":{"value":"\(value)"}}
            """.utf8)
    }

    /// `count` ConfigMaps for one concurrency level, as the storage benches write them: upstream's key and
    /// the bytes the API server would store.
    static func storedConfigMaps(run: String, level: Int, count: Int, set: String, valueBytes: Int)
        -> [(key: String, value: [UInt8])]
    {
        (0..<count).map { index in
            let name = "bench-\(run)-c\(level)-\(index)"
            return (
                "/registry/configmaps/bench/\(name)",
                configMap(name: name, namespace: "bench", run: run, set: set, valueBytes: valueBytes)
            )
        }
    }

    /// `$KUBECONFIG` (its first entry), else `~/.kubeswift/admin.kubeconfig` as `kubeswift up` writes it.
    static var defaultKubeconfig: String {
        if let variable = ProcessInfo.processInfo.environment["KUBECONFIG"],
            let first = variable.split(separator: ":").first
        {
            return String(first)
        }
        return Up.defaultStateDirectory + "/admin.kubeconfig"
    }
}
