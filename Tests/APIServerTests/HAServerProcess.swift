import Foundation
import Operations
import TestSupport
import XCTest

/// A `kube-apiserver` process for the HA tests: the guide's certificates (shared between servers, so one CA
/// and admin work against all of them), chosen flags and environment, and its exit status.
final class HAServerProcess: @unchecked Sendable {
    let address: String
    let port: Int
    let directory: URL
    let kubeconfig: String
    let logFile: URL
    private let process: Process

    /// The guide's certificate set in a new directory, its serving certificate valid for 127.0.0.101–104.
    static func writePKI() throws -> (directory: URL, certificates: GuideCertificates) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kubeswift-ha-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var options = GuideCertificates.Options()
        options.apiServerIPAddresses = ["127.0.0.1", "127.0.0.101", "127.0.0.102", "127.0.0.103", "127.0.0.104"]
        return (directory, try GuideCertificates.write(directory: directory.path, options: options))
    }

    /// Starts the server with its data in `<pki>/<address>/` and waits until it serves.
    init(
        address: String, pki: (directory: URL, certificates: GuideCertificates), flags: [String],
        environment: [String: String] = [:]
    ) throws {
        self.address = address
        directory = pki.directory.appendingPathComponent(address)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificates = pki.directory.path
        logFile = directory.appendingPathComponent("apiserver.log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let log = try FileHandle(forWritingTo: logFile)
        process = Process()
        process.executableURL = TestCluster.productsDirectory.appendingPathComponent("kube-apiserver")
        process.arguments =
            [
                "--bind-address=\(address)", "--advertise-address=\(address)", "--secure-port=0",
                "--tls-cert-file=\(certificates)/kubernetes.pem",
                "--tls-private-key-file=\(certificates)/kubernetes-key.pem", "--client-ca-file=\(certificates)/ca.pem",
                "--data-dir=\(directory.path)/data", "--service-cluster-ip-range=10.254.0.0/16",
            ] + flags
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardError = log
        process.standardOutput = log
        try process.run()
        do {
            port = try TestCluster.waitForPort(logFile: logFile, process: process)
        } catch {
            process.terminate()
            process.waitUntilExit()
            throw error
        }
        kubeconfig = directory.appendingPathComponent("admin.kubeconfig").path
        try Kubeconfig.admin(
            server: "https://\(address):\(port)", certificateAuthority: pki.certificates.certificateAuthority,
            admin: pki.certificates.admin
        ).write(toFile: kubeconfig)
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }
    var isRunning: Bool { process.isRunning }

    /// Runs kubectl as the admin against this server.
    @discardableResult
    func kubectl(_ arguments: [String]) throws -> TestCluster.Output {
        try TestCluster.run(TestCluster.kubectlPath, ["--kubeconfig=\(kubeconfig)"] + arguments)
    }

    /// Sends `signal` without waiting.
    func send(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Waits for the process to exit; its exit status (128 + signal when a signal ended it), or nil on timeout.
    func waitForExit(timeout: TimeInterval = 90) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        guard !process.isRunning else { return nil }
        return process.terminationReason == .uncaughtSignal
            ? 128 + process.terminationStatus : process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Starts a built executable with `arguments` and extra `environment`, its output going to `log`.
    static func launch(_ executable: String, _ arguments: [String], environment: [String: String], log: URL) throws
        -> Process
    {
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = TestCluster.productsDirectory.appendingPathComponent(executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardError = handle
        process.standardOutput = handle
        try process.run()
        return process
    }

    /// A TCP port free on every one of `addresses` right now.
    static func freePort(on addresses: [String]) throws -> Int {
        for _ in 0..<20 {
            let candidate = try bindAndRelease(addresses[0], port: 0)
            if (try? addresses.dropFirst().map { try bindAndRelease($0, port: candidate) }) != nil { return candidate }
        }
        throw TestClusterError("no port is free on \(addresses)")
    }

    private static func bindAndRelease(_ address: String, port: Int) throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestClusterError("socket: \(errno)") }
        defer { close(descriptor) }
        var socketAddress = sockaddr_in()
        socketAddress.sin_family = sa_family_t(AF_INET)
        socketAddress.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, address, &socketAddress.sin_addr)
        let bound = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw TestClusterError("bind \(address):\(port): \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return Int(UInt16(bigEndian: socketAddress.sin_port))
    }

    /// Polls `condition` every 100 ms until it holds or `timeout` passes; true when it held.
    static func eventually(timeout: TimeInterval, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.1)
        } while Date() < deadline
        return try condition()
    }
}

/// A datagram socket standing in for systemd's notify socket: the test owns it and reads what a unit sends.
final class NotifySocket {
    let path: String
    private let descriptor: Int32

    init(directory: URL) throws {
        path = directory.appendingPathComponent("notify-\(UUID().uuidString.prefix(8)).sock").path
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestClusterError("socket: \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw TestClusterError("socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else { throw TestClusterError("bind \(path): \(errno)") }
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// The next message, or nil after a minute without one.
    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }

    deinit {
        close(descriptor)
        unlink(path)
    }
}
