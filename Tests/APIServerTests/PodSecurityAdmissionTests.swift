import APIMachinery
import Foundation
import NIOHTTP1
import Storage
import XCTest

@testable import APIServer

/// The PodSecurity plugin inside one API server: refusals, warnings, audit annotations, namespace label
/// checks and exemptions, each as upstream's pod-security-admission answers.
final class PodSecurityAdmissionTests: XCTestCase {
    private let admin = UserInfo(name: "admin", uid: "u-1", groups: ["system:masters", "system:authenticated"])

    /// Each test's plugin is new, and its namespace cache lists storage on its first pod request, so the
    /// labels written before it are seen without waiting for the cache's watch.
    private func server(_ plugin: PodSecurityAdmission = PodSecurityAdmission()) async throws -> APIServer {
        var configuration = APIServer.Configuration()
        configuration.admission = AdmissionChain(plugins: [plugin])
        let server = APIServer(storage: MemoryStore(), configuration: configuration)
        try await server.bootstrap(advertiseAddress: "127.0.0.1", securePort: 6443)
        return server
    }

    private func send(
        _ server: APIServer, _ method: HTTPMethod, _ uri: String, _ body: JSON, user: UserInfo? = nil,
        contentType: String = "application/json"
    ) async throws -> (status: UInt, body: JSON, warnings: [String]) {
        let response = await server.respond(
            to: HTTPRequest(
                method: method, uri: uri, headers: ["Content-Type": contentType], body: body.encoded(),
                user: user ?? admin, remoteAddress: "127.0.0.9"))
        guard case .bytes(let bytes) = response.body else { throw APIError.badRequest("no body") }
        return (response.status.code, try JSON.parse(bytes), response.headers["Warning"])
    }

    private func namespace(_ server: APIServer, _ name: String, labels: JSON) async throws -> UInt {
        try await send(
            server, .POST, "/api/v1/namespaces",
            ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name), "labels": labels]]
        ).status
    }

    private func pod(_ name: String, securityContext: JSON = [:], runtimeClass: String? = nil) -> JSON {
        var spec: JSON = [
            "containers": [["name": .string(name), "image": "nginx", "securityContext": securityContext]]
        ]
        if let runtimeClass { spec["runtimeClassName"] = .string(runtimeClass) }
        return ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name)], "spec": spec]
    }

    func testEnforceRefusesWithUpstreamsMessageAndWarnOnlyWarns() async throws {
        let server = try await server()
        let enforced = try await namespace(
            server, "locked", labels: ["pod-security.kubernetes.io/enforce": "restricted"])
        XCTAssertEqual(enforced, 201)
        _ = try await namespace(server, "watched", labels: ["pod-security.kubernetes.io/warn": "baseline"])

        let refused = try await send(server, .POST, "/api/v1/namespaces/locked/pods", pod("x"))
        XCTAssertEqual(refused.status, 403)
        XCTAssertEqual(
            refused.body["message"]?.stringValue,
            #"pods "x" is forbidden: violates PodSecurity "restricted:latest": "#
                + #"allowPrivilegeEscalation != false (container "x" must set securityContext.allowPrivilegeEscalation=false), "#
                + #"unrestricted capabilities (container "x" must set securityContext.capabilities.drop=["ALL"]), "#
                + #"runAsNonRoot != true (pod or container "x" must set securityContext.runAsNonRoot=true), "#
                + #"seccompProfile (pod or container "x" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#
        )
        XCTAssertEqual(refused.warnings, [], "no warnings on a refused request")

        let compliant: JSON = [
            "allowPrivilegeEscalation": false, "runAsNonRoot": true, "capabilities": ["drop": ["ALL"]],
            "seccompProfile": ["type": "RuntimeDefault"],
        ]
        let admitted = try await send(
            server, .POST, "/api/v1/namespaces/locked/pods", pod("ok", securityContext: compliant))
        XCTAssertEqual(admitted.status, 201, admitted.body.jsonString)

        let warned = try await send(
            server, .POST, "/api/v1/namespaces/watched/pods", pod("root", securityContext: ["privileged": true]))
        XCTAssertEqual(warned.status, 201)
        XCTAssertEqual(
            warned.warnings,
            [
                #"299 - "would violate PodSecurity \"baseline:latest\": privileged (container \"root\" must not set securityContext.privileged=true)""#
            ])
    }

    func testUnlabelledNamespacesIncludingKubeSystemAdmitEverything() async throws {
        let server = try await server()
        for namespace in ["default", "kube-system"] {
            let created = try await send(
                server, .POST, "/api/v1/namespaces/\(namespace)/pods",
                pod("root", securityContext: ["privileged": true]))
            XCTAssertEqual(created.status, 201, namespace)
            XCTAssertEqual(created.warnings, [], namespace)
        }
    }

    func testControllersAreWarnedAboutNeverRefused() async throws {
        let server = try await server()
        _ = try await namespace(server, "locked", labels: ["pod-security.kubernetes.io/enforce": "baseline"])
        let deployment: JSON = [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"],
            "spec": [
                "selector": ["matchLabels": ["app": "web"]],
                "template": [
                    "metadata": ["labels": ["app": "web"]],
                    "spec": ["hostNetwork": true, "containers": [["name": "web", "image": "nginx"]]],
                ],
            ],
        ]
        let created = try await send(server, .POST, "/apis/apps/v1/namespaces/locked/deployments", deployment)
        XCTAssertEqual(created.status, 201, created.body.jsonString)
        XCTAssertEqual(
            created.warnings,
            [#"299 - "would violate PodSecurity \"baseline:latest\": host namespaces (hostNetwork)""#])
    }

    func testNamespaceLabelsAreValidatedAndStricterEnforceWarnsAboutExistingPods() async throws {
        let server = try await server()
        let invalid = try await send(
            server, .POST, "/api/v1/namespaces",
            ["metadata": ["name": "bad", "labels": ["pod-security.kubernetes.io/enforce": "strict"]]])
        XCTAssertEqual(invalid.status, 422)
        XCTAssertEqual(
            invalid.body["message"]?.stringValue,
            #"Namespace "bad" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted"#
        )

        _ = try await namespace(server, "apps", labels: [:])
        for name in ["b", "a"] {
            let created = try await send(
                server, .POST, "/api/v1/namespaces/apps/pods", pod(name, securityContext: ["privileged": true]))
            XCTAssertEqual(created.status, 201)
        }
        let label = { (value: String) in
            try await self.send(
                server, .PATCH, "/api/v1/namespaces/apps",
                ["metadata": ["labels": ["pod-security.kubernetes.io/enforce": .string(value)]]],
                contentType: "application/merge-patch+json")
        }
        let tightened = try await label("baseline")
        XCTAssertEqual(tightened.status, 200)
        XCTAssertEqual(
            tightened.warnings,
            [
                #"299 - "existing pods in namespace \"apps\" violate the new PodSecurity enforce level \"baseline:latest\"""#,
                #"299 - "a (and 1 other pod): privileged""#,
            ])
        let relaxed = try await label("privileged")
        XCTAssertEqual(relaxed.warnings, [], "relaxing checks nothing")
        let wrong = try await label("v1.30")
        XCTAssertEqual(wrong.status, 422)
    }

    func testAuditAnnotationsNameThePoliciesAndViolations() async throws {
        let server = try await server()
        _ = try await namespace(
            server, "audited",
            labels: ["pod-security.kubernetes.io/audit": "baseline", "pod-security.kubernetes.io/warn": "privileged"])
        let audit = AuditContext(auditID: "a", level: .metadata)
        let response = await AuditContext.$current.withValue(audit) {
            await server.respond(
                to: HTTPRequest(
                    method: .POST, uri: "/api/v1/namespaces/audited/pods",
                    headers: ["Content-Type": "application/json"],
                    body: pod("p", securityContext: ["privileged": true]).encoded(), user: admin,
                    remoteAddress: "127.0.0.9"))
        }
        XCTAssertEqual(response.status.code, 201)
        XCTAssertEqual(
            audit.annotations.filter { $0.key.hasPrefix("pod-security") }.map { "\($0.key)=\($0.value)" },
            [
                "pod-security.kubernetes.io/enforce-policy=privileged:latest",
                #"pod-security.kubernetes.io/audit-violations=would violate PodSecurity "baseline:latest": privileged (container "p" must not set securityContext.privileged=true)"#,
            ])
    }

    func testExemptionsAndDefaultsFromConfiguration() async throws {
        let configuration = PodSecurityConfiguration(
            defaults: PodSecurityPolicy(enforce: .init(.baseline), audit: .init(.privileged), warn: .init(.privileged)),
            exemptUsernames: ["ci"], exemptRuntimeClasses: ["kata"], exemptNamespaces: ["kube-system"])
        let server = try await server(PodSecurityAdmission(configuration: configuration))
        let privileged: JSON = ["privileged": true]
        let refused = try await send(
            server, .POST, "/api/v1/namespaces/default/pods", pod("a", securityContext: privileged))
        XCTAssertEqual(refused.status, 403, "the configured default applies to unlabelled namespaces")
        let system = try await send(
            server, .POST, "/api/v1/namespaces/kube-system/pods", pod("b", securityContext: privileged))
        XCTAssertEqual(system.status, 201)
        let ci = UserInfo(name: "ci", uid: "u-2", groups: ["system:masters", "system:authenticated"])
        let byUser = try await send(
            server, .POST, "/api/v1/namespaces/default/pods", pod("c", securityContext: privileged), user: ci)
        XCTAssertEqual(byUser.status, 201)
        let byRuntime = try await send(
            server, .POST, "/api/v1/namespaces/default/pods",
            pod("d", securityContext: privileged, runtimeClass: "kata"))
        XCTAssertEqual(byRuntime.status, 201)
    }
}
