import ArgumentParser

/// The operator's tool: what the guide does by hand, and a local control plane in one command.
@main
struct KubeSwift: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kubeswift",
        abstract: "Operate a KubeSwift control plane: certificates, kubeconfigs, a local cluster, load tests.",
        subcommands: [Up.self, Status.self, Nodes.self, Bench.self, PKI.self, Render.self, Etcd.self])
}
