import Foundation
import TestSupport
import XCTest

/// The real kube-controller-manager with the endpoints, endpointslice and serviceaccount-token controllers
/// (the guide's flags: the CA's key signs tokens, the CA file is published), driven by kubectl: a service
/// publishes its ready pod (the test plays the kubelet through the status subresource), and a legacy token
/// Secret gets a token `kubectl auth whoami` accepts.
final class ServicePlumbingEndToEndTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.89" }
    override class var extraFlags: [String] { ["--service-account-key-file=@pki/ca-key.pem"] }

    private var manager: ComponentProcess?

    override func tearDown() {
        _ = manager?.stop(kill: true)
        manager = nil
        super.tearDown()
    }

    func testAServicePublishesItsReadyPodAndATokenSecretAuthenticates() throws {
        let cluster = try cluster
        let pki = cluster.directory.appendingPathComponent("pki").path
        let kubeconfig = try cluster.kubeconfig(forUser: "system:kube-controller-manager")
        let manager = try ComponentProcess(
            executable: "kube-controller-manager",
            arguments: [
                "--kubeconfig=\(kubeconfig)", "--bind-address=\(Self.clusterAddress)", "--secure-port=0",
                "--use-service-account-credentials", "--controllers=endpoint,endpointslice,serviceaccount-token",
                "--service-account-private-key-file=\(pki)/ca-key.pem", "--root-ca-file=\(pki)/ca.pem",
                "--leader-elect=false", "--v=2",
            ], directory: cluster.directory, logName: "service-manager")
        self.manager = manager
        try expect(cluster, ["create", "namespace", "svc"])
        try expect(cluster, ["create", "-f", "-"], input: Self.node)
        // The ServiceAccount admission plugin refuses pods until the namespace's default account exists.
        let created = poll { () -> Bool? in
            try cluster.kubectl(["create", "-f", "-"], input: Self.pod).status == 0 ? true : nil
        }
        XCTAssertEqual(created, true)
        try expect(
            cluster,
            [
                "patch", "pod", "web-0", "-n", "svc", "--subresource=status", "--type=merge", "-p",
                #"{"status":{"phase":"Running","podIP":"10.200.0.1","podIPs":[{"ip":"10.200.0.1"}],"conditions":[{"type":"Ready","status":"True"}]}}"#,
            ])
        try expect(cluster, ["create", "-f", "-"], input: Self.service)

        let address = poll {
            try self.field(
                cluster,
                [
                    "get", "endpoints", "web", "-n", "svc", "-o",
                    "jsonpath={.subsets[0].addresses[0].ip}:{.subsets[0].ports[0].port}",
                ]
            )
            .nilIfEmpty(or: ":")
        }
        XCTAssertEqual(address, "10.200.0.1:8080", manager.log.suffix(3000).description)
        let slice = poll {
            try self.field(
                cluster,
                [
                    "get", "endpointslices", "-n", "svc", "-l", "kubernetes.io/service-name=web", "-o",
                    "jsonpath={.items[0].endpoints[0].addresses[0]}/{.items[0].endpoints[0].conditions.ready}/{.items[0].endpoints[0].zone}",
                ]
            ).nilIfEmpty(or: "//")
        }
        XCTAssertEqual(slice, "10.200.0.1/true/zone-a", manager.log.suffix(3000).description)

        try expect(cluster, ["create", "serviceaccount", "builder", "-n", "svc"])
        try expect(cluster, ["create", "-f", "-"], input: Self.tokenSecret)
        let encoded = poll {
            try self.field(cluster, ["get", "secret", "builder-token", "-n", "svc", "-o", "jsonpath={.data.token}"])
                .nilIfEmpty(or: "")
        }
        let token = try XCTUnwrap(
            encoded.flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) },
            manager.log.suffix(3000).description)
        let whoami = try TestCluster.run(
            TestCluster.kubectlPath,
            [
                "--kubeconfig=/dev/null", "--server=https://\(cluster.address):\(cluster.port)",
                "--certificate-authority=\(pki)/ca.pem", "--token=\(token)", "auth", "whoami", "-o",
                "jsonpath={.status.userInfo.username}",
            ])
        XCTAssertEqual(whoami.stdout, "system:serviceaccount:svc:builder", whoami.stderr)
    }

    static let node = #"""
        {"apiVersion":"v1","kind":"Node","metadata":{"name":"e2e-node","labels":{"topology.kubernetes.io/zone":"zone-a"}}}
        """#
    static let pod = #"""
        {"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-0","namespace":"svc","labels":{"app":"web"}},
         "spec":{"nodeName":"e2e-node","containers":[{"name":"web","image":"nginx",
                 "ports":[{"name":"http","containerPort":8080}]}]}}
        """#
    static let service = #"""
        {"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"svc"},
         "spec":{"selector":{"app":"web"},"ports":[{"name":"http","port":80,"targetPort":"http"}]}}
        """#
    static let tokenSecret = #"""
        {"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/service-account-token",
         "metadata":{"name":"builder-token","namespace":"svc",
                     "annotations":{"kubernetes.io/service-account.name":"builder"}}}
        """#

    private func expect(_ cluster: TestCluster, _ arguments: [String], input: String? = nil) throws {
        let output = try cluster.kubectl(arguments, input: input)
        XCTAssertEqual(output.status, 0, "kubectl \(arguments.joined(separator: " ")): \(output.stderr)")
    }

    private func field(_ cluster: TestCluster, _ arguments: [String]) throws -> String {
        let output = try cluster.kubectl(arguments)
        guard output.status == 0 else { throw TestClusterError(output.stderr) }
        return output.stdout
    }

    private func poll<T>(timeout: TimeInterval = 30, _ probe: () throws -> T?) -> T? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let value = try? probe() { return value }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return nil
    }
}

extension String {
    /// Nil when the text is what an unfilled jsonpath template prints.
    fileprivate func nilIfEmpty(or unfilled: String) -> String? {
        isEmpty || self == unfilled ? nil : self
    }
}
