import APIMachinery

/// A minimal valid object of every served built-in kind, by `group/resource` (core resources as `/resource`).
extension EveryKindRoundTripTests {
    static let container: JSON = ["name": "c", "image": "nginx"]
    static let podSpec: JSON = ["containers": [container]]
    static let template: JSON = ["metadata": ["labels": ["app": "rt"]], "spec": podSpec]
    static let selector: JSON = ["matchLabels": ["app": "rt"]]
    static let rule: JSON = ["apiGroups": [""], "resources": ["pods"], "verbs": ["get"]]

    /// The fields beside `metadata` of a minimal object; `name` is the object's name, `csr` a PEM request.
    static func minimal(_ key: String, namespace: String, csr: String) -> JSONObject? {
        switch key {
        case "/configmaps": ["data": ["a": "b"]]
        case "/secrets": ["data": ["a": "Yg=="]]
        case "/pods": ["spec": podSpec]
        case "/services": ["spec": ["ports": [["port": 80]]]]
        case "/endpoints": ["subsets": [["addresses": [["ip": "10.1.2.3"]], "ports": [["port": 80]]]]]
        case "/events":
            [
                "involvedObject": ["kind": "Pod", "name": "x", "namespace": .string(namespace)], "reason": "R",
                "message": "m", "type": "Normal",
            ]
        case "/limitranges": ["spec": ["limits": [["type": "Container", "max": ["cpu": "1"]]]]]
        case "/namespaces", "/serviceaccounts", "/nodes": [:]
        case "/persistentvolumes":
            [
                "spec": [
                    "capacity": ["storage": "1Gi"], "accessModes": ["ReadWriteOnce"], "hostPath": ["path": "/tmp/rt"],
                ]
            ]
        case "/persistentvolumeclaims":
            ["spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "1Gi"]]]]
        case "/podtemplates": ["template": template]
        case "/replicationcontrollers": ["spec": ["replicas": 0, "selector": ["app": "rt"], "template": template]]
        case "/resourcequotas": ["spec": ["hard": ["pods": "10"]]]
        case "apps/deployments", "apps/replicasets", "apps/daemonsets":
            ["spec": ["selector": selector, "template": template]]
        case "apps/statefulsets": ["spec": ["selector": selector, "template": template, "serviceName": "rt"]]
        case "apps/controllerrevisions": ["revision": 1, "data": ["rt": true]]
        case "batch/jobs":
            ["spec": ["template": ["spec": ["restartPolicy": "Never", "containers": [container]]]]]
        case "batch/cronjobs":
            [
                "spec": [
                    "schedule": "*/5 * * * *",
                    "jobTemplate": [
                        "spec": ["template": ["spec": ["restartPolicy": "Never", "containers": [container]]]]
                    ],
                ]
            ]
        case "policy/poddisruptionbudgets": ["spec": ["minAvailable": 1, "selector": selector]]
        case "rbac.authorization.k8s.io/roles", "rbac.authorization.k8s.io/clusterroles": ["rules": [rule]]
        case "rbac.authorization.k8s.io/rolebindings", "rbac.authorization.k8s.io/clusterrolebindings":
            [
                "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"],
                "subjects": [["kind": "User", "name": "rt", "apiGroup": "rbac.authorization.k8s.io"]],
            ]
        case "coordination.k8s.io/leases": ["spec": ["holderIdentity": "rt"]]
        case "discovery.k8s.io/endpointslices": ["addressType": "IPv4", "endpoints": [["addresses": ["10.1.2.3"]]]]
        case "events.k8s.io/events":
            [
                "eventTime": "2024-01-02T03:04:05.000000Z", "reportingController": "example.com/rt",
                "reportingInstance": "rt-1", "action": "Test", "reason": "R", "type": "Normal",
                "regarding": ["kind": "Pod", "name": "x", "namespace": .string(namespace)],
            ]
        case "scheduling.k8s.io/priorityclasses": ["value": 1000]
        case "node.k8s.io/runtimeclasses": ["handler": "runc"]
        case "certificates.k8s.io/certificatesigningrequests":
            [
                "spec": [
                    "request": .string(csr), "signerName": "example.com/rt", "usages": ["digital signature"],
                ]
            ]
        case "storage.k8s.io/storageclasses": ["provisioner": "example.com/rt"]
        case "storage.k8s.io/csidrivers": ["spec": [:]]
        case "storage.k8s.io/csinodes": ["spec": ["drivers": []]]
        case "storage.k8s.io/csistoragecapacities": ["storageClassName": "rt"]
        case "storage.k8s.io/volumeattachments":
            ["spec": ["attacher": "rt.example.com", "nodeName": "n", "source": ["persistentVolumeName": "pv"]]]
        case "networking.k8s.io/ingresses":
            ["spec": ["defaultBackend": ["service": ["name": "s", "port": ["number": 80]]]]]
        case "networking.k8s.io/ingressclasses": ["spec": ["controller": "example.com/rt"]]
        case "networking.k8s.io/networkpolicies": ["spec": ["podSelector": [:]]]
        case "autoscaling/horizontalpodautoscalers":
            [
                "spec": [
                    "scaleTargetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": "d"], "maxReplicas": 2,
                ]
            ]
        case "admissionregistration.k8s.io/mutatingwebhookconfigurations",
            "admissionregistration.k8s.io/validatingwebhookconfigurations":
            [:]
        case "admissionregistration.k8s.io/validatingadmissionpolicies":
            [
                "spec": [
                    "validations": [["expression": "true"]],
                    "matchConstraints": [
                        "resourceRules": [
                            [
                                "apiGroups": ["rt.example.com"], "apiVersions": ["v1"], "operations": ["CREATE"],
                                "resources": ["widgets"],
                            ]
                        ]
                    ],
                ]
            ]
        case "admissionregistration.k8s.io/validatingadmissionpolicybindings":
            ["spec": ["policyName": "rt", "validationActions": ["Deny"]]]
        case "flowcontrol.apiserver.k8s.io/flowschemas":
            ["spec": ["priorityLevelConfiguration": ["name": "global-default"], "matchingPrecedence": 5000]]
        case "flowcontrol.apiserver.k8s.io/prioritylevelconfigurations":
            [
                "spec": [
                    "type": "Limited",
                    "limited": ["nominalConcurrencyShares": 1, "limitResponse": ["type": "Reject"]],
                ]
            ]
        case "apiextensions.k8s.io/customresourcedefinitions":
            [
                "spec": [
                    "group": "rt.example.com", "scope": "Namespaced",
                    "names": ["plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"],
                    "versions": [
                        [
                            "name": "v1", "served": true, "storage": true,
                            "schema": ["openAPIV3Schema": ["type": "object"]],
                        ]
                    ],
                ]
            ]
        case "apiregistration.k8s.io/apiservices":
            ["spec": ["group": "rt.example.com", "version": "v9", "groupPriorityMinimum": 100, "versionPriority": 10]]
        default: nil
        }
    }

    /// Names that kinds need to be valid: a CRD's is its plural and group, an APIService's its version and group.
    static func name(for key: String) -> String {
        switch key {
        case "apiextensions.k8s.io/customresourcedefinitions": "widgets.rt.example.com"
        case "apiregistration.k8s.io/apiservices": "v9.rt.example.com"
        default: "rt-" + (key.split(separator: "/").last.map(String.init) ?? "x")
        }
    }
}
