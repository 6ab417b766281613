public import Client

/// A set of completion indexes in `status.completedIndexes`' form: sorted ranges, `1,3-5,7`.
public struct CompletionIndexes: Sendable, Hashable, CustomStringConvertible {
    /// Disjoint, sorted, non-adjacent closed ranges.
    public private(set) var ranges: [ClosedRange<Int>] = []

    public init() {}

    /// Reads `text`, keeping only indexes below `completions`; malformed parts are skipped, as upstream logs
    /// and skips them.
    public init(parsing text: String, completions: Int) {
        var indexes: [Int] = []
        for part in text.split(separator: ",") {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            if bounds.count == 1, let value = Int(bounds[0]), value >= 0, value < completions {
                indexes.append(value)
            } else if bounds.count == 2, let low = Int(bounds[0]), let high = Int(bounds[1]), low >= 0, low <= high {
                let upper = min(high, completions - 1)
                if low <= upper { indexes += Array(low...upper) }
            }
        }
        self.init(indexes)
    }

    public init(_ indexes: some Sequence<Int>) {
        for index in indexes.sorted() { insert(index) }
    }

    public var total: Int { ranges.reduce(0) { $0 + $1.count } }

    public func contains(_ index: Int) -> Bool { ranges.contains { $0.contains(index) } }

    /// Adds `index`, merging it into its neighbours.
    public mutating func insert(_ index: Int) {
        guard !contains(index) else { return }
        var merged = ranges + [index...index]
        merged.sort { $0.lowerBound < $1.lowerBound }
        var result: [ClosedRange<Int>] = []
        for range in merged {
            if let last = result.last, range.lowerBound <= last.upperBound + 1 {
                result[result.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                result.append(range)
            }
        }
        ranges = result
    }

    public var description: String {
        ranges.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
            .joined(separator: ",")
    }
}

/// How a Job's pod failure policy judges one failed pod, as upstream's `matchPodFailurePolicy`.
public struct PodFailureVerdict: Sendable, Hashable {
    /// Set when a `FailJob` rule matched: the Job fails with this message.
    public var failJobMessage: String?
    /// Whether the failure counts toward `backoffLimit` (`Ignore` does not).
    public var countsFailure: Bool
    /// The matching rule's action, nil when no rule matched.
    public var action: String?

    /// Judges the failed `pod` against `policy`: the first matching rule decides; without a match the
    /// failure counts.
    public init(policy: PodFailurePolicy, pod: Pod) {
        failJobMessage = nil
        countsFailure = true
        action = nil
        let podName = "\(pod.metadata.namespace ?? "")/\(pod.metadata.name ?? "")"
        for (index, rule) in policy.rules.enumerated() {
            let ruleAction = rule.action ?? ""
            var matchedMessage: String?
            if let requirement = rule.onExitCodes {
                if let (name, code) = Self.matchingContainer(pod, requirement) {
                    matchedMessage =
                        "Container \(name) for pod \(podName) failed with exit code \(code) matching \(ruleAction) rule at index \(index)"
                }
            } else if let condition = Self.matchingCondition(pod, rule.onPodConditions) {
                matchedMessage =
                    "Pod \(podName) has condition \(condition) matching \(ruleAction) rule at index \(index)"
            }
            guard let matchedMessage else { continue }
            action = ruleAction
            switch ruleAction {
            case "FailJob": failJobMessage = matchedMessage
            case "Ignore": countsFailure = false
            default: break
            }
            return
        }
    }

    /// The first container (init containers first) that exited non-zero with a code the requirement selects.
    private static func matchingContainer(
        _ pod: Pod, _ requirement: PodFailurePolicyOnExitCodesRequirement
    ) -> (String, Int32)? {
        for status in pod.status.initContainerStatuses + pod.status.containerStatuses {
            guard let code = status.state?.terminated?.exitCode, code != 0 else { continue }
            if let name = requirement.containerName, name != status.name { continue }
            let listed = requirement.values.contains(code)
            if (requirement.operator == "In" && listed) || (requirement.operator == "NotIn" && !listed) {
                return (status.name ?? "", code)
            }
        }
        return nil
    }

    private static func matchingCondition(
        _ pod: Pod, _ patterns: [PodFailurePolicyOnPodConditionsPattern]
    ) -> String? {
        for pattern in patterns {
            let wanted = pattern.status ?? "True"
            if pod.status.conditions.contains(where: { $0.type == pattern.type && $0.status == wanted }) {
                return pattern.type
            }
        }
        return nil
    }
}

/// Upstream's pod failure backoff: before replacing failed pods the Job waits 10s, doubling with each
/// failure since the last success, at most 6 minutes, counted from the last failure.
public struct JobBackoff: Sendable, Hashable {
    public static let initial: Duration = .seconds(10)
    public static let maximum: Duration = .seconds(360)

    /// Failures seen since the last success.
    public var failuresAfterLastSuccess: Int = 0
    /// Wall-clock seconds of the last failure.
    public var lastFailure: Int64?

    public init(failuresAfterLastSuccess: Int = 0, lastFailure: Int64? = nil) {
        self.failuresAfterLastSuccess = failuresAfterLastSuccess
        self.lastFailure = lastFailure
    }

    /// The wait after `failures` consecutive failures.
    public static func delay(failures: Int) -> Duration {
        guard failures > 0 else { return .zero }
        var delay = initial
        for _ in 1..<min(failures, 32) {
            delay *= 2
            if delay >= maximum { return maximum }
        }
        return min(delay, maximum)
    }

    /// How long from `now` (wall-clock seconds) until pods may be created again.
    public func remaining(now: Int64) -> Duration {
        guard failuresAfterLastSuccess > 0, let lastFailure else { return .zero }
        let remaining = Self.delay(failures: failuresAfterLastSuccess) - .seconds(now - lastFailure)
        return max(.zero, remaining)
    }

    /// The record after `succeeded` new successes and failures at `failedAt` (wall-clock seconds).
    public func adding(succeeded: Int, failedAt: [Int64]) -> JobBackoff {
        if succeeded > 0 {
            return JobBackoff(failuresAfterLastSuccess: failedAt.count, lastFailure: failedAt.max() ?? lastFailure)
        }
        guard let latest = failedAt.max() else { return self }
        return JobBackoff(
            failuresAfterLastSuccess: failuresAfterLastSuccess + failedAt.count,
            lastFailure: max(latest, lastFailure ?? latest))
    }
}
