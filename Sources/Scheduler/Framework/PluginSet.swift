public import APIMachinery

/// The plugins of one profile as `KubeSchedulerConfiguration` (kubescheduler.config.k8s.io/v1) names them:
/// `multiPoint` enables a plugin at every extension point it implements; per-point lists add or disable.
public struct PluginSet: Sendable, Hashable {
    /// A plugin name with its score weight (0: the default weight).
    public struct Entry: Sendable, Hashable {
        public var name: String
        public var weight: Int64

        public init(_ name: String, weight: Int64 = 0) {
            self.name = name
            self.weight = weight
        }
    }

    /// Enabled and disabled names at one point; `*` in disabled turns off the defaults there.
    public struct Point: Sendable, Hashable {
        public var enabled: [Entry] = []
        public var disabled: [String] = []

        public init(enabled: [Entry] = [], disabled: [String] = []) {
            self.enabled = enabled
            self.disabled = disabled
        }
    }

    public static let points = [
        "queueSort", "preEnqueue", "preFilter", "filter", "postFilter", "preScore", "score", "reserve", "permit",
        "preBind", "bind", "postBind",
    ]

    public var multiPoint = Point()
    /// Per extension point, by the configuration's key (`filter`, `score`, …).
    public var perPoint: [String: Point] = [:]

    public init(multiPoint: Point = Point(), perPoint: [String: Point] = [:]) {
        self.multiPoint = multiPoint
        self.perPoint = perPoint
    }

    /// Upstream v1.32's default plugins and score weights (`getDefaultPlugins`).
    public static let defaults = PluginSet(
        multiPoint: Point(enabled: [
            Entry("SchedulingGates"), Entry("PrioritySort"), Entry("NodeUnschedulable"), Entry("NodeName"),
            Entry("TaintToleration", weight: 3), Entry("NodeAffinity", weight: 2), Entry("NodePorts"),
            Entry("NodeResourcesFit", weight: 1), Entry("VolumeRestrictions"), Entry("NodeVolumeLimits"),
            Entry("VolumeBinding"), Entry("VolumeZone"), Entry("PodTopologySpread", weight: 2),
            Entry("InterPodAffinity", weight: 2), Entry("DefaultPreemption"),
            Entry("NodeResourcesBalancedAllocation", weight: 1), Entry("ImageLocality", weight: 1),
            Entry("DefaultBinder"),
        ]))

    /// A profile's `plugins` merged onto the defaults as upstream merges them: a point's `disabled` removes
    /// default entries (`*` all of them), its `enabled` entries are added (or re-weighted) after the rest.
    public func merged(onto base: PluginSet) -> PluginSet {
        var result = base
        result.multiPoint = Self.merge(multiPoint, onto: base.multiPoint)
        for (point, config) in perPoint {
            result.perPoint[point] = Self.merge(config, onto: base.perPoint[point] ?? Point())
        }
        return result
    }

    private static func merge(_ custom: Point, onto base: Point) -> Point {
        let disabledAll = custom.disabled.contains("*")
        var enabled = base.enabled.filter { !disabledAll && !custom.disabled.contains($0.name) }
        for entry in custom.enabled {
            if let index = enabled.firstIndex(where: { $0.name == entry.name }) {
                enabled[index] = entry
            } else {
                enabled.append(entry)
            }
        }
        return Point(enabled: enabled, disabled: custom.disabled)
    }

    /// Reads a profile's `plugins` object.
    public init(json: JSON) throws(SchedulerConfigError) {
        self.init()
        guard let object = json.objectValue else { throw SchedulerConfigError("plugins: must be an object") }
        for (key, value) in object {
            let point = try Self.point(value, path: "plugins.\(key)")
            if key == "multiPoint" {
                multiPoint = point
            } else if Self.points.contains(key) {
                perPoint[key] = point
            } else {
                throw SchedulerConfigError("plugins: unknown field \"\(key)\"")
            }
        }
    }

    private static func point(_ json: JSON, path: String) throws(SchedulerConfigError) -> Point {
        var point = Point()
        for item in json["enabled"]?.arrayValue ?? [] {
            guard let name = item["name"]?.stringValue else {
                throw SchedulerConfigError("\(path).enabled: name required")
            }
            point.enabled.append(Entry(name, weight: item["weight"]?.intValue ?? 0))
        }
        for item in json["disabled"]?.arrayValue ?? [] {
            guard let name = item["name"]?.stringValue else {
                throw SchedulerConfigError("\(path).disabled: name required")
            }
            point.disabled.append(name)
        }
        return point
    }
}

/// A configuration file or flag the scheduler cannot start with.
public struct SchedulerConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
