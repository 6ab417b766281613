import Foundation
import TestSupport
import XCTest

/// `--admission-control-config-file` through the real binary over TLS: PodSecurity's defaults and
/// exemptions from the file (read by a relative `path`), beside the guide's `--admission-control` list; a bad
/// file stops start-up with a message naming it.
final class AdmissionConfigurationFileEndToEndTests: SharedClusterTestCase {
    override class var clusterAddress: String { "127.0.0.147" }
    override class var controllers: [String]? { nil }
    override class var extraFlags: [String] {
        [
            "--admission-control=NamespaceLifecycle,LimitRanger,ServiceAccount,PodSecurity,ResourceQuota",
            "--admission-control-config-file=@admission/admission.yaml",
        ]
    }

    override class func prepare(directory: URL) throws {
        let folder = directory.appendingPathComponent("admission")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try """
        apiVersion: apiserver.config.k8s.io/v1
        kind: AdmissionConfiguration
        plugins:
        - name: PodSecurity
          path: pod-security.yaml
        - name: NotAPlugin
          configuration: {anything: goes}
        """.write(to: folder.appendingPathComponent("admission.yaml"), atomically: true, encoding: .utf8)
        try """
        apiVersion: pod-security.admission.config.k8s.io/v1
        kind: PodSecurityConfiguration
        defaults:
          enforce: baseline
        exemptions:
          namespaces: [cfg-exempt]
        """.write(to: folder.appendingPathComponent("pod-security.yaml"), atomically: true, encoding: .utf8)
    }

    private static let privilegedPod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: root}
        spec:
          containers: [{name: web, image: nginx, securityContext: {privileged: true}}]
        """

    /// An unlabelled namespace with its `default` service account.
    private func namespace(_ name: String) throws {
        let cluster = try cluster
        expectSuccess(try cluster.kubectl("create namespace \(name)"))
        expectSuccess(try cluster.kubectl("create serviceaccount default -n \(name)"))
    }

    func testTheFilesDefaultRefusesAPrivilegedPodInAnUnlabelledNamespace() throws {
        let cluster = try cluster
        try namespace("cfg-plain")
        expectFailure(
            try cluster.kubectl(["apply", "-n", "cfg-plain", "-f", "-"], input: Self.privilegedPod),
            #"Error from server (Forbidden): error when creating "STDIN": pods "root" is forbidden: violates PodSecurity "baseline:latest": privileged (container "web" must not set securityContext.privileged=true)"#
        )
        // A pod that meets baseline is admitted.
        expectSuccess(try cluster.kubectl("run plain --image=nginx -n cfg-plain"))
    }

    func testAnExemptNamespaceAdmitsIt() throws {
        let cluster = try cluster
        try namespace("cfg-exempt")
        let output = try cluster.kubectl(["apply", "-n", "cfg-exempt", "-f", "-"], input: Self.privilegedPod)
        XCTAssertEqual(output.status, 0, output.stderr)
        XCTAssertEqual(output.stdout, "pod/root created\n")
    }

    func testABadFileStopsStartUpNamingIt() throws {
        let cluster = try cluster
        let folder = cluster.directory.appendingPathComponent("bad-start")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("admission.yaml").path
        try "apiVersion: apiserver.config.k8s.io/v1\nkind: Admission\n".write(
            toFile: file, atomically: true, encoding: .utf8)
        let binary = TestCluster.productsDirectory.appendingPathComponent("kube-apiserver")
        let process = Process()
        process.executableURL = binary
        process.arguments = [
            "--bind-address=127.0.0.147", "--secure-port=0", "--data-dir=\(folder.path)/data",
            "--admission-control-config-file=\(file)",
        ]
        let output = Pipe()
        process.standardError = output
        process.standardOutput = output
        try process.run()
        // It must exit by itself; a server still running after this long did not fail.
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            XCTFail("kube-apiserver started with a bad admission configuration file")
            return
        }
        let log = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertNotEqual(process.terminationStatus, 0)
        XCTAssertTrue(
            log.contains(
                #"unable to read admission control configuration from "\#(file)" [no kind "Admission" is registered for version "apiserver.config.k8s.io/v1"]"#
            ), log)
    }
}
