import ArgumentParser
import Client
import EtcdStore
import Foundation
import Operations

/// `kubeswift status`: every member of a cluster `kubeswift up` runs, healthy or not: each API server's /readyz,
/// each etcd member's health and the leader, nginx, the scheduler's and controller-manager's lease holders and
/// the `kubernetes` Endpoints. Exits 1 when a member is unhealthy.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the health of every member of a cluster started by kubeswift up.")

    @Option(help: "The state directory kubeswift up was given.")
    var stateDir: String = Up.defaultStateDirectory

    func run() async throws {
        let binDirectory = UpHA.binDirectory
        // The default state directory holds the single-master cluster and, under ha/, the HA one.
        let candidates = stateDir == Up.defaultStateDirectory ? [stateDir, stateDir + "/ha"] : [stateDir]
        var healthy = true
        var found = false
        for directory in candidates {
            if let cluster = try LocalCluster.saved(stateDirectory: directory, binDirectory: binDirectory) {
                found = true
                healthy = await report(cluster) && healthy
            } else if FileManager.default.fileExists(atPath: directory + "/admin.kubeconfig") {
                found = true
                healthy = await reportSingle(directory) && healthy
            }
        }
        guard found else { throw ValidationError("no cluster started by kubeswift up in \(stateDir)") }
        if !healthy { throw ExitCode(1) }
    }

    /// The HA cluster's members; true when all are healthy.
    func report(_ cluster: LocalCluster) async -> Bool {
        let processes = (try? cluster.processes()) ?? []
        var healthy = true
        print("Cluster in \(cluster.stateDirectory) (\(cluster.layout.masters.count) masters behind nginx)")
        print("API servers:")
        for process in processes where process.role == .apiServer {
            let server = "https://\(process.address):\(cluster.layout.apiServerPort)"
            let ready = await ClusterProbe.readyz(kubeconfig: cluster.adminKubeconfig, server: server)
            healthy = healthy && ready == "ok"
            print("  \(process.name) \(server) \(pid(cluster, process)) readyz \(ready)")
        }
        print("etcd members:")
        var leaders = 0
        for process in processes where process.role == .etcd {
            let endpoint = "https://\(process.address):2379"
            switch await ClusterProbe.etcdStatus(endpoint: endpoint, pki: cluster.pkiDirectory) {
            case .success(let status):
                if status.isLeader { leaders += 1 }
                let role = status.isLeader ? "leader" : "follower"
                let errors = status.errors.isEmpty ? "" : " errors \(status.errors.joined(separator: ","))"
                healthy = healthy && status.leaderID != 0 && status.errors.isEmpty
                print(
                    "  \(process.name) \(endpoint) \(pid(cluster, process)) healthy \(role) "
                        + "member \(String(status.memberID, radix: 16)) term \(status.raftTerm) "
                        + "revision \(status.revision) db \(status.databaseSize) bytes v\(status.version)\(errors)")
            case .failure(let error):
                healthy = false
                print("  \(process.name) \(endpoint) \(pid(cluster, process)) unhealthy: \(error)")
            }
        }
        if leaders != 1 {
            healthy = false
            print("  no single etcd leader (\(leaders) members say they lead)")
        }
        let balancer = processes.first { $0.role == .loadBalancer }
        let ready = await ClusterProbe.readyz(kubeconfig: cluster.adminKubeconfig)
        healthy = healthy && ready == "ok"
        print("Load balancer:")
        print(
            "  \(balancer?.name ?? "nginx") \(cluster.loadBalancerURL) \(balancer.map { pid(cluster, $0) } ?? "") "
                + "readyz \(ready)")
        healthy = await reportShared(kubeconfig: cluster.adminKubeconfig, cluster: cluster) && healthy
        return healthy
    }

    /// The single-master cluster of `kubeswift up`: one process, the embedded store.
    func reportSingle(_ directory: String) async -> Bool {
        let kubeconfig = directory + "/admin.kubeconfig"
        let server = (try? ClientConfiguration.load(kubeconfigPath: kubeconfig)).map { "https://\($0.authority)" }
        print("Cluster in \(directory) (one kubeswift up process, embedded store in \(directory)/data)")
        let ready = await ClusterProbe.readyz(kubeconfig: kubeconfig)
        print("API servers:")
        print("  kube-apiserver \(server ?? "?") readyz \(ready)")
        let shared = await reportShared(kubeconfig: kubeconfig, cluster: nil)
        return ready == "ok" && shared
    }

    /// Lease holders and the `kubernetes` Endpoints, read through `kubeconfig`'s server.
    func reportShared(kubeconfig: String, cluster: LocalCluster?) async -> Bool {
        guard let client = try? ClusterProbe.client(kubeconfig: kubeconfig) else { return false }
        var healthy = true
        print("Leases (kube-system):")
        for (lease, role) in [
            ("kube-scheduler", LocalCluster.Role.scheduler), ("kube-controller-manager", .controllerManager),
        ] {
            guard let (holder, renewed) = await ClusterProbe.leaseHolder(lease, client: client) else {
                healthy = false
                print("  \(lease): no holder")
                continue
            }
            let process = cluster?.leader(of: role).map { " (\($0.name))" } ?? ""
            print("  \(lease): held by \(holder)\(process), renewed \(renewed)")
        }
        // Informational: which API servers the `kubernetes` Service sends in-cluster clients to.
        let endpoints = await ClusterProbe.kubernetesEndpoints(client: client) ?? []
        print("kubernetes endpoints: \(endpoints.isEmpty ? "none" : endpoints.joined(separator: " "))")
        await client.shutdown()
        return healthy
    }

    func pid(_ cluster: LocalCluster, _ process: LocalCluster.Process) -> String {
        cluster.livePID(process).map { "pid \($0)" } ?? "not running"
    }
}
