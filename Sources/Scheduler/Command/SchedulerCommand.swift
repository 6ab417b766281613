import APIMachinery
import Client
public import Component
import Foundation
public import Logging

/// The `kube-scheduler` command line: upstream's flags (and the guide era's), the configuration file,
/// informers, serving, leader election, then the scheduling loop while leading.
public enum SchedulerCommand {
    /// Every flag accepted, with upstream's names and defaults.
    public static let flags: [FlagDefinition] =
        [
            FlagDefinition("config"),
            FlagDefinition("kubeconfig"), FlagDefinition("master"),
            FlagDefinition("kube-api-qps", default: "50"), FlagDefinition("kube-api-burst", default: "100"),
            FlagDefinition(
                "kube-api-content-type", default: "application/vnd.kubernetes.protobuf",
                support: .noEffect("this scheduler talks JSON to the API server")),
            FlagDefinition("logtostderr", bool: true, default: "true"),
            FlagDefinition("alsologtostderr", bool: true, default: "false"),
            FlagDefinition("log-dir"), FlagDefinition("v", default: "0"),
            FlagDefinition(
                "allow-privileged", bool: true, support: .noEffect("privileged containers are a kubelet setting")),
            FlagDefinition(
                "authentication-kubeconfig", support: .noEffect("/healthz and /metrics need no credentials")),
            FlagDefinition("authorization-kubeconfig", support: .noEffect("/healthz and /metrics need no credentials")),
            FlagDefinition("profiling", bool: true, default: "true", support: .noEffect("no pprof endpoints")),
            FlagDefinition("contention-profiling", bool: true, support: .noEffect("no pprof endpoints")),
        ] + LeaderElectionConfiguration.flagDefinitions(resourceName: "kube-scheduler")
        + ServingConfiguration.flagDefinitions(securePort: 10259, insecurePort: 10251)

    /// Parses `arguments` (without the program name), runs until SIGTERM or lost leadership; the exit code.
    public static func main(arguments: [String]) async -> Int32 {
        MemoryReturner.tuneAllocator()
        return await ComponentCommandLine.main(component: "kube-scheduler", definitions: flags, arguments: arguments) {
            await run($0, logger: $1)
        }
    }

    /// Runs inside another process (`kubeswift up`) until the task is cancelled; the exit code.
    public static func run(arguments: [String], logger: Logger) async -> Int32 {
        await ComponentCommandLine.embedded(definitions: flags, arguments: arguments, logger: logger) {
            await run($0, logger: $1)
        }
    }

    /// Everything after flag parsing; returns the exit code.
    static func run(_ flags: FlagSet, logger: Logger) async -> Int32 {
        let setup: Setup
        do {
            setup = try await Setup(flags: flags, logger: logger)
        } catch {
            logger.critical("\(error)")
            return 1
        }
        return await setup.run()
    }
}
