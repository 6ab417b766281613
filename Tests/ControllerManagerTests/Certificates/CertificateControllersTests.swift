import APIMachinery
import Client
import Foundation
import Operations
import X509
import XCTest

@testable import ControllerManager

/// The certificate and bootstrap-token controllers against a real API server with bootstrap tokens and RBAC:
/// a node joining with a bootstrap token gets a client certificate that authenticates it as its node.
final class CertificateControllersTests: XCTestCase {
    static let nodeClientUsages = ["digital signature", "client auth"]

    func requests(_ client: RESTClient) -> ResourceClient<Client.CertificateSigningRequest> {
        ResourceClient(client: client)
    }

    func testNodeJoiningWithABootstrapTokenGetsACertificateForItsNode() async throws {
        let endpoint = try await CertificatesTestServer.shared.start()
        let admin = try RESTClient(kubeconfigPath: endpoint.kubeconfigPath)
        let token = try await Self.createBootstrapToken(admin)
        try await Self.allowBootstrappersToRequestNodeCertificates(admin)
        let controllers = try await RunningControllers.start(
            [CertificateApprovingController.descriptor, CertificateSigningController.descriptor],
            arguments: [
                "--cluster-signing-cert-file=\(endpoint.pki)/ca.pem",
                "--cluster-signing-key-file=\(endpoint.pki)/ca-key.pem",
            ],
            client: admin)
        let suffix = Self.randomID(6)
        // A request for another signer is neither approved nor signed by these controllers.
        let alice = try TestCertificateRequests.make(commonName: "alice-\(suffix)")
        _ = try await requests(admin).create(
            TestCertificateRequests.object(
                name: "alice-\(suffix)", pem: alice.request, signer: CertificateRequestRules.kubeAPIServerClientSigner,
                usages: ["client auth"]))

        // What a kubelet does with --bootstrap-kubeconfig: request a client certificate as the token's user.
        var bootstrapConfiguration = try ClientConfiguration(server: endpoint.server)
        bootstrapConfiguration.trustRootsPEM = Array(endpoint.authority.certificatePEM.utf8)
        bootstrapConfiguration.bearerToken = "\(token.id).\(token.secret)"
        let bootstrap = try RESTClient(configuration: bootstrapConfiguration)
        let nodeName = "node-\(suffix)"
        let node = try TestCertificateRequests.make(
            commonName: "system:node:\(nodeName)", organizations: ["system:nodes"])
        let created = try await requests(bootstrap).create(
            TestCertificateRequests.object(
                name: "node-csr-\(suffix)", pem: node.request, signer: CertificateRequestRules.kubeletClientSigner,
                usages: Self.nodeClientUsages, expirationSeconds: 3600))
        XCTAssertEqual(created.spec.username, "system:bootstrap:\(token.id)")
        let issued = try await eventually("the node's certificate") {
            let request = try await self.requests(bootstrap).get("node-csr-\(suffix)")
            return (request.status.certificate ?? "").isEmpty ? nil : request
        }
        let approval = try XCTUnwrap(issued.status.conditions.first { $0.type == "Approved" })
        XCTAssertEqual(approval.reason, "AutoApproved")
        XCTAssertEqual(approval.message, "Auto approving kubelet client certificate after SubjectAccessReview.")

        let certificatePEM = try XCTUnwrap(String(bytes: issued.certificatePEM, encoding: .utf8))
        let certificate = try XCTUnwrap(PEM.certificates(from: certificatePEM).first)
        XCTAssertEqual(certificate.issuer, endpoint.authority.certificate.subject)
        XCTAssertTrue(
            endpoint.authority.certificate.publicKey.isValidSignature(certificate.signature, for: certificate))
        // One hour asked for, five minutes backdated.
        XCTAssertEqual(certificate.notValidAfter.timeIntervalSince(certificate.notValidBefore), 3900)

        var nodeConfiguration = try ClientConfiguration(server: endpoint.server)
        nodeConfiguration.trustRootsPEM = Array(endpoint.authority.certificatePEM.utf8)
        nodeConfiguration.clientCertificatePEM = Array(certificatePEM.utf8)
        nodeConfiguration.clientKeyPEM = Array(node.key.utf8)
        let nodeClient = try RESTClient(configuration: nodeConfiguration)
        let review = try await nodeClient.postJSON(
            path: "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            ["apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"])
        XCTAssertEqual(review["status"]?["userInfo"]?["username"]?.stringValue, "system:node:\(nodeName)")
        XCTAssertTrue(
            (review["status"]?["userInfo"]?["groups"]?.arrayValue ?? []).contains(.string("system:nodes")))

        let other = try await requests(admin).get("alice-\(suffix)")
        XCTAssertEqual(other.status.conditions.count, 0)
        XCTAssertNil(other.status.certificate)
        await controllers.stop()
        await nodeClient.shutdown()
        await bootstrap.shutdown()
        await admin.shutdown()
    }

    func testApprovedRequestTheSignerRefusesIsFailed() async throws {
        let endpoint = try await CertificatesTestServer.shared.start()
        let admin = try RESTClient(kubeconfigPath: endpoint.kubeconfigPath)
        let controllers = try await RunningControllers.start(
            [CertificateSigningController.descriptor],
            arguments: [
                "--cluster-signing-cert-file=\(endpoint.pki)/ca.pem",
                "--cluster-signing-key-file=\(endpoint.pki)/ca-key.pem",
            ],
            client: admin)
        let name = "bad-\(Self.randomID(6))"
        let pem = try TestCertificateRequests.make(commonName: "system:node:x", organizations: ["not-nodes"])
        let created = try await requests(admin).create(
            TestCertificateRequests.object(
                name: name, pem: pem.request, signer: CertificateRequestRules.kubeletClientSigner,
                usages: Self.nodeClientUsages))
        try await Self.approve(created, admin)
        let failed = try await eventually("the Failed condition") {
            let request = try await self.requests(admin).get(name)
            return request.hasTrueCondition("Failed") ? request : nil
        }
        let condition = try XCTUnwrap(failed.status.conditions.first { $0.type == "Failed" })
        XCTAssertEqual(condition.reason, "SignerValidationFailure")
        XCTAssertEqual(condition.message, "subject organization is not system:nodes")
        XCTAssertNil(failed.status.certificate)
        await controllers.stop()
        await admin.shutdown()
    }

    func testCleanerDeletesDeniedAndLongPendingRequestsOnly() async throws {
        let endpoint = try await CertificatesTestServer.shared.start()
        let admin = try RESTClient(kubeconfigPath: endpoint.kubeconfigPath)
        let suffix = Self.randomID(6)
        var names: [String: String] = [:]
        for kind in ["pending", "denied", "approved"] {
            let pem = try TestCertificateRequests.make(commonName: "\(kind)-\(suffix)")
            let created = try await requests(admin).create(
                TestCertificateRequests.object(
                    name: "\(kind)-\(suffix)", pem: pem.request,
                    signer: CertificateRequestRules.kubeAPIServerClientSigner,
                    usages: ["client auth"]))
            names[kind] = "\(kind)-\(suffix)"
            if kind != "pending" {
                try await Self.approve(created, admin, type: kind == "denied" ? "Denied" : "Approved")
            }
        }
        // A day and an hour from now, every request here is old; only the approved, unsigned one is kept.
        let time = FakeTime(wallNow: Date().addingTimeInterval(25 * 3600))
        let controllers = try await RunningControllers.start(
            [CertificateCleanerController.descriptor], client: admin, time: time)
        for kind in ["pending", "denied"] {
            _ = try await eventually("\(kind) deleted") { () async throws -> Bool? in
                do {
                    _ = try await self.requests(admin).get(names[kind] ?? "")
                    return nil
                } catch let error as StatusError where error.code == 404 {
                    return true
                }
            }
        }
        let kept = try await requests(admin).get(names["approved"] ?? "")
        XCTAssertTrue(kept.isApproved)
        await controllers.stop()
        await admin.shutdown()
    }

    func testClusterInfoIsSignedWithUsableTokensAndExpiredTokensAreDeleted() async throws {
        let endpoint = try await CertificatesTestServer.shared.start()
        let admin = try RESTClient(kubeconfigPath: endpoint.kubeconfigPath)
        let kubeconfig = "apiVersion: v1\nclusters:\n- cluster:\n    server: \(endpoint.server)\n  name: \"\"\n"
        var clusterInfo = ConfigMap()
        clusterInfo.metadata.name = "cluster-info"
        clusterInfo.metadata.namespace = "kube-public"
        clusterInfo.data = ["kubeconfig": kubeconfig]
        let configMaps = ResourceClient<ConfigMap>(client: admin, namespace: "kube-public")
        _ = try await configMaps.create(clusterInfo)
        let usable = try await Self.createBootstrapToken(admin)
        let expired = try await Self.createBootstrapToken(
            admin, expiration: Timestamp.format(epochSeconds: Int64(Date().timeIntervalSince1970) - 60))
        let controllers = try await RunningControllers.start(
            [BootstrapSignerController.descriptor, TokenCleanerController.descriptor], client: admin)

        let key = "jws-kubeconfig-\(usable.id)"
        let expected = DetachedJWS.sign(content: kubeconfig, tokenID: usable.id, tokenSecret: usable.secret)
        _ = try await eventually("cluster-info signed") {
            try await configMaps.get("cluster-info").data[key] == expected ? true : nil
        }
        let secrets = ResourceClient<Secret>(client: admin, namespace: "kube-system")
        _ = try await eventually("the expired token deleted") { () async throws -> Bool? in
            do {
                _ = try await secrets.get("bootstrap-token-\(expired.id)")
                return nil
            } catch let error as StatusError where error.code == 404 {
                return true
            }
        }
        let signed = try await configMaps.get("cluster-info")
        XCTAssertNil(signed.data["jws-kubeconfig-\(expired.id)"])
        try await secrets.delete("bootstrap-token-\(usable.id)")
        _ = try await eventually("the deleted token's signature removed") {
            try await configMaps.get("cluster-info").data[key] == nil ? true : nil
        }
        await controllers.stop()
        await admin.shutdown()
    }

    // MARK: - Helpers

    static func randomID(_ length: Int) -> String {
        String((0..<length).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement() ?? "a" })
    }

    /// A bootstrap-token Secret as `kubeadm token create` writes it.
    static func createBootstrapToken(_ admin: RESTClient, expiration: String? = nil) async throws -> (
        id: String, secret: String
    ) {
        let (id, secret) = (randomID(6), randomID(16))
        var object = Secret()
        object.metadata.name = "bootstrap-token-\(id)"
        object.metadata.namespace = "kube-system"
        object.type = "bootstrap.kubernetes.io/token"
        var data = [
            "token-id": id, "token-secret": secret, "usage-bootstrap-authentication": "true",
            "usage-bootstrap-signing": "true", "auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token",
        ]
        data["expiration"] = expiration
        object.data = data.mapValues { Data($0.utf8).base64EncodedString() }
        _ = try await ResourceClient<Secret>(client: admin, namespace: "kube-system").create(object)
        return (id, secret)
    }

    /// kubeadm's bindings: bootstrappers may create CSRs, and their node client CSRs may be auto-approved.
    static func allowBootstrappersToRequestNodeCertificates(_ admin: RESTClient) async throws {
        for (name, role) in [
            ("kubelet-bootstrap", "system:node-bootstrapper"),
            ("node-autoapprove-bootstrap", "system:certificates.k8s.io:certificatesigningrequests:nodeclient"),
        ] {
            let binding: JSON = [
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": ["name": .string(name)],
                "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": .string(role)],
                "subjects": [
                    ["apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:bootstrappers"]
                ],
            ]
            do {
                _ = try await admin.postJSON(path: "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", binding)
            } catch let error as StatusError where error.code == 409 {
                continue
            }
        }
    }

    /// Approves (or denies) `request` as an administrator would with `kubectl certificate approve`.
    static func approve(_ request: Client.CertificateSigningRequest, _ admin: RESTClient, type: String = "Approved")
        async throws
    {
        var updated = request
        updated.status.conditions.append(
            CertificateSigningRequestCondition(type: type, status: "True", message: "by the test", reason: "Test"))
        _ = try await admin.putJSON(
            path: "/apis/certificates.k8s.io/v1/certificatesigningrequests/\(request.metadata.name ?? "")/approval",
            updated.toJSON())
    }
}
