import Foundation
import XCTest

/// `kubeswift pki` and `kubeswift render` as an operator runs them: exit codes and the lines they print.
final class PKIRenderCommandTests: XCTestCase {
    func kubeswift(_ arguments: [String]) throws -> ToolRun {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("kubeswift").path
        return try runTool(binary, arguments)
    }

    func testPKIAndRenderRoundTripAndTheirChecksFailOnTamperedFiles() throws {
        let directory = try makeTemporaryDirectory(self)
        let pki = directory + "/pki"
        let out = directory + "/out"
        let generated = try kubeswift([
            "pki", pki, "--masters", "10.1.0.1,10.1.0.2,10.1.0.3", "--lb", "10.1.0.1", "--etcd", "10.1.0.2,10.1.0.3",
        ])
        XCTAssertEqual(generated.status, 0, generated.stderr)
        XCTAssertEqual(try kubeswift(["pki", pki, "--masters", "10.1.0.1"]).stdout, "\(pki): up to date\n")
        let checked = try kubeswift(["pki", "check", pki, "--addresses", "10.1.0.1,10.1.0.2,10.1.0.3,10.254.0.1"])
        XCTAssertEqual(checked.status, 0, checked.stdout + checked.stderr)
        let uncovered = try kubeswift(["pki", "check", pki, "--addresses", "10.1.0.9"])
        XCTAssertEqual(uncovered.status, 1)
        XCTAssertEqual(
            uncovered.stdout, "error: kubernetes.pem: does not cover 10.1.0.9 (subject alternative names)\n")

        let layout = [
            "--masters", "k8s-1=10.1.0.1,k8s-2=10.1.0.2,k8s-3=10.1.0.3", "--etcd", "k8s-2=10.1.0.2,k8s-3=10.1.0.3",
        ]
        let rendered = try kubeswift(["render"] + layout + ["--lb", "k8s-1", "--pki", pki, "--out", out])
        XCTAssertEqual(rendered.status, 0, rendered.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/k8s-2/etc/kubernetes/ssl/etcd-peer-key.pem"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/k8s-1/etc/kubernetes/kube-scheduler.kubeconfig"))
        let clean = try kubeswift(["render", "--check", out + "/k8s-2"] + layout)
        XCTAssertEqual(clean.status, 0, clean.stdout + clean.stderr)

        let apiServer = out + "/k8s-2/etc/kubernetes/apiserver"
        let text = try String(contentsOfFile: apiServer, encoding: .utf8)
        try text.replacingOccurrences(of: "--profiling=false", with: "--profiling=true")
            .write(toFile: apiServer, atomically: true, encoding: .utf8)
        let tampered = try kubeswift(["render", "--check", out + "/k8s-2"] + layout)
        XCTAssertEqual(tampered.status, 1)
        XCTAssertTrue(
            tampered.stdout.contains("CIS 1.2.15: /etc/kubernetes/apiserver: --profiling is \"true\"; should be false"),
            tampered.stdout)
        XCTAssertTrue(
            tampered.stdout.contains("/etc/kubernetes/apiserver: --profiling is \"true\", expected \"false\""),
            tampered.stdout)
    }
}
