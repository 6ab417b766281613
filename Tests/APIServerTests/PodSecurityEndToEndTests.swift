import Foundation
import TestSupport
import XCTest

/// PodSecurity through the real binary over TLS, as a user meets it with kubectl.
final class PodSecurityEndToEndTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.146" }
    /// A bare server: each test creates the `default` service account its pods need.
    override class var controllers: [String]? { nil }

    /// Upstream's reasons and details for a plain container against restricted:latest.
    private func restricted(_ container: String) -> String {
        #"PodSecurity "restricted:latest": "#
            + #"allowPrivilegeEscalation != false (container "\#(container)" must set securityContext.allowPrivilegeEscalation=false), "#
            + #"unrestricted capabilities (container "\#(container)" must set securityContext.capabilities.drop=["ALL"]), "#
            + #"runAsNonRoot != true (pod or container "\#(container)" must set securityContext.runAsNonRoot=true), "#
            + #"seccompProfile (pod or container "\#(container)" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#
    }

    /// A namespace with its `default` service account, labelled.
    private func namespace(_ name: String, _ labels: [String]) throws {
        let cluster = try cluster
        expectSuccess(try cluster.kubectl("create namespace \(name)"))
        expectSuccess(try cluster.kubectl("create serviceaccount default -n \(name)"))
        if !labels.isEmpty { expectSuccess(try cluster.kubectl(["label", "namespace", name] + labels)) }
    }

    func testARestrictedNamespaceRefusesAPlainPod() throws {
        let cluster = try cluster
        try namespace("ps-restricted", ["pod-security.kubernetes.io/enforce=restricted"])
        expectFailure(
            try cluster.kubectl("run x --image=nginx -n ps-restricted"),
            #"Error from server (Forbidden): pods "x" is forbidden: violates "# + restricted("x"))
    }

    func testWarnPrintsWarningsAndAdmits() throws {
        let cluster = try cluster
        try namespace("ps-warn", ["pod-security.kubernetes.io/warn=restricted"])
        let output = try cluster.kubectl("run x --image=nginx -n ps-warn")
        XCTAssertEqual(output.stdout, "pod/x created\n")
        XCTAssertEqual(output.stderr, "Warning: would violate " + restricted("x") + "\n")
    }

    func testADeploymentInARestrictedNamespaceIsCreatedWithWarnings() throws {
        let cluster = try cluster
        try namespace("ps-workloads", ["pod-security.kubernetes.io/enforce=restricted"])
        let output = try cluster.kubectl("create deployment x --image=nginx -n ps-workloads")
        XCTAssertEqual(output.status, 0, output.stderr)
        XCTAssertEqual(output.stdout, "deployment.apps/x created\n")
        XCTAssertEqual(output.stderr, "Warning: would violate " + restricted("nginx") + "\n")
    }

    func testLabellingANamespaceWithViolatingPodsWarnsAboutThem() throws {
        let cluster = try cluster
        try namespace("ps-existing", [])
        for name in ["web-1", "web-2"] {
            let pod = """
                apiVersion: v1
                kind: Pod
                metadata: {name: \(name)}
                spec:
                  hostNetwork: true
                  containers: [{name: web, image: nginx, securityContext: {privileged: true}}]
                """
            expectSuccess(try cluster.kubectl(["apply", "-n", "ps-existing", "-f", "-"], input: pod))
        }
        expectSuccess(try cluster.kubectl("run plain --image=nginx -n ps-existing"))
        let output = try cluster.kubectl(
            "label namespace ps-existing pod-security.kubernetes.io/enforce=restricted")
        XCTAssertEqual(output.stdout, "namespace/ps-existing labeled\n")
        XCTAssertEqual(
            output.stderr,
            """
            Warning: existing pods in namespace "ps-existing" violate the new PodSecurity enforce level "restricted:latest"
            Warning: plain: allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile
            Warning: web-1 (and 1 other pod): host namespaces, privileged, allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile

            """)
    }

    func testAnInvalidLevelIsRefused() throws {
        let cluster = try cluster
        try namespace("ps-invalid", [])
        expectFailure(
            try cluster.kubectl("label namespace ps-invalid pod-security.kubernetes.io/enforce=strict"),
            #"The Namespace "ps-invalid" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted"#
        )
        expectFailure(
            try cluster.kubectl("label namespace ps-invalid pod-security.kubernetes.io/warn-version=1.30"),
            #"The Namespace "ps-invalid" is invalid: metadata.labels[pod-security.kubernetes.io/warn-version]: Invalid value: "1.30": must be "latest" or "v1.x""#
        )
    }
}
