import APIMachinery

/// Upstream v1.32's API Priority and Fairness bootstrap configuration (`apis/flowcontrol/bootstrap`): the
/// mandatory `exempt` and `catch-all` objects, which the server always restores, and the suggested ones, which
/// it creates when missing and keeps current while their `apf.kubernetes.io/autoupdate-spec` annotation says so.
/// Every object is stored as upstream's defaulting leaves it, so a restored spec compares equal.
enum FlowControlBootstrap {
    static let group = "flowcontrol.apiserver.k8s.io"
    static let apiVersion = "flowcontrol.apiserver.k8s.io/v1"
    static let autoUpdateAnnotation = "apf.kubernetes.io/autoupdate-spec"

    static let mandatoryPriorityLevels: [JSON] = [
        priorityLevel("exempt", ["type": "Exempt", "exempt": ["nominalConcurrencyShares": 0, "lendablePercent": 0]]),
        priorityLevel("catch-all", limited(shares: 5, lendable: 0, queuing: nil)),
    ]

    static let mandatoryFlowSchemas: [JSON] = [
        flowSchema("exempt", level: "exempt", precedence: 1, distinguisher: nil, subjects: groups("system:masters")),
        flowSchema(
            "catch-all", level: "catch-all", precedence: 10000, distinguisher: "ByUser",
            subjects: groups("system:unauthenticated", "system:authenticated")),
    ]

    static let suggestedPriorityLevels: [JSON] = [
        priorityLevel("system", limited(shares: 30, lendable: 33, queuing: (64, 6, 50))),
        priorityLevel("node-high", limited(shares: 40, lendable: 25, queuing: (64, 6, 50))),
        priorityLevel("leader-election", limited(shares: 10, lendable: 0, queuing: (16, 4, 50))),
        priorityLevel("workload-high", limited(shares: 40, lendable: 50, queuing: (128, 6, 50))),
        priorityLevel("workload-low", limited(shares: 100, lendable: 90, queuing: (128, 6, 50))),
        priorityLevel("global-default", limited(shares: 20, lendable: 50, queuing: (128, 6, 50))),
    ]

    static let suggestedFlowSchemas: [JSON] = [
        flowSchema(
            "system-nodes", level: "system", precedence: 500, distinguisher: "ByUser", subjects: groups("system:nodes")),
        flowSchema(
            "system-node-high", level: "node-high", precedence: 400, distinguisher: "ByUser",
            subjects: groups("system:nodes"),
            resourceRules: [
                resourceRule(["*"], [""], ["nodes", "nodes/status"], clusterScope: true),
                resourceRule(["*"], ["coordination.k8s.io"], ["leases"], clusterScope: false),
            ], nonResourceRules: []),
        flowSchema(
            "probes", level: "exempt", precedence: 2, distinguisher: nil,
            subjects: groups("system:unauthenticated", "system:authenticated"), resourceRules: [],
            nonResourceRules: [["verbs": ["get"], "nonResourceURLs": ["/healthz", "/readyz", "/livez"]]]),
        flowSchema(
            "system-leader-election", level: "leader-election", precedence: 100, distinguisher: "ByUser",
            subjects: users("system:kube-controller-manager", "system:kube-scheduler") + kubeSystemAccounts("*"),
            resourceRules: [resourceRule(["get", "create", "update"], ["coordination.k8s.io"], ["leases"])],
            nonResourceRules: []),
        flowSchema(
            "workload-leader-election", level: "leader-election", precedence: 200, distinguisher: "ByUser",
            subjects: kubeSystemAccounts("*"),
            resourceRules: [
                resourceRule(["get", "create", "update"], [""], ["endpoints", "configmaps"]),
                resourceRule(["get", "create", "update"], ["coordination.k8s.io"], ["leases"]),
            ], nonResourceRules: []),
        flowSchema(
            "endpoint-controller", level: "workload-high", precedence: 150, distinguisher: "ByUser",
            subjects: users("system:kube-controller-manager")
                + kubeSystemAccounts("endpoint-controller", "endpointslicemirroring-controller"),
            resourceRules: [resourceRule(["get", "create", "update"], [""], ["endpoints"])], nonResourceRules: []),
        flowSchema(
            "kube-controller-manager", level: "workload-high", precedence: 800, distinguisher: "ByNamespace",
            subjects: users("system:kube-controller-manager")),
        flowSchema(
            "kube-scheduler", level: "workload-high", precedence: 800, distinguisher: "ByNamespace",
            subjects: users("system:kube-scheduler")),
        flowSchema(
            "kube-system-service-accounts", level: "workload-high", precedence: 900, distinguisher: "ByNamespace",
            subjects: kubeSystemAccounts("*")),
        flowSchema(
            "service-accounts", level: "workload-low", precedence: 9000, distinguisher: "ByUser",
            subjects: groups("system:serviceaccounts")),
        flowSchema(
            "global-default", level: "global-default", precedence: 9900, distinguisher: "ByUser",
            subjects: groups("system:unauthenticated", "system:authenticated")),
    ]

    /// The mandatory objects' specs by name, which validation holds them to.
    static let mandatoryPriorityLevelSpecs = specs(mandatoryPriorityLevels)
    static let mandatoryFlowSchemaSpecs = specs(mandatoryFlowSchemas)

    private static func specs(_ objects: [JSON]) -> [String: JSON] {
        Dictionary(objects.map { ($0.name ?? "", $0["spec"] ?? .null) }, uniquingKeysWith: { first, _ in first })
    }

    private static func metadata(_ name: String) -> JSON {
        ["name": .string(name), "annotations": [autoUpdateAnnotation: "true"]]
    }

    private static func priorityLevel(_ name: String, _ spec: JSON) -> JSON {
        [
            "apiVersion": .string(apiVersion), "kind": "PriorityLevelConfiguration", "metadata": metadata(name),
            "spec": spec,
        ]
    }

    private static func limited(shares: Int64, lendable: Int64, queuing: (Int64, Int64, Int64)?) -> JSON {
        var response: JSONObject = ["type": "Reject"]
        if let (queues, handSize, queueLengthLimit) = queuing {
            response = [
                "type": "Queue",
                "queuing": [
                    "queues": .int(queues), "handSize": .int(handSize), "queueLengthLimit": .int(queueLengthLimit),
                ],
            ]
        }
        return [
            "type": "Limited",
            "limited": [
                "nominalConcurrencyShares": .int(shares), "lendablePercent": .int(lendable),
                "limitResponse": .object(response),
            ],
        ]
    }

    /// A schema whose rules match every verb of every resource and non-resource URL, unless given narrower rules.
    private static func flowSchema(
        _ name: String, level: String, precedence: Int64, distinguisher: String?, subjects: [JSON],
        resourceRules: [JSON] = [resourceRule(["*"], ["*"], ["*"], clusterScope: true)],
        nonResourceRules: [JSON] = [["verbs": ["*"], "nonResourceURLs": ["*"]]]
    ) -> JSON {
        var rule: JSONObject = ["subjects": .array(subjects)]
        if !resourceRules.isEmpty { rule["resourceRules"] = .array(resourceRules) }
        if !nonResourceRules.isEmpty { rule["nonResourceRules"] = .array(nonResourceRules) }
        var spec: JSONObject = [
            "priorityLevelConfiguration": ["name": .string(level)], "matchingPrecedence": .int(precedence),
        ]
        if let distinguisher { spec["distinguisherMethod"] = ["type": .string(distinguisher)] }
        spec["rules"] = [.object(rule)]
        return [
            "apiVersion": .string(apiVersion), "kind": "FlowSchema", "metadata": metadata(name), "spec": .object(spec),
        ]
    }

    private static func resourceRule(
        _ verbs: [String], _ groups: [String], _ resources: [String], clusterScope: Bool = false
    ) -> JSON {
        var rule: JSON = [
            "verbs": .array(verbs.map(JSON.string)), "apiGroups": .array(groups.map(JSON.string)),
            "resources": .array(resources.map(JSON.string)), "namespaces": ["*"],
        ]
        // Go omits a false clusterScope; the stored rule must match what clients send back.
        if clusterScope { rule["clusterScope"] = true }
        return rule
    }

    private static func groups(_ names: String...) -> [JSON] {
        names.map { ["kind": "Group", "group": ["name": .string($0)]] }
    }

    private static func users(_ names: String...) -> [JSON] {
        names.map { ["kind": "User", "user": ["name": .string($0)]] }
    }

    private static func kubeSystemAccounts(_ names: String...) -> [JSON] {
        names.map { ["kind": "ServiceAccount", "serviceAccount": ["namespace": "kube-system", "name": .string($0)]] }
    }
}
