import APIMachinery
import Foundation
import XCTest

@testable import Scheduler

final class SchedulerConfigurationTests: XCTestCase {
    private func load(_ yaml: String) throws -> SchedulerConfiguration {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sched-\(UUID().uuidString).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try SchedulerConfiguration(contentsOf: path)
    }

    func testAProfileDisablesAndReweightsDefaultsAndPassesPluginArgs() throws {
        let configuration = try load(
            """
            apiVersion: kubescheduler.config.k8s.io/v1
            kind: KubeSchedulerConfiguration
            percentageOfNodesToScore: 30
            clientConnection:
              kubeconfig: /etc/kubernetes/scheduler.kubeconfig
              qps: 100
            leaderElection:
              leaderElect: true
              leaseDuration: 20s
            profiles:
            - schedulerName: default-scheduler
            - schedulerName: bin-packer
              plugins:
                score:
                  disabled:
                  - name: NodeResourcesBalancedAllocation
                  enabled:
                  - name: NodeResourcesFit
                    weight: 5
              pluginConfig:
              - name: NodeResourcesFit
                args:
                  scoringStrategy:
                    type: MostAllocated
            """)
        XCTAssertEqual(configuration.percentageOfNodesToScore, 30)
        XCTAssertEqual(configuration.kubeconfig, "/etc/kubernetes/scheduler.kubeconfig")
        XCTAssertEqual(configuration.qps, 100)
        XCTAssertEqual(configuration.leaderElection["leaseDuration"], "20s")
        XCTAssertEqual(configuration.profiles.map(\.schedulerName), ["default-scheduler", "bin-packer"])
        let packer = try Profile(
            schedulerName: "bin-packer", plugins: configuration.profiles[1].plugins,
            pluginArgs: configuration.profiles[1].pluginArgs, handle: FrameworkHandle())
        XCTAssertFalse(packer.scorePluginNames.contains("NodeResourcesBalancedAllocation"))
        XCTAssertEqual(packer.score.entries.first { $0.name == "NodeResourcesFit" }?.weight, 5)
        let defaults = try Profile(schedulerName: "default-scheduler", plugins: PluginSet(), handle: FrameworkHandle())
        XCTAssertEqual(
            defaults.score.entries.map { "\($0.name)=\($0.weight)" },
            [
                "TaintToleration=3", "NodeAffinity=2", "NodeResourcesFit=1", "PodTopologySpread=2",
                "InterPodAffinity=2", "NodeResourcesBalancedAllocation=1", "ImageLocality=1",
            ])
    }

    func testUpstreamsErrorsForTheWrongKindOrValues() {
        XCTAssertThrowsError(try load("apiVersion: v1\nkind: ConfigMap\n")) { error in
            XCTAssertEqual("\(error)", #"no kind "ConfigMap" is registered for version "v1""#)
        }
        XCTAssertThrowsError(
            try load(
                "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
                    + "percentageOfNodesToScore: 120\n")
        ) { error in
            XCTAssertEqual("\(error)", "percentageOfNodesToScore: Invalid value: 120: not in valid range [0-100]")
        }
        XCTAssertThrowsError(
            try load(
                """
                apiVersion: kubescheduler.config.k8s.io/v1
                kind: KubeSchedulerConfiguration
                profiles:
                - schedulerName: a
                - schedulerName: a
                """)
        ) { error in
            XCTAssertEqual("\(error)", #"profiles[1].schedulerName: Duplicate value: "a""#)
        }
    }

    func testAnUnknownPluginOrAMissingBinderFailsTheProfile() {
        XCTAssertThrowsError(
            try Profile(
                schedulerName: "x",
                plugins: PluginSet(perPoint: ["filter": .init(enabled: [.init("NoSuchPlugin")])]),
                handle: FrameworkHandle())
        ) { error in
            XCTAssertEqual("\(error)", #"plugin "NoSuchPlugin" does not exist"#)
        }
        XCTAssertThrowsError(
            try Profile(
                schedulerName: "x", plugins: PluginSet(perPoint: ["bind": .init(disabled: ["*"])]),
                handle: FrameworkHandle())
        ) { error in
            XCTAssertEqual(
                "\(error)", #"at least one bind plugin is needed for profile with scheduler name "x""#)
        }
    }
}
