public import APIMachinery
import Component
import Foundation
import Operations

/// `KubeSchedulerConfiguration` (kubescheduler.config.k8s.io/v1), the file `--config` names: the
/// client connection, leader election, and the profiles with their plugins and plugin arguments.
public struct SchedulerConfiguration: Sendable {
    /// One `profiles[]` entry.
    public struct ProfileConfiguration: Sendable {
        public var schedulerName = "default-scheduler"
        public var plugins = PluginSet()
        public var pluginArgs: [String: JSON] = [:]
        public init() {}
    }

    public var profiles = [ProfileConfiguration()]
    public var percentageOfNodesToScore = 0
    public var parallelism = 16
    public var kubeconfig: String?
    public var qps: Double?
    public var burst: Int?
    /// `leaderElection` as written in the file (field name → value), applied over the flags' defaults.
    public var leaderElection: JSONObject = [:]

    public init() {}

    static let apiVersion = "kubescheduler.config.k8s.io/v1"

    /// Reads the file at `path`, with upstream's errors for the wrong kind or version.
    public init(contentsOf path: String) throws(SchedulerConfigError) {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw SchedulerConfigError("open \(path): no such file or directory")
        }
        let document: JSON
        do {
            guard let decoded = try YAMLDocument.decode(Array(bytes)) else {
                throw SchedulerConfigError("\(path): empty configuration file")
            }
            document = decoded
        } catch let error as YAMLDocument.DecodeError {
            throw SchedulerConfigError("\(path): \(error)")
        } catch let error as SchedulerConfigError {
            throw error
        } catch {
            throw SchedulerConfigError("\(path): \(error)")
        }
        try self.init(json: document)
    }

    init(json: JSON) throws(SchedulerConfigError) {
        self.init()
        let kind = json["kind"]?.stringValue ?? ""
        let version = json["apiVersion"]?.stringValue ?? ""
        guard kind == "KubeSchedulerConfiguration" else {
            throw SchedulerConfigError("no kind \"\(kind)\" is registered for version \"\(version)\"")
        }
        guard version == Self.apiVersion else {
            throw SchedulerConfigError(
                "no kind \"KubeSchedulerConfiguration\" is registered for version \"\(version)\" (this scheduler reads \(Self.apiVersion))"
            )
        }
        if let connection = json["clientConnection"] {
            kubeconfig = connection["kubeconfig"]?.stringValue
            qps = connection["qps"]?.doubleValue
            burst = connection["burst"]?.intValue.map(Int.init)
        }
        leaderElection = json["leaderElection"]?.objectValue ?? [:]
        if let percentage = json["percentageOfNodesToScore"]?.intValue {
            guard (0...100).contains(percentage) else {
                throw SchedulerConfigError(
                    "percentageOfNodesToScore: Invalid value: \(percentage): not in valid range [0-100]")
            }
            percentageOfNodesToScore = Int(percentage)
        }
        if let parallelism = json["parallelism"]?.intValue {
            guard parallelism > 0 else {
                throw SchedulerConfigError(
                    "parallelism: Invalid value: \(parallelism): should be an integer value greater than zero")
            }
            self.parallelism = Int(parallelism)
        }
        if let items = json["profiles"]?.arrayValue {
            profiles = []
            var names: Set<String> = []
            for (index, item) in items.enumerated() {
                var profile = ProfileConfiguration()
                profile.schedulerName = item["schedulerName"]?.stringValue ?? "default-scheduler"
                guard names.insert(profile.schedulerName).inserted else {
                    throw SchedulerConfigError(
                        "profiles[\(index)].schedulerName: Duplicate value: \"\(profile.schedulerName)\"")
                }
                if let plugins = item["plugins"] { profile.plugins = try PluginSet(json: plugins) }
                for config in item["pluginConfig"]?.arrayValue ?? [] {
                    guard let name = config["name"]?.stringValue else {
                        throw SchedulerConfigError("profiles[\(index)].pluginConfig[].name: Required value")
                    }
                    profile.pluginArgs[name] = config["args"] ?? .object([:])
                }
                profiles.append(profile)
            }
            if profiles.isEmpty { throw SchedulerConfigError("profiles: Required value") }
        }
    }
}
