import APIMachinery
import Foundation
import TestSupport
import XCTest

/// storage.k8s.io, networking.k8s.io, node.k8s.io, autoscaling and admissionregistration.k8s.io kinds, on
/// `BuiltInKindsTests`' server.
extension BuiltInKindsTests {
    func testStorageClassDefaultsColumnsAndImmutableFields() throws {
        expectSuccess(
            try create(
                """
                apiVersion: storage.k8s.io/v1
                kind: StorageClass
                metadata:
                  name: fast
                  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
                provisioner: example.com/fast
                parameters: {tier: gold}
                """))
        XCTAssertEqual(try field("sc/fast", ".reclaimPolicy"), "Delete")
        XCTAssertEqual(try field("sc/fast", ".volumeBindingMode"), "Immediate")
        let classes = try table(["sc"], row: "fast")
        XCTAssertEqual(
            classes.header,
            ["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", "AGE"])
        XCTAssertEqual(classes.row.prefix(5), ["fast (default)", "example.com/fast", "Delete", "Immediate", "false"])
        let changed = try cluster.kubectl(["patch", "sc", "fast", "-p", #"{"parameters": {"tier": "silver"}}"#])
        XCTAssertTrue(changed.stderr.contains("StorageClass \"fast\" is invalid"), changed.stderr)
        XCTAssertTrue(
            changed.stderr.contains("parameters: Forbidden: updates to parameters are forbidden."), changed.stderr)
        let bad = try create(
            "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: odd}\nprovisioner: x\nreclaimPolicy: Recycle\n"
        )
        XCTAssertTrue(
            bad.stderr.contains(#"reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain""#),
            bad.stderr)
        // DefaultStorageClass: a claim that names no class gets the default one.
        expectSuccess(
            try create(
                """
                apiVersion: v1
                kind: PersistentVolumeClaim
                metadata: {name: data, namespace: default}
                spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
                """))
        XCTAssertEqual(try field("pvc/data", ".spec.storageClassName", namespace: "default"), "fast")
        expectSuccess(try cluster.kubectl(["delete", "pvc", "data", "-n", "default"]))
        expectSuccess(try cluster.kubectl(["delete", "sc", "fast"]))
    }

    func testCSIKindsAndVolumeAttachmentStatus() throws {
        expectSuccess(
            try create(
                "apiVersion: storage.k8s.io/v1\nkind: CSIDriver\nmetadata: {name: csi.example.com}\nspec: {}\n"))
        XCTAssertEqual(try field("csidriver/csi.example.com", ".spec.attachRequired"), "true")
        XCTAssertEqual(try field("csidriver/csi.example.com", ".spec.volumeLifecycleModes[0]"), "Persistent")
        let drivers = try table(["csidrivers"], row: "csi.example.com")
        XCTAssertEqual(
            drivers.header,
            [
                "NAME", "ATTACHREQUIRED", "PODINFOONMOUNT", "STORAGECAPACITY", "TOKENREQUESTS", "REQUIRESREPUBLISH",
                "MODES", "AGE",
            ])
        XCTAssertEqual(
            drivers.row.prefix(7), ["csi.example.com", "true", "false", "false", "<unset>", "false", "Persistent"])

        expectSuccess(
            try create(
                """
                apiVersion: storage.k8s.io/v1
                kind: CSINode
                metadata: {name: node-1}
                spec: {drivers: [{name: csi.example.com, nodeID: node-1, topologyKeys: [topology.example.com/zone]}]}
                """))
        XCTAssertEqual(try table(["csinodes"], row: "node-1").row.prefix(2), ["node-1", "1"])
        let noID = try create(
            "apiVersion: storage.k8s.io/v1\nkind: CSINode\nmetadata: {name: node-2}\nspec: {drivers: [{name: csi.example.com}]}\n"
        )
        XCTAssertTrue(noID.stderr.contains("spec.drivers[0].nodeID: Required value"), noID.stderr)

        expectSuccess(
            try create(
                """
                apiVersion: storage.k8s.io/v1
                kind: VolumeAttachment
                metadata: {name: attach-1}
                spec: {attacher: csi.example.com, nodeName: node-1, source: {persistentVolumeName: pv-1}}
                status: {attached: true}
                """))
        XCTAssertEqual(try field("volumeattachment/attach-1", ".status.attached"), "", "status is the attacher's")
        expectSuccess(
            try cluster.kubectl([
                "patch", "volumeattachment", "attach-1", "--subresource=status", "--type=merge", "-p",
                #"{"status": {"attached": true}}"#,
            ]))
        let attachments = try table(["volumeattachments"], row: "attach-1")
        XCTAssertEqual(attachments.header, ["NAME", "ATTACHER", "PV", "NODE", "ATTACHED", "AGE"])
        XCTAssertEqual(attachments.row.prefix(5), ["attach-1", "csi.example.com", "pv-1", "node-1", "true"])
        let moved = try cluster.kubectl([
            "patch", "volumeattachment", "attach-1", "-p", #"{"spec": {"nodeName": "node-2"}}"#,
        ])
        XCTAssertTrue(moved.stderr.contains("spec: Invalid value"), moved.stderr)

        expectSuccess(
            try create(
                """
                apiVersion: storage.k8s.io/v1
                kind: CSIStorageCapacity
                metadata: {name: zone-a, namespace: default}
                storageClassName: fast
                capacity: 100Gi
                """))
        XCTAssertEqual(
            try table(["csistoragecapacities", "-n", "default"], row: "zone-a").row, ["zone-a", "fast", "100Gi"])
        for (resource, name) in [
            ("volumeattachment", "attach-1"), ("csinode", "node-1"), ("csidriver", "csi.example.com"),
        ] {
            expectSuccess(try cluster.kubectl(["delete", resource, name]))
        }
    }

    func testNetworkingAndRuntimeClasses() throws {
        expectSuccess(
            try create(
                """
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: web, namespace: default}
                spec:
                  ingressClassName: nginx
                  rules:
                  - host: web.example.com
                    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
                """))
        let ingresses = try table(["ingress", "-n", "default"], row: "web")
        XCTAssertEqual(ingresses.header, ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"])
        XCTAssertEqual(ingresses.row.prefix(3), ["web", "nginx", "web.example.com"])
        XCTAssertEqual(ingresses.row[3], "80")
        let noType = try create(
            """
            apiVersion: networking.k8s.io/v1
            kind: Ingress
            metadata: {name: broken, namespace: default}
            spec: {rules: [{http: {paths: [{path: /, backend: {service: {name: web, port: {number: 80}}}}]}}]}
            """)
        XCTAssertTrue(
            noType.stderr.contains("spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"),
            noType.stderr)

        expectSuccess(
            try create(
                "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: nginx}\nspec: {controller: k8s.io/ingress-nginx}\n"
            ))
        XCTAssertEqual(
            try table(["ingressclasses"], row: "nginx").row.prefix(3), ["nginx", "k8s.io/ingress-nginx", "<none>"])
        // DefaultIngressClass: once a class is the default, an Ingress that names none gets it.
        expectSuccess(
            try cluster.kubectl([
                "annotate", "ingressclass", "nginx", "ingressclass.kubernetes.io/is-default-class=true",
            ]))
        expectSuccess(
            try create(
                """
                apiVersion: networking.k8s.io/v1
                kind: Ingress
                metadata: {name: classless, namespace: default}
                spec: {defaultBackend: {service: {name: web, port: {number: 80}}}}
                """))
        XCTAssertEqual(try field("ingress/classless", ".spec.ingressClassName", namespace: "default"), "nginx")
        expectSuccess(try cluster.kubectl(["delete", "ingress", "classless", "-n", "default"]))

        expectSuccess(
            try create(
                """
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: deny, namespace: default}
                spec: {podSelector: {matchLabels: {app: web}}, ingress: [{ports: [{port: 80}]}]}
                """))
        XCTAssertEqual(try field("netpol/deny", ".spec.policyTypes[0]", namespace: "default"), "Ingress")
        XCTAssertEqual(try field("netpol/deny", ".spec.ingress[0].ports[0].protocol", namespace: "default"), "TCP")
        XCTAssertEqual(try table(["netpol", "-n", "default"], row: "deny").row.prefix(2), ["deny", "app=web"])

        expectSuccess(
            try create("apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: gvisor}\nhandler: runsc\n"))
        XCTAssertEqual(try table(["runtimeclasses"], row: "gvisor").row.prefix(2), ["gvisor", "runsc"])
        let handler = try cluster.kubectl(["patch", "runtimeclass", "gvisor", "-p", #"{"handler": "kata"}"#])
        XCTAssertTrue(handler.stderr.contains("handler: Invalid value: \"kata\": field is immutable"), handler.stderr)

        for (resource, name, namespace) in [
            ("ingress", "web", "default"), ("networkpolicy", "deny", "default"), ("ingressclass", "nginx", ""),
            ("runtimeclass", "gvisor", ""),
        ] {
            expectSuccess(
                try cluster.kubectl(["delete", resource, name] + (namespace.isEmpty ? [] : ["-n", namespace])))
        }
    }

    func testHorizontalPodAutoscalersReadInBothVersions() throws {
        expectSuccess(
            try create(
                """
                apiVersion: autoscaling/v2
                kind: HorizontalPodAutoscaler
                metadata: {name: web, namespace: default}
                spec:
                  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
                  maxReplicas: 5
                  metrics:
                  - {type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}}
                  - {type: Resource, resource: {name: memory, target: {type: AverageValue, averageValue: 200Mi}}}
                  behavior: {scaleDown: {stabilizationWindowSeconds: 60}}
                """))
        XCTAssertEqual(try field("hpa/web", ".spec.minReplicas", namespace: "default"), "1")
        XCTAssertEqual(try field("hpa/web", ".spec.behavior.scaleUp.policies[0].type", namespace: "default"), "Pods")
        let asV1 = try JSON.parse(
            Array(
                expectSuccess(
                    try cluster.kubectl([
                        "get", "horizontalpodautoscalers.v1.autoscaling", "web", "-n", "default", "-o", "json",
                    ])
                )
                .utf8))
        XCTAssertEqual(asV1["apiVersion"], "autoscaling/v1")
        XCTAssertEqual(asV1["spec"]?["targetCPUUtilizationPercentage"], 60)
        XCTAssertNil(asV1["spec"]?["metrics"])
        let saved = try XCTUnwrap(
            asV1["metadata"]?["annotations"]?["autoscaling.alpha.kubernetes.io/metrics"]?.stringValue)
        XCTAssertEqual(
            try JSON.parse(Array(saved.utf8)),
            [["type": "Resource", "resource": ["name": "memory", "targetAverageValue": "200Mi"]]])
        let hpas = try table(["hpa", "-n", "default"], row: "web")
        XCTAssertEqual(hpas.header, ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"])
        XCTAssertEqual(
            hpas.row.prefix(6), ["web", "Deployment/web", "cpu: <unknown>/60%, memory: <unknown>/200Mi", "1", "5", "0"])

        // A v1 client's read-modify-write keeps what only v2 can say.
        expectSuccess(
            try cluster.kubectl(
                ["replace", "-f", "-"],
                input: asV1.jsonString.replacingOccurrences(of: "\"maxReplicas\":5", with: "\"maxReplicas\":7")))
        XCTAssertEqual(try field("hpa/web", ".spec.maxReplicas", namespace: "default"), "7")
        XCTAssertEqual(try field("hpa/web", ".spec.metrics[0].resource.name", namespace: "default"), "memory")
        XCTAssertEqual(
            try field("hpa/web", ".spec.metrics[1].resource.target.averageUtilization", namespace: "default"), "60")
        XCTAssertEqual(
            try field("hpa/web", ".spec.behavior.scaleDown.stabilizationWindowSeconds", namespace: "default"), "60")
        XCTAssertEqual(try field("hpa/web", ".metadata.annotations", namespace: "default"), "")

        // Written in v1, read in v2: the implicit 80% CPU target becomes explicit.
        expectSuccess(
            try create(
                """
                apiVersion: autoscaling/v1
                kind: HorizontalPodAutoscaler
                metadata: {name: api, namespace: default}
                spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}, minReplicas: 2, maxReplicas: 4}
                """))
        XCTAssertEqual(
            try field(
                "horizontalpodautoscalers.v2.autoscaling/api", ".spec.metrics[0].resource.target.averageUtilization",
                namespace: "default"),
            "80")
        let invalid = try create(
            """
            apiVersion: autoscaling/v1
            kind: HorizontalPodAutoscaler
            metadata: {name: upside-down, namespace: default}
            spec: {scaleTargetRef: {kind: Deployment, name: api}, minReplicas: 3, maxReplicas: 2}
            """)
        XCTAssertTrue(
            invalid.stderr.contains(
                "spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`"),
            invalid.stderr)
        expectSuccess(try cluster.kubectl(["delete", "hpa", "web", "api", "-n", "default"]))
    }

    func testWebhookConfigurationsAreStoredWithDefaults() throws {
        expectSuccess(
            try create(
                """
                apiVersion: admissionregistration.k8s.io/v1
                kind: ValidatingWebhookConfiguration
                metadata: {name: policy}
                webhooks:
                - name: policy.example.com
                  clientConfig: {service: {name: policy, namespace: default}}
                  rules: [{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [pods]}]
                  sideEffects: None
                  admissionReviewVersions: [v1]
                """))
        XCTAssertEqual(try field("validatingwebhookconfiguration/policy", ".webhooks[0].failurePolicy"), "Fail")
        XCTAssertEqual(try field("validatingwebhookconfiguration/policy", ".webhooks[0].timeoutSeconds"), "10")
        XCTAssertEqual(
            try field("validatingwebhookconfiguration/policy", ".webhooks[0].clientConfig.service.port"), "443")
        XCTAssertEqual(try table(["validatingwebhookconfigurations"], row: "policy").row.prefix(2), ["policy", "1"])
        let short = try create(
            """
            apiVersion: admissionregistration.k8s.io/v1
            kind: MutatingWebhookConfiguration
            metadata: {name: short}
            webhooks: [{name: short, clientConfig: {url: "https://example.com"}, admissionReviewVersions: [v1]}]
            """)
        XCTAssertTrue(
            short.stderr.contains("should be a domain with at least three segments separated by dots"), short.stderr)
        XCTAssertTrue(short.stderr.contains("webhooks[0].sideEffects: Required value"), short.stderr)
        expectSuccess(try cluster.kubectl(["delete", "validatingwebhookconfiguration", "policy"]))
    }
}
