public import Foundation
import Operations
public import XCTest

/// A real `kube-apiserver` process over TLS on loopback, with the guide's certificate set and an admin
/// kubeconfig, plus a way to run `/usr/bin/kubectl` against it. Each instance has its own directory and port.
/// Beside the server runs a real `kube-controller-manager` with the controllers a bare API server leaves
/// undone (default service accounts, namespace deletion, quota status, aggregated roles), as upstream's
/// integration tests run them; `controllers: nil` gives a bare API server.
public final class TestCluster: @unchecked Sendable {
    public let directory: URL
    public let kubeconfig: String
    public let port: Int
    public let address: String
    /// The controller-manager started beside the server, unless the cluster is bare.
    public let controllerManager: ComponentProcess?
    private let process: Process
    private let logFile: URL

    /// What a test cluster's controller-manager runs: the work upstream's API server leaves to it and
    /// that tests of the API server rely on.
    public static let defaultControllers = [
        "serviceaccount", "serviceaccount-token", "namespace", "root-ca-cert-publisher", "resourcequota",
        "clusterrole-aggregation", "pvc-protection", "pv-protection",
    ]

    /// A kubeconfig for `user` with a client certificate from this cluster's CA (written once, then reused).
    public func kubeconfig(forUser user: String, groups: [String] = []) throws -> String {
        let path = directory.appendingPathComponent("\(user.replacingOccurrences(of: ":", with: "-")).kubeconfig").path
        guard !FileManager.default.fileExists(atPath: path) else { return path }
        try Kubeconfig.issued(
            forUser: user, groups: groups, server: "https://\(address):\(port)",
            authority: try CertificateAuthority.load(directory: directory.appendingPathComponent("pki").path)
        ).write(toFile: path)
        return path
    }

    /// The build products folder that holds the test bundle and the executables.
    public static var productsDirectory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    public static let kubectlPath = "/usr/bin/kubectl"

    /// Starts the server with `extraFlags`, then a controller-manager running `controllers` (none when nil),
    /// and returns once both serve.
    public init(
        address: String = "127.0.0.1", extraFlags: [String] = [], directory existing: URL? = nil,
        controllers: [String]? = TestCluster.defaultControllers
    ) throws {
        let binary = Self.productsDirectory.appendingPathComponent("kube-apiserver")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw TestClusterError("kube-apiserver is not built at \(binary.path); run `swift build` first")
        }
        let directory =
            existing
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("kubeswift-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.directory = directory
        self.address = address
        let pki = directory.appendingPathComponent("pki").path
        try FileManager.default.createDirectory(atPath: pki, withIntermediateDirectories: true)
        var options = GuideCertificates.Options()
        options.apiServerIPAddresses = ["127.0.0.1", address, "10.254.0.1"]
        let certificates = try GuideCertificates.write(directory: pki, options: options)

        logFile = directory.appendingPathComponent("apiserver.log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let log = try FileHandle(forWritingTo: logFile)
        process = Process()
        process.executableURL = binary
        process.arguments =
            [
                "--bind-address=\(address)", "--advertise-address=\(address)", "--secure-port=0",
                "--tls-cert-file=\(pki)/kubernetes.pem", "--tls-private-key-file=\(pki)/kubernetes-key.pem",
                "--client-ca-file=\(pki)/ca.pem", "--data-dir=\(directory.path)/data",
                "--service-cluster-ip-range=10.254.0.0/16", "--logtostderr=true", "--v=0",
            ] + Self.admissionDefaults(extraFlags: extraFlags, controllers: controllers) + extraFlags
        process.standardError = log
        process.standardOutput = log
        try process.run()
        port = try Self.waitForPort(logFile: logFile, process: process)
        kubeconfig = directory.appendingPathComponent("admin.kubeconfig").path
        try Kubeconfig.admin(
            server: "https://\(address):\(port)", certificateAuthority: certificates.certificateAuthority,
            admin: certificates.admin
        ).write(toFile: kubeconfig)
        let adminKubeconfig = kubeconfig
        // Legacy token Secrets are signed with the key the server verifies them with: the serving key unless
        // the flags name another.
        let verificationKey = extraFlags.last { $0.hasPrefix("--service-account-key-file=") }?
            .split(separator: "=", maxSplits: 1).last.map(String.init)
        var manager: ComponentProcess?
        do {
            if let controllers {
                manager = try Self.startControllerManager(
                    controllers, address: address, kubeconfig: adminKubeconfig, directory: directory,
                    signingKey: verificationKey ?? "\(pki)/kubernetes-key.pem")
                try Self.waitForDefaultNamespace(controllers, kubeconfig: adminKubeconfig)
            }
        } catch {
            manager?.stop(kill: true)
            process.terminate()
            process.waitUntilExit()
            throw error
        }
        controllerManager = manager
    }

    /// Waits until the `default` namespace has what the controllers give every namespace, so a test starts
    /// from a settled cluster (a watch it opens sees its own objects, not the controllers' first writes).
    static func waitForDefaultNamespace(_ controllers: [String], kubeconfig: String) throws {
        var expected: [String] = []
        if controllers.contains("serviceaccount") { expected.append("serviceaccount/default") }
        if controllers.contains("root-ca-cert-publisher") { expected.append("configmap/kube-root-ca.crt") }
        guard !expected.isEmpty else { return }
        let deadline = Date().addingTimeInterval(30)
        while true {
            let output = try run(kubectlPath, ["--kubeconfig=\(kubeconfig)", "get", "-n", "default"] + expected)
            if output.status == 0 { return }
            guard Date() < deadline else {
                throw TestClusterError("the default namespace did not get \(expected): \(output.stderr)")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// Upstream's default chain taints every new Node not-ready until the node lifecycle controller sees it
    /// Ready; a cluster without that controller opts out, as upstream's integration servers do, unless the
    /// test chooses its plugins itself.
    static func admissionDefaults(extraFlags: [String], controllers: [String]?) -> [String] {
        let choosesPlugins = extraFlags.contains {
            $0.hasPrefix("--admission-control=") || $0.hasPrefix("--disable-admission-plugins=")
        }
        let liftsTaint = controllers?.contains { ["node-lifecycle-controller", "nodelifecycle", "*"].contains($0) }
        return choosesPlugins || liftsTaint == true ? [] : ["--disable-admission-plugins=TaintNodesByCondition"]
    }

    /// A `kube-controller-manager` as the admin, signing tokens with `signingKey` and publishing the CA, once
    /// its caches have synced (so a namespace created next gets its service account at once).
    static func startControllerManager(
        _ controllers: [String], address: String, kubeconfig: String, directory: URL, signingKey: String
    ) throws -> ComponentProcess {
        let pki = directory.appendingPathComponent("pki").path
        let manager = try ComponentProcess(
            executable: "kube-controller-manager",
            arguments: [
                "--kubeconfig=\(kubeconfig)", "--bind-address=\(address)", "--secure-port=0", "--leader-elect=false",
                "--controllers=\(controllers.joined(separator: ","))",
                "--service-account-private-key-file=\(signingKey)", "--root-ca-file=\(pki)/ca.pem",
            ], directory: directory, logName: "controller-manager")
        guard manager.waitForLog("Caches are synced") else {
            manager.stop(kill: true)
            throw TestClusterError("kube-controller-manager did not start:\n\(manager.log.suffix(3000))")
        }
        return manager
    }

    /// Reads the log until the server says where it listens (it binds port 0, so tests never collide).
    public static func waitForPort(logFile: URL, process: Process) throws -> Int {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
            if let range = text.range(of: "Serving securely on ") {
                let rest = text[range.upperBound...].prefix { $0 != "\n" }
                if let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]) {
                    return port
                }
            }
            if !process.isRunning { throw TestClusterError("kube-apiserver exited early:\n\(text)") }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw TestClusterError("kube-apiserver did not start within 30 s")
    }

    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Stops the server and its controller-manager (SIGTERM, or SIGKILL when `kill` is set) and waits for them.
    public func stop(kill: Bool = false) {
        controllerManager?.stop(kill: kill)
        guard process.isRunning else { return }
        if kill { Foundation.kill(process.processIdentifier, SIGKILL) } else { process.terminate() }
        process.waitUntilExit()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// The result of one kubectl run.
    public struct Output {
        public var status: Int32
        public var stdout: String
        public var stderr: String

        public init(status: Int32, stdout: String, stderr: String) {
            self.status = status
            self.stdout = stdout
            self.stderr = stderr
        }
    }

    /// Runs kubectl with this cluster's kubeconfig; `input` goes to its standard input.
    @discardableResult
    public func kubectl(_ arguments: [String], input: String? = nil, environment: [String: String] = [:]) throws
        -> Output
    {
        try Self.run(
            Self.kubectlPath, ["--kubeconfig=\(kubeconfig)"] + arguments, input: input, environment: environment)
    }

    public func kubectl(_ line: String, input: String? = nil) throws -> Output {
        try kubectl(line.split(separator: " ").map(String.init), input: input)
    }

    public static func run(
        _ path: String, _ arguments: [String], input: String? = nil, environment: [String: String] = [:]
    )
        throws -> Output
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "KUBECONFIG")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let stdout = Pipe()
        let stderr = Pipe()
        let stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        // Read both pipes concurrently so a chatty process cannot fill one and block.
        let errorData = LockedData()
        let reader = Thread { errorData.set(stderr.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let outData = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errorData.isSet { Thread.sleep(forTimeInterval: 0.001) }
        return Output(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errorData.value, as: UTF8.self))
    }
}

/// A failure to set up the test cluster.
public struct TestClusterError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Data written by one thread and read by another.
public final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private var done = false
    public func set(_ value: Data) {
        lock.lock()
        data = value
        done = true
        lock.unlock()
    }
    public var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return done
    }
    public var value: Data {
        lock.lock()
        defer { lock.unlock() }
        return data
    }
}

extension XCTestCase {
    /// Asserts kubectl succeeded and returns its standard output.
    @discardableResult
    public func expectSuccess(_ output: TestCluster.Output, file: StaticString = #filePath, line: UInt = #line)
        -> String
    {
        XCTAssertEqual(output.status, 0, "kubectl failed: \(output.stderr)", file: file, line: line)
        return output.stdout
    }

    /// Asserts kubectl failed with exactly this error text on standard error.
    public func expectFailure(
        _ output: TestCluster.Output, _ message: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertNotEqual(output.status, 0, "kubectl unexpectedly succeeded: \(output.stdout)", file: file, line: line)
        XCTAssertEqual(output.stderr.trimmingCharacters(in: .whitespacesAndNewlines), message, file: file, line: line)
    }
}
