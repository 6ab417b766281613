import APIMachinery

/// What upstream v1.32 answers differently from the v1.20 server the fixtures were recorded from: each entry is
/// applied to the recorded answer before it is compared, and names the upstream code that makes the difference.
/// The recorded fixtures themselves stay exactly as v1.20 printed them.
struct DefaultingOverlay {
    /// The manifest (file name without `.yaml`) the entry applies to.
    var manifest: String
    var path: [String]
    /// v1.32's value; nil when v1.32 leaves the field out.
    var value: JSON?
    /// The upstream function (or fact) behind the difference.
    var reason: String

    /// The recorded answer as v1.32 gives it.
    static func apply(to answer: JSON, of manifest: String) -> JSON {
        var answer = answer
        for entry in entries where entry.manifest == manifest {
            DefaultingCorpus.set(entry.value, at: entry.path, in: &answer)
        }
        return answer
    }

    /// An entry whose path is `|`-separated, so label keys keep their dots and slashes.
    static func entry(_ manifest: String, _ path: String, _ value: JSON?, _ reason: String) -> DefaultingOverlay {
        DefaultingOverlay(
            manifest: manifest, path: path.split(separator: "|").map(String.init), value: value, reason: reason)
    }

    /// Every entry, by topic.
    static let entries: [DefaultingOverlay] =
        versions + services + workloads + jobs + others

    /// Kinds v1.20 served only in a beta version were recorded in it; v1.32 answers in the manifest's version.
    private static let versions: [DefaultingOverlay] = [
        entry("cronjob", "apiVersion", "batch/v1", "batch/v1 CronJob is served from v1.21"),
        entry("horizontalpodautoscaler", "apiVersion", "autoscaling/v2", "autoscaling/v2 is served from v1.23"),
        entry("poddisruptionbudget", "apiVersion", "policy/v1", "policy/v1 PodDisruptionBudget is served from v1.21"),
        entry("endpointslice", "apiVersion", "discovery.k8s.io/v1", "discovery.k8s.io/v1 is served from v1.21"),
    ]

    /// Dual-stack fields (the REST layer's initIPFamilyFields, on since IPv6DualStack went beta in v1.21) and
    /// SetDefaults_Service's internalTrafficPolicy (v1.22) and allocateLoadBalancerNodePorts (v1.24).
    private static let services: [DefaultingOverlay] = {
        var entries: [DefaultingOverlay] = []
        for manifest in [
            "service-clusterip", "service-nodeport", "service-loadbalancer", "service-headless", "service-clientip",
        ] {
            entries.append(entry(manifest, "spec|ipFamilyPolicy", "SingleStack", "initIPFamilyFields"))
            entries.append(entry(manifest, "spec|ipFamilies", ["IPv4"], "initIPFamilyFields"))
            entries.append(
                entry(manifest, "spec|internalTrafficPolicy", "Cluster", "SetDefaults_Service (not for ExternalName)"))
        }
        entries.append(
            entry("service-loadbalancer", "spec|allocateLoadBalancerNodePorts", true, "SetDefaults_Service"))
        return entries
    }()

    /// apps/v1 defaults added after v1.20.
    private static let workloads: [DefaultingOverlay] = [
        entry(
            "daemonset", "spec|updateStrategy|rollingUpdate|maxSurge", 0,
            "SetDefaults_DaemonSet (DaemonSetUpdateSurge, GA in v1.25)"),
        entry(
            "daemonset-hostnetwork", "spec|updateStrategy|rollingUpdate|maxSurge", 0,
            "SetDefaults_DaemonSet (DaemonSetUpdateSurge, GA in v1.25)"),
        // v1.20's SetDefaults_PodSpec made host-network templates' ports host ports; since v1.28 only pods' are
        // (SetDefaults_Pod; DefaultHostNetworkHostPortsInPodTemplates is off).
        entry(
            "daemonset-hostnetwork", "spec|template|spec|containers|0|ports|0|hostPort", nil,
            "SetDefaults_Pod, not SetDefaults_PodSpec, since v1.28"),
        entry(
            "statefulset", "spec|persistentVolumeClaimRetentionPolicy",
            ["whenDeleted": "Retain", "whenScaled": "Retain"],
            "SetDefaults_StatefulSet (StatefulSetAutoDeletePVC, beta in v1.27)"),
    ]

    /// batch/v1 Job defaults added after v1.20, and the `batch.kubernetes.io/` labels the strategy's
    /// generateSelector adds beside the legacy ones since v1.27 (selecting on the new uid label only).
    private static let jobs: [DefaultingOverlay] = {
        var entries: [DefaultingOverlay] = [
            entry("job", "spec|completionMode", "NonIndexed", "SetDefaults_Job (v1.21)"),
            // v1.20 did not know the field and dropped what the manifest said.
            entry("job-indexed", "spec|completionMode", "Indexed", "the manifest's own value, kept since v1.21"),
        ]
        entries.append(entry("job-labelled", "spec|completionMode", "NonIndexed", "SetDefaults_Job (v1.21)"))
        entries.append(
            entry(
                "job-labelled", "spec|ttlSecondsAfterFinished", 100,
                "the manifest's own value, which v1.20 dropped (TTLAfterFinished was alpha until v1.21)"))
        for manifest in ["job", "job-indexed", "job-labelled"] {
            entries += [
                entry(manifest, "spec|suspend", false, "SetDefaults_Job (v1.21)"),
                entry(
                    manifest, "spec|podReplacementPolicy", "TerminatingOrFailed",
                    "SetDefaults_Job (JobPodReplacementPolicy, beta in v1.29)"),
                entry(manifest, "spec|selector|matchLabels|controller-uid", nil, "generateSelector (v1.27)"),
                entry(
                    manifest, "spec|selector|matchLabels|batch.kubernetes.io/controller-uid", "<uid>",
                    "generateSelector (v1.27)"),
            ]
            for labels in ["metadata|labels", "spec|template|metadata|labels"] {
                entries += [
                    entry(
                        manifest, "\(labels)|batch.kubernetes.io/controller-uid", "<uid>", "generateSelector (v1.27)"),
                    entry(
                        manifest, "\(labels)|batch.kubernetes.io/job-name", .string(jobName(manifest)),
                        "generateSelector (v1.27)"),
                ]
            }
        }
        return entries
    }()

    private static func jobName(_ manifest: String) -> String {
        ["job": "pi", "job-indexed": "indexed-job", "job-labelled": "report"][manifest] ?? manifest
    }

    private static let others: [DefaultingOverlay] = [
        entry("job", "metadata|generation", 1, "the Job strategy's PrepareForCreate (v1.21)"),
        entry("job-indexed", "metadata|generation", 1, "the Job strategy's PrepareForCreate (v1.21)"),
        entry("job-labelled", "metadata|generation", 1, "the Job strategy's PrepareForCreate (v1.21)"),
        entry("cronjob", "metadata|generation", 1, "the CronJob strategy's PrepareForCreate (v1.21)"),
        entry(
            "persistentvolume", "status|lastPhaseTransitionTime", "<time>",
            "the PersistentVolume strategy's PrepareForCreate (PersistentVolumeLastPhaseTransitionTime, GA in v1.31)"),
        entry(
            "namespace", "metadata|labels|kubernetes.io/metadata.name", "staging",
            "SetDefaults_Namespace (NamespaceDefaultLabelName, GA in v1.22)"),
        entry("csidriver", "spec|storageCapacity", false, "SetDefaults_CSIDriver (CSIStorageCapacity, beta in v1.21)"),
        entry(
            "csidriver", "spec|requiresRepublish", false,
            "SetDefaults_CSIDriver (CSIServiceAccountToken, beta in v1.21)"),
        entry(
            "csidriver", "spec|seLinuxMount", false,
            "SetDefaults_CSIDriver (SELinuxMountReadWriteOncePod, beta in v1.28)"),
        entry(
            "ingressclass", "spec|parameters|scope", "Cluster",
            "SetDefaults_IngressClass (IngressClassNamespacedParams, v1.21)"),
    ]

    /// Differences the corpus finds that defaulting cannot mend (they come from strategies' create hooks or from
    /// how Go prints objects): set aside by the comparison, each checked still to occur so a fix retires it.
    static let notDefaulting: [(manifest: String, path: String, reason: String)] = []
}
