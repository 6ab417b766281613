import TestSupport
import XCTest

/// The HTTP/2 stream limit a real kube-apiserver advertises (`--http2-max-streams-per-connection`), read from
/// nghttp's trace of the server's SETTINGS frame.
extension ResponseCompressionEndToEndTests {
    func testHTTP2StreamLimitIsUpstreamsDefault() throws {
        XCTAssertEqual(try Self.advertisedStreamLimit(try cluster), 1000)
    }

    /// The MAX_CONCURRENT_STREAMS value nghttp reports after the server's SETTINGS frame.
    static func advertisedStreamLimit(_ cluster: TestCluster) throws -> Int? {
        let pki = cluster.directory.appendingPathComponent("pki").path
        let output = try TestCluster.run(
            "/usr/bin/nghttp",
            [
                "--verbose", "--null-out", "--cert", "\(pki)/admin.pem", "--key", "\(pki)/admin-key.pem",
                "https://\(cluster.address):\(cluster.port)/version",
            ])
        guard output.status == 0 else { throw TestClusterError("nghttp /version: \(output.stderr)") }
        // The server's first SETTINGS frame: "recv SETTINGS frame <…>" then "[SETTINGS_MAX_CONCURRENT_STREAMS(0x03):N]".
        let marker = "SETTINGS_MAX_CONCURRENT_STREAMS(0x03):"
        guard let received = output.stdout.range(of: "recv SETTINGS frame"),
            let range = output.stdout[received.upperBound...].range(of: marker)
        else { return nil }
        return Int(output.stdout[range.upperBound...].prefix { $0.isNumber })
    }
}

extension ResponseCompressionDisabledEndToEndTests {
    /// Zero means Go's HTTP/2 default, as upstream's flag does.
    func testZeroStreamLimitMeansGosDefault() throws {
        XCTAssertEqual(try ResponseCompressionEndToEndTests.advertisedStreamLimit(try cluster), 250)
    }
}
