import Foundation
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// `kubectl proxy` on a loopback port with a given kubeconfig: the guide's way to reach the pages.
final class KubectlProxy {
    let process = Process()
    let port: Int
    let address: String

    init(kubeconfig: String, address: String) throws {
        self.address = address
        process.executableURL = URL(fileURLWithPath: TestCluster.kubectlPath)
        let host = "^" + address.replacingOccurrences(of: ".", with: "\\.") + "$"
        process.arguments = [
            "--kubeconfig=\(kubeconfig)", "proxy", "--address=\(address)", "--port=0", "--accept-hosts=\(host)",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // kubectl prints "Starting to serve on 127.0.0.98:41234" once it listens.
        var text = ""
        let handle = output.fileHandleForReading
        while !text.contains("\n") {
            let data = handle.availableData
            guard !data.isEmpty else { break }
            text += String(decoding: data, as: UTF8.self)
        }
        guard let colon = text.lastIndex(of: ":"),
            let port = Int(text[text.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            process.terminate()
            throw TestClusterError("kubectl proxy did not start: \(text)")
        }
        self.port = port
    }

    func url(_ path: String) -> String { "http://\(address):\(port)\(path)" }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}

/// Debian's headless Chromium, as a person would run it: `--dump-dom` for a page that settles, and a DevTools
/// session over `--remote-debugging-pipe` for pages kept open by watches (a pending fetch stops the virtual
/// clock that `--virtual-time-budget` waits for, so such a page is read while it runs instead).
enum HeadlessChromium {
    static let path = "/usr/bin/chromium"

    static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: path) }

    static func commonArguments(profile: URL) -> [String] {
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
            "--user-data-dir=\(profile.path)", "--window-size=1400,1000",
        ]
    }

    /// The page's DOM once its scripts ran for `budget` milliseconds of virtual time.
    static func dumpDOM(_ url: String, budget: Int = 10_000, profile: URL) throws -> String {
        let output = try TestCluster.run(
            path, commonArguments(profile: profile) + ["--dump-dom", "--virtual-time-budget=\(budget)", url])
        guard output.status == 0 else { throw TestClusterError("chromium failed: \(output.stderr)") }
        return output.stdout
    }
}

/// One page in a headless Chromium driven through the DevTools protocol over a pipe (fd 3 in, fd 4 out, each
/// message JSON ending in a NUL byte).
final class ChromiumPage {
    private let pid: pid_t
    private let commands: Int32
    private let replies: Int32
    private var buffer: [UInt8] = []
    private var nextID = 1
    private var sessionID = ""

    init(url: String, profile: URL) throws {
        var toBrowser: [Int32] = [0, 0]
        var fromBrowser: [Int32] = [0, 0]
        guard pipe(&toBrowser) == 0, pipe(&fromBrowser) == 0 else { throw TestClusterError("pipe failed") }
        // Only the browser gets these pipes (at fds 3 and 4), not other processes the tests start.
        for descriptor in toBrowser + fromBrowser { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        // Move the child's ends clear of 3 and 4 first, so the dup2s below cannot overwrite each other.
        let childIn = fcntl(toBrowser[0], F_DUPFD_CLOEXEC, 10)
        let childOut = fcntl(fromBrowser[1], F_DUPFD_CLOEXEC, 10)
        close(toBrowser[0])
        close(fromBrowser[1])
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, childIn, 3)
        posix_spawn_file_actions_adddup2(&actions, childOut, 4)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let arguments =
            [HeadlessChromium.path] + HeadlessChromium.commonArguments(profile: profile) + [
                "--remote-debugging-pipe", "about:blank",
            ]
        var argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, HeadlessChromium.path, &actions, nil, &argv, environ)
        close(childIn)
        close(childOut)
        guard status == 0 else { throw TestClusterError("posix_spawn chromium failed: \(status)") }
        self.pid = pid
        commands = toBrowser[1]
        replies = fromBrowser[0]
        let target = try call("Target.createTarget", ["url": url], inPage: false)
        guard let targetID = target["targetId"] as? String else { throw TestClusterError("no target: \(target)") }
        let attached = try call("Target.attachToTarget", ["targetId": targetID, "flatten": true], inPage: false)
        guard let session = attached["sessionId"] as? String else { throw TestClusterError("no session: \(attached)") }
        sessionID = session
    }

    /// Sends one command and waits for its answer, skipping the events that arrive meanwhile.
    @discardableResult
    func call(_ method: String, _ parameters: [String: Any] = [:], inPage: Bool = true, timeout: TimeInterval = 30)
        throws -> [String: Any]
    {
        let id = nextID
        nextID += 1
        var message: [String: Any] = ["id": id, "method": method, "params": parameters]
        if inPage { message["sessionId"] = sessionID }
        var bytes = [UInt8](try JSONSerialization.data(withJSONObject: message))
        bytes.append(0)
        let written = bytes.withUnsafeBytes { write(commands, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw TestClusterError("writing to chromium failed") }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let end = buffer.firstIndex(of: 0) {
                let data = Data(buffer[..<end])
                buffer.removeSubrange(...end)
                guard let reply = try JSONSerialization.jsonObject(with: data) as? [String: Any],
                    reply["id"] as? Int == id
                else { continue }
                if let error = reply["error"] { throw TestClusterError("\(method): \(error)") }
                return reply["result"] as? [String: Any] ?? [:]
            }
            let remaining = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
            guard remaining > 0 else { throw TestClusterError("\(method): no answer within \(timeout) s") }
            var poller = pollfd(fd: replies, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, remaining) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { read(replies, $0.baseAddress, $0.count) }
            guard count > 0 else { throw TestClusterError("chromium closed its pipe") }
            buffer += chunk[..<count]
        }
    }

    /// The string a JavaScript expression evaluates to in the page.
    @discardableResult
    func evaluate(_ expression: String) throws -> String {
        let result = try call("Runtime.evaluate", ["expression": "String(\(expression))", "returnByValue": true])
        return (result["result"] as? [String: Any])?["value"] as? String ?? ""
    }

    /// Waits until the page's text for `selector` contains every string, and returns that text.
    @discardableResult
    func waitForText(_ selector: String, containing expected: [String], timeout: TimeInterval = 20) throws -> String {
        let literal = String(decoding: try JSONEncoder().encode(selector), as: UTF8.self)
        let deadline = Date().addingTimeInterval(timeout)
        var text = ""
        while Date() < deadline {
            text = try evaluate("(document.querySelector(\(literal)) || {}).innerText || ''")
            if expected.allSatisfy(text.contains) { return text }
            Thread.sleep(forTimeInterval: 0.2)
        }
        throw TestClusterError("\(selector) never showed \(expected); it shows:\n\(text)")
    }

    /// A PNG of the page as it is now.
    func screenshot(to file: URL) throws {
        let result = try call("Page.captureScreenshot", ["format": "png", "captureBeyondViewport": true])
        guard let encoded = result["data"] as? String, let data = Data(base64Encoded: encoded) else {
            throw TestClusterError("no screenshot data")
        }
        try data.write(to: file)
    }

    deinit {
        _ = try? call("Browser.close", inPage: false, timeout: 5)
        close(commands)
        close(replies)
        // Give the browser a moment to exit on its own (it removes its profile's locks), then make sure.
        var status: Int32 = 0
        for _ in 0..<60 {
            if waitpid(pid, &status, WNOHANG) == pid { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
    }
}
