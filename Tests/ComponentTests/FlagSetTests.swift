import Component
import XCTest

final class FlagSetTests: XCTestCase {
    let definitions = [
        FlagDefinition("secure-port", default: "6443"),
        FlagDefinition("anonymous-auth", bool: true, default: "true"),
        FlagDefinition("kubelet-https", bool: true, support: .noEffect("always HTTPS")),
        FlagDefinition("admission-control", aliases: ["enable-admission-plugins"], support: .notImplementedYet("#3")),
        FlagDefinition("v", default: "0"),
    ]

    func testPflagForms() throws {
        var flags = FlagSet(definitions)
        try flags.parse([
            "--secure-port", "7443", "--anonymous-auth=false", "--kubelet-https", "-v=2",
            "--enable-admission-plugins=NamespaceLifecycle,ServiceAccount", "positional",
        ])
        XCTAssertEqual(try flags.int("secure-port"), 7443)
        XCTAssertFalse(flags.bool("anonymous-auth"))
        XCTAssertTrue(flags.bool("kubelet-https"))
        XCTAssertEqual(flags.string("v"), "2")
        XCTAssertEqual(flags.list("admission-control"), ["NamespaceLifecycle", "ServiceAccount"])
        XCTAssertEqual(flags.positional, ["positional"])
        XCTAssertEqual(flags.accepted.map(\.name), ["kubelet-https", "admission-control"])
    }

    func testDefaultsWhenAbsent() throws {
        let flags = FlagSet(definitions)
        XCTAssertEqual(try flags.int("secure-port"), 6443)
        XCTAssertTrue(flags.bool("anonymous-auth"))
        XCTAssertFalse(flags.isSet("secure-port"))
    }

    func testErrorsNameTheFlagAsUpstream() {
        var flags = FlagSet(definitions)
        XCTAssertThrowsError(try flags.parse(["--no-such-flag=1"])) { error in
            XCTAssertEqual((error as? FlagError)?.message, "unknown flag: --no-such-flag")
        }
        XCTAssertThrowsError(try flags.parse(["--secure-port"])) { error in
            XCTAssertEqual((error as? FlagError)?.message, "flag needs an argument: --secure-port")
        }
        XCTAssertThrowsError(try flags.parse(["--anonymous-auth=maybe"])) { error in
            XCTAssertEqual(
                (error as? FlagError)?.message,
                "invalid argument \"maybe\" for \"--anonymous-auth\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax"
            )
        }
        var numbers = FlagSet(definitions)
        XCTAssertNoThrow(try numbers.parse(["--secure-port=abc"]))
        XCTAssertThrowsError(try numbers.int("secure-port"))
    }

    func testGoDurations() {
        XCTAssertEqual(GoDuration.parse("5m"), .seconds(300))
        XCTAssertEqual(GoDuration.parse("1h30m"), .seconds(5400))
        XCTAssertEqual(GoDuration.parse("300ms"), .milliseconds(300))
        XCTAssertEqual(GoDuration.parse("0"), .zero)
        XCTAssertNil(GoDuration.parse("5 minutes"))
        XCTAssertNil(GoDuration.parse(""))
    }
}
