import APIMachinery
import Foundation
import TestSupport
import XCTest

/// CertificateSigningRequests under RBAC through kubectl: the requester recorded from the request's user,
/// `kubectl certificate approve`, the signer's status write, and upstream's three certificate admission plugins.
final class BuiltInKindsCertificateTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.102" }
    override class var extraFlags: [String] { ["--authorization-mode=RBAC", "--token-auth-file=@token.csv"] }

    override class func prepare(directory: URL) throws {
        try """
        node-token,system:node:node-1,3001,"system:nodes"
        approver-token,approver,3002
        """.write(to: directory.appendingPathComponent("token.csv"), atomically: true, encoding: .utf8)
    }

    /// kubectl as a token user instead of the admin.
    func kubectl(token: String, _ arguments: [String], input: String? = nil) throws -> TestCluster.Output {
        let cluster = try cluster
        return try TestCluster.run(
            TestCluster.kubectlPath,
            [
                "--server=https://\(cluster.address):\(cluster.port)",
                "--certificate-authority=\(cluster.directory.path)/pki/ca.pem", "--token=\(token)",
            ] + arguments, input: input)
    }

    /// A PEM certificate request for `subject`, base64-encoded as the request field holds it.
    func certificateRequest(subject: String) throws -> String {
        let output = try TestCluster.run(
            "/usr/bin/openssl",
            [
                "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                "/dev/null", "-subj", subject,
            ])
        XCTAssertEqual(output.status, 0, output.stderr)
        return Data(output.stdout.utf8).base64EncodedString()
    }

    func csr(_ name: String, subject: String, signer: String, usages: [String] = ["client auth"]) throws -> String {
        """
        apiVersion: certificates.k8s.io/v1
        kind: CertificateSigningRequest
        metadata: {name: \(name)}
        spec:
          request: \(try certificateRequest(subject: subject))
          signerName: \(signer)
          usages: [\(usages.map { "\"\($0)\"" }.joined(separator: ", "))]
          expirationSeconds: 3600
        """
    }

    func testRequestApproveAndIssue() throws {
        // The node's own request records the node as requester, whatever the body claims.
        let body = try csr(
            "node-client", subject: "/O=system:nodes/CN=system:node:node-1",
            signer: "kubernetes.io/kube-apiserver-client-kubelet")
        expectSuccess(
            try grant(
                "node-requests",
                rule: "{apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests], verbs: [create]}",
                to: "system:node:node-1"))
        var created = TestCluster.Output(status: 1, stdout: "", stderr: "")
        for _ in 0..<50 {
            created = try kubectl(
                token: "node-token", ["create", "-f", "-"],
                input: body.replacingOccurrences(
                    of: "  expirationSeconds", with: "  username: mallory\n  expirationSeconds"))
            if created.status == 0 { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        expectSuccess(created)
        let read = try JSON.parse(
            Array(expectSuccess(try cluster.kubectl(["get", "csr", "node-client", "-o", "json"])).utf8))
        XCTAssertEqual(read["spec"]?["username"], "system:node:node-1")
        XCTAssertEqual(read["spec"]?["uid"], "3001")
        XCTAssertEqual(read["spec"]?["groups"], ["system:nodes", "system:authenticated"])

        let pending = expectSuccess(try cluster.kubectl(["get", "csr"])).split(separator: "\n")
        XCTAssertEqual(
            pending.first?.split(separator: " ", omittingEmptySubsequences: true),
            ["NAME", "AGE", "SIGNERNAME", "REQUESTOR", "REQUESTEDDURATION", "CONDITION"])
        let row = pending.first { $0.hasPrefix("node-client ") }?.split(separator: " ", omittingEmptySubsequences: true)
        XCTAssertEqual(
            row?.dropFirst(2), ["kubernetes.io/kube-apiserver-client-kubelet", "system:node:node-1", "60m", "Pending"])

        XCTAssertEqual(
            expectSuccess(try cluster.kubectl(["certificate", "approve", "node-client"])),
            "certificatesigningrequest.certificates.k8s.io/node-client approved\n")
        XCTAssertEqual(
            try cluster.kubectl(["get", "csr", "node-client", "-o", "jsonpath={.status.conditions[0].type}"]).stdout,
            "Approved")
        // The spec never changes, whatever a main-resource update sends.
        expectSuccess(try cluster.kubectl(["label", "csr", "node-client", "team=nodes"]))
        XCTAssertEqual(
            try cluster.kubectl(["get", "csr", "node-client", "-o", "jsonpath={.spec.username}"]).stdout,
            "system:node:node-1")

        // The signer writes the certificate through status; the approval stays.
        let certificate = try Data(contentsOf: cluster.directory.appendingPathComponent("pki/ca.pem"))
            .base64EncodedString()
        expectSuccess(
            try cluster.kubectl([
                "patch", "csr", "node-client", "--subresource=status", "--type=merge", "-p",
                #"{"status": {"certificate": "\#(certificate)", "conditions": []}}"#,
            ]))
        let issued = try JSON.parse(
            Array(expectSuccess(try cluster.kubectl(["get", "csr", "node-client", "-o", "json"])).utf8))
        XCTAssertEqual(issued["status"]?["certificate"]?.stringValue, certificate)
        XCTAssertEqual(issued["status"]?["conditions"]?.arrayValue?.map { $0["type"] }, ["Approved"])
        XCTAssertTrue(expectSuccess(try cluster.kubectl(["get", "csr", "node-client"])).contains("Approved,Issued"))

        let garbage = try cluster.kubectl([
            "patch", "csr", "node-client", "--subresource=status", "--type=merge", "-p",
            #"{"status": {"certificate": "\#(Data("not a certificate".utf8).base64EncodedString())"}}"#,
        ])
        XCTAssertTrue(
            garbage.stderr.contains(
                "status.certificate: Invalid value: \"<certificate data>\": must contain at least one CERTIFICATE PEM block"
            ),
            garbage.stderr)
    }

    /// A ClusterRole with one rule, bound to `user`.
    func grant(_ name: String, rule: String, to user: String = "approver") throws -> TestCluster.Output {
        try cluster.kubectl(
            ["create", "-f", "-"],
            input: """
                apiVersion: rbac.authorization.k8s.io/v1
                kind: ClusterRole
                metadata: {name: \(name)}
                rules: [\(rule)]
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: ClusterRoleBinding
                metadata: {name: \(name)}
                roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: \(name)}
                subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "\(user)"}]
                """)
    }

    func testApprovalNeedsApproveOnTheSigner() throws {
        expectSuccess(
            try cluster.kubectl(
                ["create", "-f", "-"], input: try csr("example", subject: "/CN=worker", signer: "example.com/serving")))
        // The approver may update approvals but holds no `approve` on any signer yet.
        expectSuccess(
            try grant(
                "csr-approval",
                rule:
                    "{apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests, certificatesigningrequests/approval], verbs: [get, list, update]}"
            ))
        var refused = TestCluster.Output(status: 0, stdout: "", stderr: "")
        for _ in 0..<50 {
            refused = try kubectl(token: "approver-token", ["certificate", "approve", "example"])
            if !refused.stderr.contains("cannot get resource") && !refused.stderr.contains("cannot update resource") {
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTAssertTrue(
            refused.stderr.contains(
                "certificatesigningrequests.certificates.k8s.io \"example\" is forbidden: user not permitted to approve requests with signerName \"example.com/serving\""
            ), refused.stderr)

        // `approve` on the signer's domain wildcard is enough, as upstream checks `<domain>/*` too.
        expectSuccess(
            try grant(
                "example-signer",
                rule:
                    "{apiGroups: [certificates.k8s.io], resources: [signers], resourceNames: [example.com/*], verbs: [approve]}"
            ))
        var approved = TestCluster.Output(status: 1, stdout: "", stderr: "")
        for _ in 0..<50 {
            approved = try kubectl(token: "approver-token", ["certificate", "deny", "example"])
            if approved.status == 0 { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        expectSuccess(approved)
        XCTAssertTrue(expectSuccess(try cluster.kubectl(["get", "csr", "example"])).contains("Denied"))
        // Approved and Denied exclude each other (kubectl refuses client-side, so write the approval directly).
        var denied = try JSON.parse(
            Array(expectSuccess(try cluster.kubectl(["get", "csr", "example", "-o", "json"])).utf8))
        var conditions = denied["status"]?["conditions"]?.arrayValue ?? []
        conditions.append(["type": "Approved", "status": "True", "reason": "Changed", "message": "mind"])
        denied.set(["status", "conditions"], to: .array(conditions))
        let both = try cluster.kubectl(
            [
                "replace", "--raw", "/apis/certificates.k8s.io/v1/certificatesigningrequests/example/approval", "-f",
                "-",
            ], input: denied.jsonString)
        XCTAssertTrue(
            both.stderr.contains(
                "status.conditions[1].type: Invalid value: \"Approved\": Approved and Denied conditions are mutually exclusive"
            ), both.stderr)
    }

    func testValidationAndSubjectRestriction() throws {
        let masters = try cluster.kubectl(
            ["create", "-f", "-"],
            input: try csr(
                "masters", subject: "/O=system:masters/CN=root", signer: "kubernetes.io/kube-apiserver-client"))
        XCTAssertTrue(
            masters.stderr.contains(
                "certificatesigningrequests.certificates.k8s.io \"masters\" is forbidden: use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed"
            ), masters.stderr)

        let invalid = try cluster.kubectl(
            ["create", "-f", "-"],
            input: try csr("invalid", subject: "/CN=x", signer: "example/signer", usages: ["client auth", "flying"])
                .replacingOccurrences(of: "expirationSeconds: 3600", with: "expirationSeconds: 60"))
        XCTAssertTrue(invalid.stderr.contains("CertificateSigningRequest \"invalid\" is invalid"), invalid.stderr)
        for message in [
            "spec.usages[1]: Unsupported value: \"flying\"",
            "spec.signerName: Invalid value: \"example\": should be a domain with at least two segments separated by dots",
            "spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 600 seconds (10 minutes)",
        ] {
            XCTAssertTrue(invalid.stderr.contains(message), "missing \(message) in \(invalid.stderr)")
        }
        let notPEM = try cluster.kubectl(
            ["create", "-f", "-"],
            input: """
                apiVersion: certificates.k8s.io/v1
                kind: CertificateSigningRequest
                metadata: {name: not-pem}
                spec: {request: \(Data("hello".utf8).base64EncodedString()), signerName: example.com/x, usages: [client auth]}
                """)
        XCTAssertTrue(notPEM.stderr.contains("PEM block type must be CERTIFICATE REQUEST"), notPEM.stderr)
    }
}
