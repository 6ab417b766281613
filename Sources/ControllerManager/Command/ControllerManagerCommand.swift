import APIMachinery
import Client
public import Component
import Foundation
public import Logging

/// The `kube-controller-manager` command line: upstream's flags (and the guide era's), informers, serving,
/// leader election, then the enabled controllers while leading.
public enum ControllerManagerCommand {
    /// The manager's own flags; each controller adds its own (see `ControllerDescriptor.flags`).
    static let commonFlags: [FlagDefinition] =
        [
            FlagDefinition("kubeconfig"), FlagDefinition("master"),
            FlagDefinition("kube-api-qps", default: "20"), FlagDefinition("kube-api-burst", default: "30"),
            FlagDefinition(
                "kube-api-content-type", default: "application/vnd.kubernetes.protobuf",
                support: .noEffect("this controller-manager talks JSON to the API server")),
            FlagDefinition("controllers", default: "*"),
            FlagDefinition("use-service-account-credentials", bool: true),
            FlagDefinition("cluster-name", default: "kubernetes"),
            FlagDefinition("min-resync-period", default: "12h0m0s"),
            FlagDefinition("controller-start-interval", default: "0s"),
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
        ] + LeaderElectionConfiguration.flagDefinitions(resourceName: "kube-controller-manager")
        + ServingConfiguration.flagDefinitions(securePort: 10257, insecurePort: 10252)

    /// Every flag accepted: the manager's and every controller's, each name once.
    public static var flags: [FlagDefinition] {
        var seen = Set<String>()
        return (commonFlags + ControllerRegistry.all.flatMap(\.flags)).filter { seen.insert($0.name).inserted }
    }

    /// Parses `arguments` (without the program name), runs until SIGTERM or lost leadership; the exit code.
    public static func main(arguments: [String]) async -> Int32 {
        MemoryReturner.tuneAllocator()
        return await ComponentCommandLine.main(
            component: "kube-controller-manager", definitions: flags, arguments: arguments
        ) {
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
            setup = try Setup(flags: flags, logger: logger)
        } catch {
            logger.critical("\(error)")
            return 1
        }
        return await setup.run()
    }
}
