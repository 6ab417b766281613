import Foundation
import Operations
import TestSupport
import XCTest

/// `kubeswift pki rotate`'s promise on the API server: a serving pair rewritten in place is served to new
/// connections within seconds, without a restart, while connections opened before keep working.
final class HACertificateReloadTests: XCTestCase {
    /// The subject of the certificate a new TLS connection is served, as openssl prints it without spaces.
    func servedSubject(_ server: HAServerProcess) throws -> String {
        let script =
            "openssl s_client -connect \(server.address):\(server.port) </dev/null 2>/dev/null | openssl x509 -noout -subject"
        return try TestCluster.run("/bin/sh", ["-c", script]).stdout.replacingOccurrences(of: " ", with: "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testARotatedServingPairIsServedToNewConnectionsAndOpenOnesKeepWorking() throws {
        let pki = try HAServerProcess.writePKI()
        defer { try? FileManager.default.removeItem(at: pki.directory) }
        let server = try HAServerProcess(address: "127.0.0.103", pki: pki, flags: [])
        let before = try servedSubject(server)
        XCTAssertTrue(before.hasSuffix("CN=kubernetes"), before)

        // A connection opened before the rotation, kept open.
        let open = Process()
        open.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        open.arguments = ["s_client", "-quiet", "-connect", "\(server.address):\(server.port)"]
        let input = Pipe()
        let output = Pipe()
        open.standardInput = input
        open.standardOutput = output
        open.standardError = FileHandle.nullDevice
        try open.run()
        Thread.sleep(forTimeInterval: 0.5)

        let authority = try CertificateAuthority.load(directory: pki.directory.path)
        try authority.issueServing(
            commonName: "kubernetes-rotated", dnsNames: ["kubernetes"],
            ipAddresses: ["127.0.0.103"]
        ).write(
            certificateFile: pki.directory.path + "/kubernetes.pem",
            keyFile: pki.directory.path + "/kubernetes-key.pem")
        XCTAssertTrue(
            try HAServerProcess.eventually(timeout: 10) {
                try servedSubject(server).hasSuffix("CN=kubernetes-rotated")
            },
            server.log)
        XCTAssertTrue(server.log.contains("Loaded a new cert/key pair"), server.log)

        input.fileHandleForWriting.write(Data("GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
        open.waitUntilExit()
        let answer = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 200"), answer)
        XCTAssertTrue(answer.contains("v1.32.0-kubeswift"), answer)

        // A key that does not match the certificate: logged, and the last good pair stays.
        try authority.issueServing(dnsNames: ["kubernetes"], ipAddresses: ["127.0.0.103"]).write(
            certificateFile: pki.directory.path + "/kubernetes.pem", keyFile: pki.directory.path + "/unused-key.pem")
        XCTAssertTrue(
            HAServerProcess.eventually(timeout: 10) {
                server.log.contains("Failed to reload the serving certificate, still serving the previous one")
            }, server.log)
        XCTAssertTrue(try servedSubject(server).hasSuffix("CN=kubernetes-rotated"))
    }
}
