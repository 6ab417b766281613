import APIMachinery

/// The bootstrap ClusterRoles with upstream's rules (bootstrappolicy testdata `cluster-roles.yaml`, default
/// feature gates), in name order.
extension BootstrapPolicy {
    enum ClusterRoles {
        static let readWrite = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
        static let write = ["create", "delete", "deletecollection", "patch", "update"]
        static let eventWrite = ["create", "patch", "update"]
        static let toAdmin = ["rbac.authorization.k8s.io/aggregate-to-admin": "true"]
        static let toEdit = ["rbac.authorization.k8s.io/aggregate-to-edit": "true"]
        static let toView = ["rbac.authorization.k8s.io/aggregate-to-view": "true"]

        static var all: [JSON] {
            [
                clusterRole("admin", aggregatesLabel: "rbac.authorization.k8s.io/aggregate-to-admin"),
                clusterRole(
                    "cluster-admin", [rule(["*"], ["*"], ["*"]), urls(["*"], ["*"])]),
                clusterRole(
                    "edit", labels: toAdmin, aggregatesLabel: "rbac.authorization.k8s.io/aggregate-to-edit"),
                clusterRole(
                    "system:aggregate-to-admin", labels: toAdmin,
                    [
                        rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews"]),
                        rule(readWrite, ["rbac.authorization.k8s.io"], ["rolebindings", "roles"]),
                    ]),
                clusterRole("system:aggregate-to-edit", labels: toEdit, aggregateToEdit),
                clusterRole("system:aggregate-to-view", labels: toView, aggregateToView),
                clusterRole(
                    "system:auth-delegator",
                    [
                        rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
                        rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
                    ]),
                clusterRole(
                    "system:basic-user",
                    [
                        rule(
                            ["create"], ["authorization.k8s.io"],
                            ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
                        rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"]),
                    ]),
                clusterRole(
                    "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
                    [rule(["create"], ["certificates.k8s.io"], ["certificatesigningrequests/nodeclient"])]),
                clusterRole(
                    "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
                    [rule(["create"], ["certificates.k8s.io"], ["certificatesigningrequests/selfnodeclient"])]),
                approver("kube-apiserver-client"),
                approver("kube-apiserver-client-kubelet"),
                approver("kubelet-serving"),
                approver("legacy-unknown"),
                clusterRole(
                    "system:discovery",
                    [
                        urls(
                            ["get"],
                            [
                                "/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*",
                                "/readyz", "/version", "/version/",
                            ])
                    ]),
                clusterRole(
                    "system:heapster",
                    [
                        rule(read, [""], ["events", "namespaces", "nodes", "pods"]),
                        rule(read, ["extensions"], ["deployments"]),
                    ]),
                clusterRole("system:kube-aggregator", [rule(read, [""], ["endpoints", "services"])]),
                clusterRole("system:kube-controller-manager", kubeControllerManager),
                clusterRole("system:kube-dns", [rule(["list", "watch"], [""], ["endpoints", "services"])]),
                clusterRole("system:kube-scheduler", kubeScheduler),
                clusterRole(
                    "system:kubelet-api-admin",
                    [
                        rule(read, [""], ["nodes"]),
                        rule(["proxy"], [""], ["nodes"]),
                        rule(["*"], [""], ["nodes/log", "nodes/metrics", "nodes/proxy", "nodes/stats"]),
                        rule(["*"], [""], ["nodes/configz", "nodes/healthz", "nodes/pods"]),
                    ]),
                clusterRole(
                    "system:monitoring",
                    [
                        urls(
                            ["get"],
                            [
                                "/healthz", "/healthz/*", "/livez", "/livez/*", "/metrics", "/metrics/slis", "/readyz",
                                "/readyz/*", "/statusz",
                            ]),
                        rule(["get"], [""], ["nodes/metrics"]),
                    ]),
                clusterRole("system:node", node),
                clusterRole(
                    "system:node-bootstrapper",
                    [rule(["create", "get", "list", "watch"], ["certificates.k8s.io"], ["certificatesigningrequests"])]),
                clusterRole(
                    "system:node-problem-detector",
                    [
                        rule(["get"], [""], ["nodes"]),
                        rule(["patch"], [""], ["nodes/status"]),
                        rule(eventWrite, ["", "events.k8s.io"], ["events"]),
                    ]),
                clusterRole(
                    "system:node-proxier",
                    [
                        rule(["list", "watch"], [""], ["endpoints", "services"]),
                        rule(read, [""], ["nodes"]),
                        rule(eventWrite, ["", "events.k8s.io"], ["events"]),
                        rule(["list", "watch"], ["networking.k8s.io"], ["servicecidrs"]),
                        rule(["list", "watch"], ["discovery.k8s.io"], ["endpointslices"]),
                    ]),
                clusterRole(
                    "system:persistent-volume-provisioner",
                    [
                        rule(["create", "delete", "get", "list", "watch"], [""], ["persistentvolumes"]),
                        rule(["get", "list", "update", "watch"], [""], ["persistentvolumeclaims"]),
                        rule(read, ["storage.k8s.io"], ["storageclasses"]),
                        rule(["watch"], [""], ["events"]),
                        rule(eventWrite, ["", "events.k8s.io"], ["events"]),
                    ]),
                clusterRole(
                    "system:public-info-viewer",
                    [urls(["get"], ["/healthz", "/livez", "/readyz", "/version", "/version/"])]),
                clusterRole(
                    "system:service-account-issuer-discovery",
                    [
                        urls(
                            ["get"],
                            [
                                "/.well-known/openid-configuration", "/.well-known/openid-configuration/",
                                "/openid/v1/jwks", "/openid/v1/jwks/",
                            ])
                    ]),
                clusterRole(
                    "system:volume-scheduler",
                    [
                        rule(["get", "list", "patch", "update", "watch"], [""], ["persistentvolumes"]),
                        rule(read, ["storage.k8s.io"], ["storageclasses"]),
                        rule(["get", "list", "patch", "update", "watch"], [""], ["persistentvolumeclaims"]),
                    ]),
                clusterRole("view", labels: toEdit, aggregatesLabel: "rbac.authorization.k8s.io/aggregate-to-view"),
            ]
        }

        static func approver(_ signer: String) -> JSON {
            clusterRole(
                "system:certificates.k8s.io:\(signer)-approver",
                [rule(["approve"], ["certificates.k8s.io"], ["signers"], names: ["kubernetes.io/\(signer)"])])
        }

        static let aggregateToEdit = [
            rule(
                read, [""],
                ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"]),
            rule(["impersonate"], [""], ["serviceaccounts"]),
            rule(write, [""], ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"]),
            rule(["create"], [""], ["pods/eviction"]),
            rule(
                write, [""],
                [
                    "configmaps", "persistentvolumeclaims", "replicationcontrollers", "replicationcontrollers/scale",
                    "secrets", "serviceaccounts", "services", "services/proxy",
                ]),
            rule(["create"], [""], ["serviceaccounts/token"]),
            rule(write, ["", "events.k8s.io"], ["events"]),
            rule(
                write, ["apps"],
                [
                    "daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets",
                    "replicasets/scale", "statefulsets", "statefulsets/scale",
                ]),
            rule(write, ["autoscaling"], ["horizontalpodautoscalers"]),
            rule(write, ["batch"], ["cronjobs", "jobs"]),
            rule(
                write, ["extensions"],
                [
                    "daemonsets", "deployments", "deployments/rollback", "deployments/scale", "ingresses",
                    "networkpolicies", "replicasets", "replicasets/scale", "replicationcontrollers/scale",
                ]),
            rule(write, ["policy"], ["poddisruptionbudgets"]),
            rule(write, ["networking.k8s.io"], ["ingresses", "networkpolicies"]),
            rule(readWrite, ["coordination.k8s.io"], ["leases"]),
            rule(write, ["resource.k8s.io"], ["resourceclaims", "resourceclaimtemplates"]),
        ]

        static let aggregateToView = [
            rule(
                read, [""],
                [
                    "configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods",
                    "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services",
                    "services/status",
                ]),
            rule(
                read, [""],
                [
                    "bindings", "limitranges", "namespaces/status", "pods/log", "pods/status",
                    "replicationcontrollers/status", "resourcequotas", "resourcequotas/status",
                ]),
            rule(read, [""], ["namespaces"]),
            rule(read, ["", "events.k8s.io"], ["events"]),
            rule(read, ["discovery.k8s.io"], ["endpointslices"]),
            rule(
                read, ["apps"],
                [
                    "controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale",
                    "deployments/status", "replicasets", "replicasets/scale", "replicasets/status", "statefulsets",
                    "statefulsets/scale", "statefulsets/status",
                ]),
            rule(read, ["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
            rule(read, ["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"]),
            rule(
                read, ["extensions"],
                [
                    "daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status",
                    "ingresses", "ingresses/status", "networkpolicies", "replicasets", "replicasets/scale",
                    "replicasets/status", "replicationcontrollers/scale",
                ]),
            rule(read, ["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
            rule(read, ["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"]),
            rule(read, ["resource.k8s.io"], ["resourceclaims", "resourceclaims/status", "resourceclaimtemplates"]),
        ]

        static let kubeControllerManager = [
            rule(eventWrite, ["", "events.k8s.io"], ["events"]),
            rule(["create"], ["coordination.k8s.io"], ["leases"]),
            rule(["get", "update"], ["coordination.k8s.io"], ["leases"], names: ["kube-controller-manager"]),
            rule(["create"], [""], ["secrets", "serviceaccounts"]),
            rule(["delete"], [""], ["secrets"]),
            rule(["get"], [""], ["configmaps", "namespaces", "secrets", "serviceaccounts"]),
            rule(["update"], [""], ["secrets", "serviceaccounts"]),
            rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
            rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
            rule(["list", "watch"], ["*"], ["*"]),
            rule(["create"], [""], ["serviceaccounts/token"]),
        ]

        static let kubeScheduler = [
            rule(eventWrite, ["", "events.k8s.io"], ["events"]),
            rule(["create"], ["coordination.k8s.io"], ["leases"]),
            rule(["get", "list", "update", "watch"], ["coordination.k8s.io"], ["leases"], names: ["kube-scheduler"]),
            rule(readWrite, ["coordination.k8s.io"], ["leasecandidates"]),
            rule(read, [""], ["nodes"]),
            rule(["delete", "get", "list", "watch"], [""], ["pods"]),
            rule(["create"], [""], ["bindings", "pods/binding"]),
            rule(["patch", "update"], [""], ["pods/status"]),
            rule(read, [""], ["replicationcontrollers", "services"]),
            rule(read, ["apps", "extensions"], ["replicasets"]),
            rule(read, ["apps"], ["statefulsets"]),
            rule(read, ["policy"], ["poddisruptionbudgets"]),
            rule(read, [""], ["persistentvolumeclaims", "persistentvolumes"]),
            rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
            rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
            rule(read, ["storage.k8s.io"], ["csinodes"]),
            rule(read, ["storage.k8s.io"], ["volumeattachments"]),
            rule(read, [""], ["namespaces"]),
            rule(read, ["storage.k8s.io"], ["csidrivers"]),
            rule(read, ["storage.k8s.io"], ["csistoragecapacities"]),
            rule(read, ["resource.k8s.io"], ["deviceclasses"]),
            rule(["get", "list", "patch", "update", "watch"], ["resource.k8s.io"], ["resourceclaims"]),
            rule(["get", "list", "patch", "update", "watch"], ["resource.k8s.io"], ["resourceclaims/status"]),
            rule(["update"], [""], ["pods/finalizers"]),
            rule(read, ["resource.k8s.io"], ["resourceslices"]),
            rule(["create", "delete"], ["resource.k8s.io"], ["resourceclaims"]),
        ]

        static let node = [
            rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
            rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews", "subjectaccessreviews"]),
            rule(read, [""], ["services"]),
            rule(["create", "get", "list", "watch"], [""], ["nodes"]),
            rule(["patch", "update"], [""], ["nodes/status"]),
            rule(["patch", "update"], [""], ["nodes"]),
            rule(eventWrite, ["", "events.k8s.io"], ["events"]),
            rule(read, [""], ["pods"]),
            rule(["create", "delete"], [""], ["pods"]),
            rule(["patch", "update"], [""], ["pods/status"]),
            rule(["create"], [""], ["pods/eviction"]),
            rule(read, [""], ["configmaps", "secrets"]),
            rule(["get"], [""], ["persistentvolumeclaims", "persistentvolumes"]),
            rule(["get"], [""], ["endpoints"]),
            rule(["create", "get", "list", "watch"], ["certificates.k8s.io"], ["certificatesigningrequests"]),
            rule(["create", "delete", "get", "patch", "update"], ["coordination.k8s.io"], ["leases"]),
            rule(["get"], ["storage.k8s.io"], ["volumeattachments"]),
            rule(["create"], [""], ["serviceaccounts/token"]),
            rule(["get", "patch", "update"], [""], ["persistentvolumeclaims/status"]),
            rule(read, ["storage.k8s.io"], ["csidrivers"]),
            rule(["create", "delete", "get", "patch", "update"], ["storage.k8s.io"], ["csinodes"]),
            rule(read, ["node.k8s.io"], ["runtimeclasses"]),
            rule(["get"], ["resource.k8s.io"], ["resourceclaims"]),
            rule(["deletecollection"], ["resource.k8s.io"], ["resourceslices"]),
            rule(["get"], [""], ["serviceaccounts"]),
        ]
    }
}
