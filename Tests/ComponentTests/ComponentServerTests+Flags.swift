import Foundation
import NIOCore
import NIOEmbedded
import XCTest

@testable import Component

/// The serving flags, request parsing and the idle timeout, without sockets.
extension ComponentServerTests {
    private func parse(_ arguments: [String]) throws(FlagError) -> (ServingConfiguration, FlagSet) {
        var flags = FlagSet(ServingConfiguration.flagDefinitions(securePort: 10259, insecurePort: 10251))
        try flags.parse(arguments)
        return (try ServingConfiguration(flags: flags, pairName: "kube-scheduler"), flags)
    }

    func testFlagDefaultsAreUpstreams() throws {
        let (configuration, flags) = try parse([])
        XCTAssertEqual(configuration.bindAddress, "0.0.0.0")
        XCTAssertEqual(configuration.securePort, 10259)
        XCTAssertNil(configuration.certFile)
        XCTAssertNil(configuration.keyFile)
        XCTAssertNil(configuration.certDirectory)
        XCTAssertTrue(configuration.bindsEveryInterface)
        XCTAssertEqual(flags.string("port"), "10251")
        XCTAssertTrue(flags.accepted.isEmpty)
    }

    func testFlagsAreReadAndTheInsecureOnesHaveNoEffect() throws {
        let (configuration, flags) = try parse([
            "--bind-address=10.0.0.5", "--secure-port", "10257", "--tls-cert-file=/etc/kubernetes/ssl/s.pem",
            "--tls-private-key-file=/etc/kubernetes/ssl/s-key.pem", "--cert-dir=/var/run/kubernetes", "--port=10251",
            "--address=127.0.0.1",
        ])
        XCTAssertEqual(configuration.bindAddress, "10.0.0.5")
        XCTAssertFalse(configuration.bindsEveryInterface)
        XCTAssertEqual(configuration.securePort, 10257)
        XCTAssertEqual(configuration.certFile, "/etc/kubernetes/ssl/s.pem")
        XCTAssertEqual(configuration.keyFile, "/etc/kubernetes/ssl/s-key.pem")
        XCTAssertEqual(configuration.certDirectory, "/var/run/kubernetes")
        XCTAssertEqual(configuration.pairName, "kube-scheduler")
        XCTAssertEqual(flags.accepted.map(\.name), ["port", "address"])
        for (_, support) in flags.accepted {
            guard case .noEffect = support else { return XCTFail("\(support) should have no effect") }
        }
        XCTAssertTrue(try parse(["--bind-address=::"]).0.bindsEveryInterface)
        XCTAssertEqual(try parse(["--secure-port=0"]).0.securePort, 0)
    }

    func testBadFlagsAreRefusedWithUpstreamsMessages() {
        let cases: [([String], String)] = [
            (
                ["--secure-port=70000"],
                "--secure-port 70000 must be between 0 and 65535, inclusive. 0 for turning off secure port"
            ),
            (
                ["--secure-port=-1"],
                "--secure-port -1 must be between 0 and 65535, inclusive. 0 for turning off secure port"
            ),
            (
                ["--secure-port=https"],
                "invalid argument \"https\" for \"--secure-port\" flag: strconv.ParseInt: parsing \"https\": invalid syntax"
            ),
            (
                ["--bind-address=master-1"],
                "invalid argument \"master-1\" for \"--bind-address\" flag: failed to parse IP: \"master-1\""
            ),
            (
                ["--bind-address=010.0.0.1"],
                "invalid argument \"010.0.0.1\" for \"--bind-address\" flag: failed to parse IP: \"010.0.0.1\""
            ),
        ]
        for (arguments, message) in cases {
            XCTAssertThrowsError(try parse(arguments), "\(arguments)") { error in
                XCTAssertEqual((error as? FlagError)?.message, message)
            }
        }
    }

    func testQueriesAreDecodedAsGoDecodesThem() {
        let (path, query) = ComponentRoutes.split("/healthz/a%2Db?verbose&exclude=a+b&exclude=c%3Dd")
        XCTAssertEqual(path, "/healthz/a-b")
        XCTAssertEqual(query.map(\.name), ["verbose", "exclude", "exclude"])
        XCTAssertEqual(query.map(\.value), ["", "a b", "c=d"])
    }

    func testTLSMinimumVersionIsReadAndUnknownNamesRefused() throws {
        XCTAssertEqual(try parse([]).0.minimumTLSVersion, .tls12)
        XCTAssertEqual(try parse(["--tls-min-version=VersionTLS13"]).0.minimumTLSVersion, .tls13)
        XCTAssertThrowsError(try parse(["--tls-min-version=TLS1.3"])) { error in
            XCTAssertEqual((error as? FlagError)?.message, "unknown tls version \"TLS1.3\"")
        }
    }

    func testAConnectionThatReadsNothingFor90SecondsIsClosed() throws {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandler(IdleConnectionCloser())
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 10259)).wait()
        loop.advanceTime(by: .seconds(89))
        try channel.writeInbound(ByteBuffer(string: "\u{16}\u{03}\u{01}"))
        loop.advanceTime(by: .seconds(89))
        XCTAssertTrue(channel.isActive, "a read restarts the idle timer")
        loop.advanceTime(by: .seconds(1))
        XCTAssertFalse(channel.isActive)
    }
}
