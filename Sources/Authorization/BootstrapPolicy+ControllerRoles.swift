import APIMachinery

/// Upstream's `system:controller:*` ClusterRoles and their bindings to the `kube-system` service accounts the
/// controllers act as under `--use-service-account-credentials`, each limited to what its controller writes.
extension BootstrapPolicy {
    enum ControllerRoles {
        static let prefix = "system:controller:"
        static let events = rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"])
        static let readUpdate = ["get", "list", "watch", "update"]

        /// The roles, by name order; each is bound to the service account named by its suffix.
        static var all: [JSON] {
            rules.keys.sorted().map { name in clusterRole(prefix + name, (rules[name] ?? []) + [events]) }
        }

        static var bindings: [JSON] {
            rules.keys.sorted().map { name in clusterRoleBinding(prefix + name, subjects: [serviceAccount(name)]) }
        }

        static let rules: [String: [PolicyRule]] = [
            "attachdetach-controller": [
                rule(["list", "watch"], [""], ["persistentvolumes", "persistentvolumeclaims", "pods"]),
                rule(read, [""], ["nodes"]),
                rule(["patch", "update"], [""], ["nodes/status"]),
                rule(["get", "create", "delete", "list", "watch"], ["storage.k8s.io"], ["volumeattachments"]),
                rule(read, ["storage.k8s.io"], ["csidrivers", "csinodes"]),
            ],
            "certificate-controller": [
                rule(["get", "list", "watch", "delete"], ["certificates.k8s.io"], ["certificatesigningrequests"]),
                rule(
                    ["update"], ["certificates.k8s.io"],
                    ["certificatesigningrequests/status", "certificatesigningrequests/approval"]),
                rule(
                    ["approve"], ["certificates.k8s.io"], ["signers"],
                    names: ["kubernetes.io/kube-apiserver-client-kubelet"]),
                rule(
                    ["sign"], ["certificates.k8s.io"], ["signers"],
                    names: [
                        "kubernetes.io/legacy-unknown", "kubernetes.io/kube-apiserver-client",
                        "kubernetes.io/kube-apiserver-client-kubelet", "kubernetes.io/kubelet-serving",
                    ]),
                rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
            ],
            "clusterrole-aggregation-controller": [
                rule(
                    ["escalate", "get", "list", "watch", "update", "patch"], ["rbac.authorization.k8s.io"],
                    ["clusterroles"])
            ],
            "cronjob-controller": [
                rule(readUpdate, ["batch"], ["cronjobs"]),
                rule(["get", "list", "watch", "create", "update", "delete", "patch"], ["batch"], ["jobs"]),
                rule(["update"], ["batch"], ["cronjobs/status", "cronjobs/finalizers"]),
                rule(["list", "delete"], [""], ["pods"]),
            ],
            "daemon-set-controller": [
                rule(read, ["extensions", "apps"], ["daemonsets"]),
                rule(["update"], ["extensions", "apps"], ["daemonsets/status", "daemonsets/finalizers"]),
                rule(["list", "watch"], [""], ["nodes"]),
                rule(["list", "watch", "create", "delete", "patch"], [""], ["pods"]),
                rule(["create"], [""], ["pods/binding"]),
                rule(
                    ["get", "list", "watch", "create", "delete", "update", "patch"], ["apps"], ["controllerrevisions"]),
            ],
            "deployment-controller": [
                rule(readUpdate, ["extensions", "apps"], ["deployments"]),
                rule(["update"], ["extensions", "apps"], ["deployments/status", "deployments/finalizers"]),
                rule(
                    ["get", "list", "watch", "create", "update", "patch", "delete"], ["apps", "extensions"],
                    ["replicasets"]),
                rule(readUpdate, [""], ["pods"]),
            ],
            "disruption-controller": [
                rule(read, ["extensions", "apps"], ["deployments", "replicasets", "statefulsets"]),
                rule(read, [""], ["replicationcontrollers"]),
                rule(read, ["policy"], ["poddisruptionbudgets"]),
                rule(["update"], ["policy"], ["poddisruptionbudgets/status"]),
                rule(["patch", "update"], [""], ["pods/status"]),
                rule(["get"], ["*"], ["*/scale"]),
            ],
            "endpoint-controller": [
                rule(read, [""], ["services", "pods"]),
                rule(["get", "list", "create", "update", "delete"], [""], ["endpoints"]),
                rule(["create"], [""], ["endpoints/restricted"]),
            ],
            "endpointslice-controller": [
                rule(read, [""], ["services", "pods", "nodes"]),
                rule(["update"], [""], ["services/finalizers"]),
                rule(["get", "list", "create", "update", "delete"], ["discovery.k8s.io"], ["endpointslices"]),
            ],
            "endpointslicemirroring-controller": [
                rule(read, [""], ["services", "endpoints"]),
                rule(["update"], [""], ["services/finalizers", "endpoints/finalizers"]),
                rule(["get", "list", "create", "update", "delete"], ["discovery.k8s.io"], ["endpointslices"]),
            ],
            "ephemeral-volume-controller": [
                rule(read, [""], ["pods"]),
                rule(["update"], [""], ["pods/finalizers"]),
                rule(["get", "list", "watch", "create"], [""], ["persistentvolumeclaims"]),
            ],
            "expand-controller": [
                rule(["get", "list", "watch", "update", "patch"], [""], ["persistentvolumes"]),
                rule(["update", "patch"], [""], ["persistentvolumeclaims/status"]),
                rule(read, [""], ["persistentvolumeclaims"]),
                rule(read, ["storage.k8s.io"], ["storageclasses"]),
                rule(["get"], [""], ["services", "endpoints", "secrets"]),
            ],
            "generic-garbage-collector": [
                rule(["get", "list", "watch", "patch", "update", "delete"], ["*"], ["*"])
            ],
            "horizontal-pod-autoscaler": [
                rule(read, ["autoscaling"], ["horizontalpodautoscalers"]),
                rule(["update"], ["autoscaling"], ["horizontalpodautoscalers/status"]),
                rule(["get", "update"], ["*"], ["*/scale"]),
                rule(["list"], [""], ["pods"]),
                rule(["list"], ["metrics.k8s.io"], ["pods"]),
                rule(["get", "list"], ["custom.metrics.k8s.io", "external.metrics.k8s.io"], ["*"]),
            ],
            "job-controller": [
                rule(["get", "list", "watch", "update", "patch"], ["batch"], ["jobs"]),
                rule(["update"], ["batch"], ["jobs/status", "jobs/finalizers"]),
                rule(["list", "watch", "create", "delete", "patch"], [""], ["pods"]),
            ],
            "namespace-controller": [
                rule(["get", "list", "watch", "delete"], [""], ["namespaces"]),
                rule(["update"], [""], ["namespaces/finalize", "namespaces/status"]),
                rule(["get", "list", "delete", "deletecollection"], ["*"], ["*"]),
            ],
            "node-controller": [
                rule(["get", "list", "update", "delete", "patch"], [""], ["nodes"]),
                rule(["patch", "update"], [""], ["nodes/status", "pods/status"]),
                rule(["list", "get", "delete"], [""], ["pods"]),
            ],
            "persistent-volume-binder": [
                rule(["get", "list", "watch", "update", "create", "delete"], [""], ["persistentvolumes"]),
                rule(["update"], [""], ["persistentvolumes/status", "persistentvolumeclaims/status"]),
                rule(readUpdate, [""], ["persistentvolumeclaims"]),
                rule(["list", "watch", "get", "create", "delete"], [""], ["pods"]),
                rule(read, ["storage.k8s.io"], ["storageclasses"]),
                rule(["get", "create", "update", "delete"], [""], ["endpoints"]),
                rule(["get", "create", "delete"], [""], ["services"]),
                rule(["get"], [""], ["secrets"]),
                rule(["get", "list"], [""], ["nodes"]),
                rule(["watch"], [""], ["events"]),
            ],
            "pod-garbage-collector": [
                rule(["list", "watch", "delete"], [""], ["pods"]),
                rule(["get", "list"], [""], ["nodes"]),
                rule(["patch"], [""], ["pods/status"]),
            ],
            "pv-protection-controller": [rule(readUpdate, [""], ["persistentvolumes"])],
            "pvc-protection-controller": [
                rule(readUpdate, [""], ["persistentvolumeclaims"]),
                rule(read, [""], ["pods"]),
            ],
            "replicaset-controller": [
                rule(readUpdate, ["apps", "extensions"], ["replicasets"]),
                rule(["update"], ["apps", "extensions"], ["replicasets/status", "replicasets/finalizers"]),
                rule(["list", "watch", "patch", "create", "delete"], [""], ["pods"]),
            ],
            "replication-controller": [
                rule(readUpdate, [""], ["replicationcontrollers"]),
                rule(["update"], [""], ["replicationcontrollers/status", "replicationcontrollers/finalizers"]),
                rule(["list", "watch", "patch", "create", "delete"], [""], ["pods"]),
            ],
            "resourcequota-controller": [
                rule(["list", "watch"], ["*"], ["*"]),
                rule(["update"], [""], ["resourcequotas/status"]),
            ],
            "root-ca-cert-publisher": [rule(["create", "update"], [""], ["configmaps"])],
            "route-controller": [
                rule(["list", "watch"], [""], ["nodes"]),
                rule(["patch"], [""], ["nodes/status"]),
            ],
            "service-account-controller": [rule(["create"], [""], ["serviceaccounts"])],
            "service-controller": [
                rule(read, [""], ["services"]),
                rule(["patch", "update"], [""], ["services/status"]),
                rule(["list", "watch"], [""], ["nodes"]),
            ],
            "statefulset-controller": [
                rule(["list", "watch"], [""], ["pods"]),
                rule(read, ["apps"], ["statefulsets"]),
                rule(["update"], ["apps"], ["statefulsets/status", "statefulsets/finalizers"]),
                rule(["get", "create", "delete", "update", "patch"], [""], ["pods"]),
                rule(
                    ["get", "create", "delete", "update", "patch", "list", "watch"], ["apps"], ["controllerrevisions"]),
                rule(["get", "create", "update", "delete"], [""], ["persistentvolumeclaims"]),
            ],
            "ttl-after-finished-controller": [rule(["get", "list", "watch", "delete"], ["batch"], ["jobs"])],
            "ttl-controller": [rule(["update", "patch", "list", "watch"], [""], ["nodes"])],
        ]
    }
}
