import APIMachinery
import NIOConcurrencyHelpers
import XCTest

@testable import APIServer

/// Namespace labels to policies, the order violations are reported in, and the warnings a stricter enforce
/// level gives about a namespace's pods, as upstream's pod-security-admission words them.
final class PodSecurityPolicyTests: XCTestCase {
    private let plainPod: JSON = [
        "metadata": ["name": "x"], "spec": ["containers": [["name": "x", "image": "nginx"]]],
    ]

    func testLabelsResolveOverDefaultsAndWarnFollowsEnforce() {
        let labels = [
            "pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/enforce-version": "v1.24",
            "pod-security.kubernetes.io/audit": "restricted",
        ]
        let (policy, errors) = PodSecurityPolicy.resolve(labels: labels, defaults: .privileged)
        XCTAssertEqual(errors, [])
        XCTAssertEqual(policy.enforce.description, "baseline:v1.24")
        XCTAssertEqual(policy.audit.description, "restricted:latest")
        XCTAssertEqual(policy.warn.description, "baseline:v1.24", "warn follows enforce, version too")

        let own = PodSecurityPolicy.resolve(
            labels: [
                "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/warn-version": "v1.30",
            ], defaults: .privileged
        ).policy
        XCTAssertEqual(own.warn.description, "restricted:v1.30", "an explicit warn-version stays")
        let explicit = PodSecurityPolicy.resolve(
            labels: [
                "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/warn": "privileged",
            ],
            defaults: .privileged
        ).policy
        XCTAssertEqual(explicit.warn.level, .privileged)
        XCTAssertEqual(PodSecurityPolicy.resolve(labels: [:], defaults: .privileged).policy, .privileged)
    }

    func testBadLabelsFailClosedForEnforceAndOpenForAuditAndWarn() {
        let labels = [
            "pod-security.kubernetes.io/enforce": "strict", "pod-security.kubernetes.io/warn": "loud",
            "pod-security.kubernetes.io/audit-version": "v1.05", "pod-security.kubernetes.io/warn-version": "1.30",
        ]
        let (policy, errors) = PodSecurityPolicy.resolve(labels: labels, defaults: .privileged)
        XCTAssertEqual(policy.enforce.level, .restricted)
        XCTAssertEqual(policy.warn.level, .privileged)
        XCTAssertEqual(
            errors.map(\.description),
            [
                #"metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted"#,
                #"metadata.labels[pod-security.kubernetes.io/audit-version]: Invalid value: "v1.05": must be "latest" or "v1.x""#,
                #"metadata.labels[pod-security.kubernetes.io/warn]: Invalid value: "loud": must be one of privileged, baseline, restricted"#,
                #"metadata.labels[pod-security.kubernetes.io/warn-version]: Invalid value: "1.30": must be "latest" or "v1.x""#,
            ])
        XCTAssertEqual(PodSecurityVersion.parse("v1.0").version, .v1(minor: 0))
        XCTAssertEqual(PodSecurityVersion.parse("v1.32").version, .v1(minor: 32))
        XCTAssertNotNil(PodSecurityVersion.parse("v2.1").error)
    }

    func testAPlainPodViolatesRestrictedInUpstreamsOrder() {
        let result = PodSecurityEvaluator.evaluate(PodSecurityPod(pod: plainPod), against: .init(.restricted))
        XCTAssertEqual(
            result.forbiddenDetail,
            #"allowPrivilegeEscalation != false (container "x" must set securityContext.allowPrivilegeEscalation=false), "#
                + #"unrestricted capabilities (container "x" must set securityContext.capabilities.drop=["ALL"]), "#
                + #"runAsNonRoot != true (pod or container "x" must set securityContext.runAsNonRoot=true), "#
                + #"seccompProfile (pod or container "x" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#
        )
        XCTAssertTrue(PodSecurityEvaluator.evaluate(PodSecurityPod(pod: plainPod), against: .init(.baseline)).allowed)
        XCTAssertTrue(PodSecurityEvaluator.evaluate(PodSecurityPod(pod: plainPod), against: .init(.privileged)).allowed)
        // Before 1.19 the restricted level had no seccomp and before 1.22 no capabilities check.
        let old = PodSecurityEvaluator.evaluate(
            PodSecurityPod(pod: plainPod), against: .init(.restricted, .v1(minor: 18)))
        XCTAssertEqual(old.forbiddenReason, "allowPrivilegeEscalation != false, runAsNonRoot != true")
    }

    func testBaselineChecksComeBeforeRestrictedOnesAndOverlapsAreReplaced() {
        let pod: JSON = [
            "metadata": ["name": "p"],
            "spec": [
                "hostNetwork": true,
                "securityContext": ["sysctls": [["name": "kernel.msgmax", "value": "1"]]],
                "containers": [
                    [
                        "name": "c", "image": "x",
                        "securityContext": [
                            "privileged": true, "allowPrivilegeEscalation": false, "runAsNonRoot": true,
                            "seccompProfile": ["type": "RuntimeDefault"],
                            "capabilities": ["drop": ["ALL"], "add": ["SYS_ADMIN"]],
                        ],
                    ]
                ],
                "volumes": [["name": "h", "hostPath": ["path": "/"]]],
            ],
        ]
        let baseline = PodSecurityEvaluator.evaluate(PodSecurityPod(pod: pod), against: .init(.baseline))
        XCTAssertEqual(
            baseline.forbiddenReason,
            "host namespaces, privileged, forbidden sysctls, non-default capabilities, hostPath volumes")
        let restricted = PodSecurityEvaluator.evaluate(PodSecurityPod(pod: pod), against: .init(.restricted))
        XCTAssertEqual(
            restricted.forbiddenReason,
            "host namespaces, privileged, forbidden sysctls, unrestricted capabilities, restricted volume types")
    }

    func testNamespaceWarningsGroupPodsByReasons() {
        let check = PodSecurityNamespaceCheck(limits: .upstream)
        func pod(_ name: String, hostNetwork: Bool = false, privileged: Bool = false) -> JSON {
            [
                "metadata": ["name": .string(name)],
                "spec": [
                    "hostNetwork": .bool(hostNetwork),
                    "containers": [["name": "c", "securityContext": ["privileged": .bool(privileged)]]],
                ],
            ]
        }
        let pods = [
            pod("web-2", privileged: true), pod("web-1", privileged: true), pod("web-3", privileged: true),
            pod("fine"), pod("net", hostNetwork: true), pod("both", hostNetwork: true, privileged: true),
            pod("net-2", hostNetwork: true),
        ]
        XCTAssertEqual(
            check.warnings(namespace: "ns", pods: pods, enforce: .init(.baseline), exemptRuntimeClasses: []),
            [
                #"existing pods in namespace "ns" violate the new PodSecurity enforce level "baseline:latest""#,
                "both: host namespaces, privileged",
                "net (and 1 other pod): host namespaces",
                "web-1 (and 2 other pods): privileged",
            ])
        XCTAssertEqual(
            check.warnings(
                namespace: "ns", pods: [pod("fine")], enforce: .init(.restricted, .v1(minor: 0)),
                exemptRuntimeClasses: []
            ).count, 2)
    }

    func testNamespaceCheckStopsAtItsPodAndTimeLimits() {
        let pods: [JSON] = (0..<5).map {
            ["metadata": ["name": .string("p\($0)")], "spec": ["hostPID": true, "containers": [["name": "c"]]]]
        }
        var limits = PodSecurityNamespaceCheck.Limits.upstream
        limits.maxPods = 3
        XCTAssertEqual(
            PodSecurityNamespaceCheck(limits: limits).warnings(
                namespace: "ns", pods: pods, enforce: .init(.baseline), exemptRuntimeClasses: []
            ).first, "new PodSecurity enforce level only checked against the first 3 of 5 existing pods")

        // A clock that moves 400ms each time it is read: the second read is the deadline's start.
        let start = ContinuousClock.now
        let reads = NIOLockedValueBox(0)
        limits = .init(maxPods: 3000, timeout: .seconds(1)) {
            reads.withLockedValue { count in
                defer { count += 1 }
                return start + .milliseconds(400 * count)
            }
        }
        let warnings = PodSecurityNamespaceCheck(limits: limits).warnings(
            namespace: "ns", pods: pods, enforce: .init(.baseline), exemptRuntimeClasses: [])
        XCTAssertEqual(
            warnings,
            [
                "new PodSecurity enforce level only checked against the first 3 of 5 existing pods",
                #"existing pods in namespace "ns" violate the new PodSecurity enforce level "baseline:latest""#,
                "p0 (and 2 other pods): host namespaces",
            ])
    }

    func testOnlyUpdatesThatChangeWhatChecksReadAreEvaluated() {
        var labelled = plainPod
        labelled.set(["metadata", "labels"], to: ["a": "b"])
        XCTAssertFalse(PodSecurityAdmission.isSignificantUpdate(labelled, plainPod))
        var image = plainPod
        image.set(["spec", "containers"], to: [["name": "x", "image": "nginx:2"]])
        XCTAssertTrue(PodSecurityAdmission.isSignificantUpdate(image, plainPod))
        var ephemeral = plainPod
        ephemeral.set(["spec", "ephemeralContainers"], to: [["name": "debug", "image": "busybox"]])
        XCTAssertTrue(PodSecurityAdmission.isSignificantUpdate(ephemeral, plainPod))
        XCTAssertFalse(PodSecurityAdmission.isSignificantUpdate(ephemeral, ephemeral))
    }

    func testTemplatesOfEveryPodControllerAreFound() {
        let template: JSON = ["metadata": ["labels": ["a": "b"]], "spec": ["containers": []]]
        let inSpec: JSON = ["spec": ["template": template]]
        for (group, resource) in [
            ("", "replicationcontrollers"), ("apps", "replicasets"), ("apps", "deployments"), ("apps", "statefulsets"),
            ("apps", "daemonsets"), ("batch", "jobs"),
        ] {
            XCTAssertEqual(
                PodSecurityAdmission.podTemplate(of: .init(group: group, resource: resource), in: inSpec), template,
                resource)
        }
        XCTAssertEqual(
            PodSecurityAdmission.podTemplate(
                of: .init(group: "batch", resource: "cronjobs"), in: ["spec": ["jobTemplate": inSpec]]), template)
        XCTAssertEqual(
            PodSecurityAdmission.podTemplate(
                of: .init(group: "", resource: "podtemplates"), in: ["template": template]),
            template)
        XCTAssertNil(PodSecurityAdmission.podTemplate(of: .init(group: "", resource: "services"), in: inSpec))
        XCTAssertNil(
            PodSecurityAdmission.podTemplate(of: .init(group: "", resource: "replicationcontrollers"), in: [:]))
    }

    func testConfigurationDocumentsAreReadWithUpstreamsDefaultsAndErrors() throws {
        let document: JSON = [
            "apiVersion": "pod-security.admission.config.k8s.io/v1", "kind": "PodSecurityConfiguration",
            "defaults": ["enforce": "baseline", "warn": "restricted", "warn-version": "v1.25"],
            "exemptions": ["usernames": ["ci"], "namespaces": ["kube-system"]],
        ]
        let configuration = try PodSecurityConfiguration(document: document)
        XCTAssertEqual(configuration.defaults.enforce.description, "baseline:latest")
        XCTAssertEqual(configuration.defaults.audit.description, "privileged:latest")
        XCTAssertEqual(configuration.defaults.warn.description, "restricted:v1.25")
        XCTAssertEqual(configuration.exemptUsernames, ["ci"])
        XCTAssertEqual(configuration.exemptNamespaces, ["kube-system"])

        var bad = document
        bad["defaults"] = ["audit": "loud", "enforce-version": "v1"]
        XCTAssertThrowsError(try PodSecurityConfiguration(document: bad)) { error in
            XCTAssertEqual(
                "\(error)",
                #"[defaults.enforce-version: Invalid value: "v1": must be "latest" or "v1.x", "#
                    + #"defaults.audit: Invalid value: "loud": must be one of privileged, baseline, restricted]"#)
        }
        var wrongKind = document
        wrongKind["kind"] = "AdmissionConfiguration"
        XCTAssertThrowsError(try PodSecurityConfiguration(document: wrongKind))
    }
}
