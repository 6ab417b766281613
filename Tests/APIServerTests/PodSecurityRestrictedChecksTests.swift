import APIMachinery
import XCTest

@testable import APIServer

/// The restricted level's own checks, with upstream's reasons and details and their version differences.
final class PodSecurityRestrictedChecksTests: XCTestCase {
    private func violation(_ check: any PodSecurityCheck, _ spec: JSON, minor: Int = .max) -> [String]? {
        check.check(PodSecurityPod(annotations: [:], spec: spec), minor: minor).map { [$0.reason, $0.detail] }
    }

    private func pod(_ contexts: [(String, JSON?)], pod: JSON? = nil, windows: Bool = false) -> JSON {
        var spec: JSON = [
            "containers": .array(
                contexts.map { name, context in
                    var container: JSON = ["name": .string(name), "image": "x"]
                    if let context { container["securityContext"] = context }
                    return container
                })
        ]
        if let pod { spec["securityContext"] = pod }
        if windows { spec["os"] = ["name": "windows"] }
        return spec
    }

    func testAllowPrivilegeEscalation() {
        let check = AllowPrivilegeEscalationCheck()
        XCTAssertNil(violation(check, pod([("a", ["allowPrivilegeEscalation": false])])))
        XCTAssertEqual(
            violation(check, pod([("a", nil), ("b", ["allowPrivilegeEscalation": true])])),
            [
                "allowPrivilegeEscalation != false",
                #"containers "a", "b" must set securityContext.allowPrivilegeEscalation=false"#,
            ])
        XCTAssertNil(violation(check, pod([("a", nil)], windows: true), minor: 25), "Windows pods exempt since 1.25")
        XCTAssertNotNil(violation(check, pod([("a", nil)], windows: true), minor: 24))
    }

    func testCapabilitiesRestricted() {
        let check = CapabilitiesRestrictedCheck()
        XCTAssertNil(
            violation(check, pod([("a", ["capabilities": ["drop": ["ALL"], "add": ["NET_BIND_SERVICE"]]])])))
        XCTAssertEqual(
            violation(
                check,
                pod([
                    ("a", nil), ("b", ["capabilities": ["drop": ["ALL"], "add": ["SYS_TIME", "CHOWN"]]]),
                    ("c", ["capabilities": ["drop": ["NET_RAW"]]]),
                ])),
            [
                "unrestricted capabilities",
                #"containers "a", "c" must set securityContext.capabilities.drop=["ALL"]; "#
                    + #"container "b" must not include "CHOWN", "SYS_TIME" in securityContext.capabilities.add"#,
            ])
    }

    func testRestrictedVolumeTypes() {
        let check = RestrictedVolumesCheck()
        let allowed: JSON = [
            "volumes": [
                ["name": "a", "emptyDir": [:]], ["name": "b", "secret": ["secretName": "s"]],
                ["name": "c", "projected": ["sources": []]],
                ["name": "d", "persistentVolumeClaim": ["claimName": "c"]],
            ]
        ]
        XCTAssertNil(violation(check, allowed))
        let spec: JSON = [
            "volumes": [
                ["name": "ok", "configMap": ["name": "c"]], ["name": "b1", "hostPath": ["path": "/"]],
                ["name": "b2", "nfs": ["server": "s", "path": "/"]], ["name": "c1"],
            ]
        ]
        XCTAssertEqual(
            violation(check, spec),
            [
                "restricted volume types",
                #"volumes "b1", "b2", "c1" use restricted volume types "hostPath", "nfs", "unknown""#,
            ])
        XCTAssertEqual(
            violation(check, ["volumes": [["name": "g", "gitRepo": ["repository": "r"]]]]),
            ["restricted volume types", #"volume "g" uses restricted volume type "gitRepo""#])
    }

    func testRunAsNonRoot() {
        let check = RunAsNonRootCheck()
        XCTAssertNil(violation(check, pod([("a", nil)], pod: ["runAsNonRoot": true])))
        XCTAssertNil(violation(check, pod([("a", ["runAsNonRoot": true])])))
        XCTAssertEqual(
            violation(check, pod([("a", nil), ("b", ["runAsNonRoot": true])])),
            ["runAsNonRoot != true", #"pod or container "a" must set securityContext.runAsNonRoot=true"#])
        XCTAssertEqual(
            violation(check, pod([("a", ["runAsNonRoot": false]), ("b", nil)], pod: ["runAsNonRoot": false])),
            ["runAsNonRoot != true", #"pod and container "a" must not set securityContext.runAsNonRoot=false"#])
    }

    func testRunAsUserSince123() {
        let check = RunAsUserCheck()
        XCTAssertEqual(check.minimumMinor, 23)
        XCTAssertNil(violation(check, pod([("a", ["runAsUser": 1000])])))
        XCTAssertEqual(
            violation(check, pod([("a", ["runAsUser": 0])], pod: ["runAsUser": 0])),
            ["runAsUser=0", #"pod and container "a" must not set runAsUser=0"#])
    }

    func testSeccompRestricted() {
        let check = SeccompProfileRestrictedCheck()
        XCTAssertNil(violation(check, pod([("a", nil)], pod: ["seccompProfile": ["type": "RuntimeDefault"]])))
        XCTAssertEqual(
            violation(check, pod([("a", nil), ("b", ["seccompProfile": ["type": "Localhost"]])])),
            [
                "seccompProfile",
                #"pod or container "a" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost""#,
            ])
        XCTAssertEqual(
            violation(check, pod([("a", ["seccompProfile": ["type": "Unconfined"]])])),
            ["seccompProfile", #"container "a" must not set securityContext.seccompProfile.type to "Unconfined""#])
        XCTAssertNil(violation(check, pod([("a", nil)], windows: true)))
    }
}
