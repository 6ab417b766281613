import NodeSimulator
import XCTest

final class CommandReaderTests: XCTestCase {
    func testCommandLinesReadAsUsersExpect() {
        let cases: [(command: [String], args: [String], expected: ContainerBehaviour, line: UInt)] = [
            ([], [], .runsUntilStopped, #line),
            (["nginx", "-g", "daemon off;"], [], .runsUntilStopped, #line),
            (["sleep"], ["5"], .exits(after: .seconds(5), code: 0), #line),
            (["/bin/sleep", "1.5"], [], .exits(after: .milliseconds(1_500), code: 0), #line),
            (["sleep", "2m", "30"], [], .exits(after: .seconds(150), code: 0), #line),
            (["sleep", "1h"], [], .exits(after: .seconds(3_600), code: 0), #line),
            (["sleep", "infinity"], [], .runsUntilStopped, #line),
            (["sleep"], [], .exits(after: .zero, code: 1), #line),
            (["true"], [], .exits(after: .zero, code: 0), #line),
            (["/bin/false"], [], .exits(after: .zero, code: 1), #line),
            (["exit", "3"], [], .exits(after: .zero, code: 3), #line),
            (["sh", "-c"], ["exit 0"], .exits(after: .zero, code: 0), #line),
            (["/bin/sh", "-c", "sleep 2; exit 4"], [], .exits(after: .seconds(2), code: 4), #line),
            (["bash", "-ec", "echo hi && sleep 3 && echo done"], [], .exits(after: .seconds(3), code: 0), #line),
            (["sh", "-c", "false && sleep 10"], [], .exits(after: .zero, code: 1), #line),
            (["sh", "-c", "false; sleep 1"], [], .exits(after: .seconds(1), code: 0), #line),
            (["sh", "-c", "sleep 1\nexit 256"], [], .exits(after: .seconds(1), code: 0), #line),
            (["sh", "-c", "exit"], [], .exits(after: .zero, code: 0), #line),
            (["sh", "-c", "false\nexit"], [], .exits(after: .zero, code: 1), #line),
            (["sh", "-c", "while true; do sleep 1; done"], [], .runsUntilStopped, #line),
            (["sh", "-c", "tail -f /dev/null"], [], .runsUntilStopped, #line),
            (["sh", "-c", "test -f /x || exit 1"], [], .runsUntilStopped, #line),
            (["sh", "-c", "exec sleep 7"], [], .exits(after: .seconds(7), code: 0), #line),
            (["sh", "-c", "'sleep' \"4\""], [], .exits(after: .seconds(4), code: 0), #line),
            (["sh"], ["-c", "sleep 1 && false"], .exits(after: .seconds(1), code: 1), #line),
            (["sh", "script.sh"], [], .runsUntilStopped, #line),
            (["sleep", "-1"], [], .exits(after: .zero, code: 1), #line),
        ]
        for test in cases {
            XCTAssertEqual(
                CommandReader.behaviour(command: test.command, args: test.args), test.expected,
                "\(test.command + test.args)", line: test.line)
        }
    }
}
