/// Prefers nodes that already hold the pod's container images, weighted by image size and scaled down for
/// images most nodes have (so the pods of a widely pulled image still spread), as upstream's ImageLocality.
struct ImageLocality: PreScorePlugin, ScorePlugin {
    let name = "ImageLocality"
    let clusterEvents: Set<ClusterEvent> = []

    static let megabyte: Int64 = 1024 * 1024
    /// Below this many bytes of images already present a node gets no credit (upstream's `minThreshold`).
    static let minThreshold: Int64 = 23 * megabyte
    /// Per container, more bytes than this earn no more credit (upstream's `maxContainerThreshold`).
    static let maxContainerThreshold: Int64 = 1000 * megabyte

    /// How many nodes hold each image, and how many nodes there are: over the whole snapshot as upstream
    /// when a PreFilter recorded it (InterPodAffinity and PodTopologySpread do), else over the feasible nodes.
    struct Spread: Sendable {
        var nodesWithImage: [String: Int64]
        var totalNodes: Int64
        /// The pod's normalized images, computed once per cycle rather than once per node.
        var images: [String] = []
    }

    func preScore(state: CycleState, pod: PodInfo, nodes: [NodeInfo]) -> PluginStatus {
        let podImages = Self.images(of: pod)
        let images = Set(podImages)
        var counts: [String: Int64] = [:]
        let all = state.read(AllNodes.self)?.nodes ?? nodes
        if let summary = state.read(ClusterSummary.self) {
            // The cache counts nodes per image as nodes change; no walk over every node per pod.
            for image in images { counts[image] = summary.imageNodes[image].map(Int64.init) }
        } else {
            for node in all {
                for image in images where node.imageSizes[image] != nil { counts[image, default: 0] += 1 }
            }
        }
        state.write(Spread(nodesWithImage: counts, totalNodes: Int64(all.count), images: podImages))
        return .success
    }

    func score(state: CycleState, pod: PodInfo, node: NodeInfo) -> Int64 {
        // A node without images scores the minimum, 0; decided before the (locked) cycle state is read.
        if node.imageSizes.isEmpty { return 0 }
        let spread = state.read(Spread.self)
        let images = spread?.images ?? Self.images(of: pod)
        var sum: Int64 = 0
        for image in images {
            guard let size = node.imageSizes[image] else { continue }
            let holders = spread?.nodesWithImage[image] ?? 1
            let total = max(spread?.totalNodes ?? 1, holders)
            sum += Int64(Double(size) * Double(holders) / Double(total))
        }
        let spec = pod.pod.spec
        return Self.priority(sumScores: sum, containers: Int64(spec.initContainers.count + spec.containers.count))
    }

    /// Maps the summed image bytes onto 0…`maxNodeScore` between the thresholds.
    static func priority(sumScores: Int64, containers: Int64) -> Int64 {
        let maxThreshold = maxContainerThreshold * max(containers, 1)
        let clamped = min(max(sumScores, minThreshold), maxThreshold)
        return maxNodeScore * (clamped - minThreshold) / (maxThreshold - minThreshold)
    }

    /// The images of the pod's init and regular containers, normalised as node statuses name them.
    static func images(of pod: PodInfo) -> [String] {
        (pod.pod.spec.initContainers + pod.pod.spec.containers).compactMap { container in
            container.image.flatMap { $0.isEmpty ? nil : normalized($0) }
        }
    }

    /// An image without a tag means `:latest` (a colon before the last slash is a registry port, not a tag).
    static func normalized(_ image: String) -> String {
        let colon = image.lastIndex(of: ":")
        let slash = image.lastIndex(of: "/")
        switch (colon, slash) {
        case (nil, _): return image + ":latest"
        case (let colon?, let slash?) where colon < slash: return image + ":latest"
        default: return image
        }
    }
}
