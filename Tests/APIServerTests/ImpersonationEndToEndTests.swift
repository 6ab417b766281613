import TestSupport
import Foundation
import XCTest

/// `kubectl --as` through upstream's impersonation filter, with RBAC on.
final class ImpersonationEndToEndTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.44" }
    override class var extraFlags: [String] { ["--authorization-mode=RBAC", "--token-auth-file=@token.csv"] }
    override class func prepare(directory: URL) throws {
        try "bob-token,bob,2001\n".write(
            to: directory.appendingPathComponent("token.csv"), atomically: true, encoding: .utf8)
    }

    func testAdminActsAsAnotherUserAndOthersMayNot() throws {
        let cluster = try cluster
        // The admin may impersonate anyone, and then has only that user's rights.
        XCTAssertEqual(
            expectSuccess(
                try cluster.kubectl([
                    "--as=jane", "--as-group=dev", "auth", "whoami", "-o",
                    "jsonpath={.status.userInfo.username} {.status.userInfo.groups}",
                ])),
            #"jane ["dev","system:authenticated"]"#)
        let denied = try cluster.kubectl(["--as=jane", "get", "pods"])
        XCTAssertEqual(
            denied.stderr,
            "Error from server (Forbidden): pods is forbidden: User \"jane\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\"\n"
        )
        let account = expectSuccess(
            try cluster.kubectl([
                "--as=system:serviceaccount:default:robot", "auth", "whoami", "-o",
                "jsonpath={.status.userInfo.groups}",
            ]))
        XCTAssertEqual(account, #"["system:serviceaccounts","system:serviceaccounts:default","system:authenticated"]"#)

        // bob may not impersonate until a role lets him.
        let pki = cluster.directory.appendingPathComponent("pki").path
        let bob = [
            "--kubeconfig=/dev/null", "--server=https://\(cluster.address):\(cluster.port)",
            "--certificate-authority=\(pki)/ca.pem", "--token=bob-token",
        ]
        let refused = try TestCluster.run(TestCluster.kubectlPath, bob + ["--as=jane", "get", "pods"])
        XCTAssertTrue(
            refused.stderr.contains(
                #"users "jane" is forbidden: User "bob" cannot impersonate resource "users" in API group "" at the cluster scope"#
            ), refused.stderr)
        expectSuccess(
            try cluster.kubectl([
                "create", "clusterrole", "impersonate-jane", "--verb=impersonate", "--resource=users",
                "--resource-name=jane",
            ]))
        expectSuccess(
            try cluster.kubectl([
                "create", "clusterrolebinding", "bob-as-jane", "--clusterrole=impersonate-jane", "--user=bob",
            ]))
        // The binding reaches the RBAC snapshot through a watch; allow it a moment.
        var whoami = TestCluster.Output(status: 1, stdout: "", stderr: "")
        for _ in 0..<50 {
            whoami = try TestCluster.run(
                TestCluster.kubectlPath,
                bob + ["--as=jane", "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"])
            if whoami.status == 0 { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTAssertEqual(whoami.stdout, "jane", whoami.stderr)
        let group = try TestCluster.run(
            TestCluster.kubectlPath, bob + ["--as=jane", "--as-group=system:masters", "get", "ns"])
        XCTAssertTrue(
            group.stderr.contains(
                #"groups "system:masters" is forbidden: User "bob" cannot impersonate resource "groups" in API group "" at the cluster scope"#
            ), group.stderr)
    }
}
