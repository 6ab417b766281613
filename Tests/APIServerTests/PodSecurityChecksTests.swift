import APIMachinery
import XCTest

@testable import APIServer

/// Each Pod Security Standards check against pods that pass and fail it, with upstream's reasons and details.
final class PodSecurityChecksTests: XCTestCase {
    /// One case: a pod, and what the check says of it at a version (nil: the pod passes).
    struct Case {
        var name: String
        var spec: JSON
        var annotations: [String: String] = [:]
        var minor = Int.max
        var expected: (reason: String, detail: String)?
    }

    private func run(_ check: any PodSecurityCheck, _ cases: [Case], file: StaticString = #filePath, line: UInt = #line)
    {
        for testCase in cases {
            let pod = PodSecurityPod(annotations: testCase.annotations, spec: testCase.spec)
            let result = check.check(pod, minor: testCase.minor)
            XCTAssertEqual(result?.reason, testCase.expected?.reason, testCase.name, file: file, line: line)
            XCTAssertEqual(result?.detail, testCase.expected?.detail, testCase.name, file: file, line: line)
        }
    }

    private func containers(_ securityContexts: [(String, JSON)], field: String = "containers") -> JSON {
        [field: .array(securityContexts.map { ["name": .string($0.0), "image": "x", "securityContext": $0.1] })]
    }

    func testHostNamespaces() {
        run(
            HostNamespacesCheck(),
            [
                Case(name: "none", spec: ["hostNetwork": false]),
                Case(
                    name: "all three, sorted", spec: ["hostPID": true, "hostNetwork": true, "hostIPC": true],
                    expected: ("host namespaces", "hostIPC, hostNetwork, hostPID")),
            ])
    }

    func testPrivilegedNamesInitContainersFirst() {
        var spec = containers([("a", ["privileged": true]), ("b", ["privileged": false])])
        spec["initContainers"] = [["name": "init", "securityContext": ["privileged": true]]]
        run(
            PrivilegedCheck(),
            [
                Case(name: "unprivileged", spec: containers([("a", ["privileged": false])])),
                Case(
                    name: "two", spec: spec,
                    expected: ("privileged", #"containers "init", "a" must not set securityContext.privileged=true"#)),
            ])
    }

    func testBaselineCapabilities() {
        run(
            CapabilitiesBaselineCheck(),
            [
                Case(name: "defaults", spec: containers([("a", ["capabilities": ["add": ["CHOWN", "KILL"]]])])),
                Case(
                    name: "extra",
                    spec: containers([
                        ("a", ["capabilities": ["add": ["SYS_ADMIN", "NET_RAW", "CHOWN"]]]),
                        ("b", ["capabilities": ["add": ["NET_RAW"]]]),
                    ]),
                    expected: (
                        "non-default capabilities",
                        #"containers "a", "b" must not include "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add"#
                    )),
            ])
    }

    func testHostPathVolumes() {
        run(
            HostPathVolumesCheck(),
            [
                Case(name: "emptyDir", spec: ["volumes": [["name": "a", "emptyDir": [:]]]]),
                Case(
                    name: "one", spec: ["volumes": [["name": "host", "hostPath": ["path": "/"]]]],
                    expected: ("hostPath volumes", #"volume "host""#)),
            ])
    }

    func testHostPortsSortedAsStrings() {
        let spec = containers([("a", [:]), ("b", [:])])
        var withPorts = spec
        withPorts["containers"] = [
            ["name": "a", "ports": [["containerPort": 80, "hostPort": 80], ["containerPort": 1, "hostPort": 443]]],
            ["name": "b", "ports": [["containerPort": 80, "hostPort": 0]]],
        ]
        var two = spec
        two["containers"] = [
            ["name": "a", "ports": [["containerPort": 80, "hostPort": 8080]]],
            ["name": "b", "ports": [["containerPort": 80, "hostPort": 8080]]],
        ]
        run(
            HostPortsCheck(),
            [
                Case(name: "none", spec: spec),
                Case(
                    name: "one container", spec: withPorts,
                    expected: ("hostPort", #"container "a" uses hostPorts 443, 80"#)),
                Case(
                    name: "two containers", spec: two, expected: ("hostPort", #"containers "a", "b" use hostPort 8080"#)
                ),
            ])
    }

    func testAppArmor() {
        let prefix = "container.apparmor.security.beta.kubernetes.io/"
        run(
            AppArmorProfileCheck(),
            [
                Case(
                    name: "runtime default", spec: ["securityContext": ["appArmorProfile": ["type": "RuntimeDefault"]]]),
                Case(
                    name: "allowed annotations", spec: [:],
                    annotations: [prefix + "a": "runtime/default", prefix + "b": "localhost/x", prefix + "c": ""]),
                Case(
                    name: "unconfined pod", spec: ["securityContext": ["appArmorProfile": ["type": "Unconfined"]]],
                    expected: ("forbidden AppArmor profile", #"pod must not set AppArmor profile type to "Unconfined""#)
                ),
                Case(
                    name: "unconfined container",
                    spec: containers([("foo", ["appArmorProfile": ["type": "Unconfined"]])]),
                    expected: (
                        "forbidden AppArmor profile",
                        #"container "foo" must not set AppArmor profile type to "Unconfined""#
                    )),
                Case(
                    name: "annotations", spec: [:],
                    annotations: [prefix + "e": "unconfined", prefix + "f": "unknown", prefix + "d": "localhost/foo"],
                    expected: (
                        "forbidden AppArmor profiles",
                        #"annotations must not set AppArmor profile type to ""#
                            + #"container.apparmor.security.beta.kubernetes.io/e="unconfined"", "#
                            + #""container.apparmor.security.beta.kubernetes.io/f="unknown"""#
                    )),
            ])
    }

    func testSELinuxOptionsByVersion() {
        run(
            SELinuxOptionsCheck(),
            [
                Case(
                    name: "container_t",
                    spec: ["securityContext": ["seLinuxOptions": ["type": "container_t", "level": "s0"]]]),
                Case(
                    name: "engine at 1.31",
                    spec: ["securityContext": ["seLinuxOptions": ["type": "container_engine_t"]]],
                    minor: 31),
                Case(
                    name: "engine at 1.30",
                    spec: ["securityContext": ["seLinuxOptions": ["type": "container_engine_t"]]],
                    minor: 30,
                    expected: (
                        "seLinuxOptions",
                        #"pod set forbidden securityContext.seLinuxOptions: type "container_engine_t""#
                    )),
                Case(
                    name: "user and role only",
                    spec: ["securityContext": ["seLinuxOptions": ["user": "u", "role": "r"]]],
                    expected: (
                        "seLinuxOptions",
                        "pod set forbidden securityContext.seLinuxOptions: user may not be set; role may not be set"
                    )),
                Case(
                    name: "pod and containers",
                    spec: [
                        "securityContext": ["seLinuxOptions": ["type": "spc_t"]],
                        "containers": [
                            ["name": "a", "securityContext": ["seLinuxOptions": ["type": "bad", "user": "u"]]],
                            ["name": "b", "securityContext": ["seLinuxOptions": ["type": "bad"]]],
                        ],
                    ],
                    expected: (
                        "seLinuxOptions",
                        #"pod and containers "a", "b" set forbidden securityContext.seLinuxOptions: types "bad", "spc_t"; user may not be set"#
                    )),
            ])
    }

    func testProcMount() {
        run(
            ProcMountCheck(),
            [
                Case(name: "default", spec: containers([("a", ["procMount": "Default"])])),
                Case(
                    name: "unmasked", spec: containers([("a", ["procMount": "Unmasked"])]),
                    expected: ("procMount", #"container "a" must not set securityContext.procMount to "Unmasked""#)),
            ])
    }

    func testSeccompBaselineFieldsAndOldAnnotations() {
        let unconfined: JSON = ["seccompProfile": ["type": "Unconfined"]]
        run(
            SeccompProfileBaselineCheck(),
            [
                Case(name: "unset", spec: containers([("a", [:])])),
                Case(
                    name: "pod and container",
                    spec: [
                        "securityContext": unconfined, "containers": [["name": "a", "securityContext": unconfined]],
                    ],
                    expected: (
                        "seccompProfile",
                        #"pod and container "a" must not set securityContext.seccompProfile.type to "Unconfined""#
                    )),
                Case(
                    name: "annotations before 1.19", spec: containers([("a", [:])]),
                    annotations: [
                        "seccomp.security.alpha.kubernetes.io/pod": "unconfined",
                        "container.seccomp.security.alpha.kubernetes.io/a": "runtime/default",
                    ],
                    minor: 18,
                    expected: (
                        "seccompProfile", #"forbidden annotation seccomp.security.alpha.kubernetes.io/pod="unconfined""#
                    )),
                Case(
                    name: "annotations ignored since 1.19", spec: containers([("a", [:])]),
                    annotations: ["seccomp.security.alpha.kubernetes.io/pod": "unconfined"], minor: 19),
            ])
    }

    func testSysctlsGrowByVersion() {
        let spec: JSON = [
            "securityContext": [
                "sysctls": [
                    ["name": "net.ipv4.tcp_keepalive_time", "value": "1"], ["name": "kernel.msgmax", "value": "1"],
                    ["name": "net.ipv4.ip_local_reserved_ports", "value": "1"],
                ]
            ]
        ]
        run(
            SysctlsCheck(),
            [
                Case(
                    name: "1.26", spec: spec, minor: 26,
                    expected: (
                        "forbidden sysctls",
                        "net.ipv4.tcp_keepalive_time, kernel.msgmax, net.ipv4.ip_local_reserved_ports"
                    )),
                Case(
                    name: "1.27", spec: spec, minor: 27,
                    expected: ("forbidden sysctls", "net.ipv4.tcp_keepalive_time, kernel.msgmax")),
                Case(name: "latest", spec: spec, expected: ("forbidden sysctls", "kernel.msgmax")),
            ])
    }

    func testWindowsHostProcess() {
        run(
            WindowsHostProcessCheck(),
            [
                Case(
                    name: "pod and containers",
                    spec: [
                        "securityContext": ["windowsOptions": ["hostProcess": true]],
                        "containers": [
                            ["name": "a", "securityContext": ["windowsOptions": ["hostProcess": true]]],
                            ["name": "b", "securityContext": ["windowsOptions": ["hostProcess": false]]],
                        ],
                    ],
                    expected: (
                        "hostProcess",
                        #"pod and container "a" must not set securityContext.windowsOptions.hostProcess=true"#
                    )),
                Case(name: "false", spec: containers([("a", ["windowsOptions": ["hostProcess": false]])])),
            ])
    }
}
