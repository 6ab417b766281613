import Client
import XCTest

@testable import Scheduler

/// Runs one plugin's extension points in the framework's order, so table tests state only inputs and verdicts.
enum Harness {
    /// PreFilter (when the plugin has one) then Filter on each node; a PreFilter rejection is every node's.
    static func filter(_ plugin: any FilterPlugin, pod: Pod, nodes: [NodeInfo]) -> [String] {
        let state = CycleState()
        let info = PodInfo(pod)
        if let preFilter = plugin as? any PreFilterPlugin {
            let result = preFilter.preFilter(state: state, pod: info, nodes: nodes)
            if result.status.isRejected || result.status.code == .error {
                return nodes.map { _ in result.status.verdict }
            }
        }
        return nodes.map { plugin.filter(state: state, pod: info, node: $0).verdict }
    }

    /// Raw and normalised scores of `nodes`, after PreFilter over `allNodes` and PreScore over `nodes`.
    static func scores(_ plugin: any ScorePlugin, pod: Pod, nodes: [NodeInfo], allNodes: [NodeInfo]? = nil) -> (
        raw: [Int64], normalized: [Int64]
    ) {
        let state = CycleState()
        let info = PodInfo(pod)
        if let preFilter = plugin as? any PreFilterPlugin {
            _ = preFilter.preFilter(state: state, pod: info, nodes: allNodes ?? nodes)
        }
        if let preScore = plugin as? any PreScorePlugin { _ = preScore.preScore(state: state, pod: info, nodes: nodes) }
        let raw = nodes.map { plugin.score(state: state, pod: info, node: $0) }
        var normalized = raw
        plugin.normalize(state: state, pod: info, scores: &normalized)
        return (raw, normalized)
    }
}

extension PluginStatus {
    /// `success`, or the code and reasons (`unschedulable: Insufficient cpu`) for table assertions.
    var verdict: String {
        if isSuccess { return "success" }
        return reasons.isEmpty ? "\(code)" : "\(code): \(reasons.joined(separator: ", "))"
    }
}
