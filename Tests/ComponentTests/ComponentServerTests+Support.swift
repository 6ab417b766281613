import Foundation
import Logging
import NIOConcurrencyHelpers

@testable import Component

/// What curl fetched.
struct Fetched: Equatable {
    var status: Int
    var contentType: String
    var body: String
}

/// curl's exit code and message when it fetched nothing.
struct CurlError: Error {
    var exitCode: Int32
    var message: String
}

/// Fetches `https://<host>:<port><path>` trusting only `caFile`, so the certificate and its names are checked.
func fetch(
    _ path: String, port: Int, caFile: String, host: String = "127.0.0.1", curlOptions: [String] = []
) async throws -> Fetched {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    process.arguments =
        [
            "--silent", "--show-error", "--max-time", "20", "--cacert", caFile, "--write-out",
            "\n%{http_code}\n%{content_type}", "https://\(host):\(port)\(path)",
        ] + curlOptions
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    // Waiting in the termination handler keeps the cooperative pool free for the server's checks.
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        process.terminationHandler = { _ in continuation.resume() }
        do { try process.run() } catch { continuation.resume(throwing: error) }
    }
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    guard process.terminationStatus == 0 else {
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        throw CurlError(exitCode: process.terminationStatus, message: message)
    }
    let lines = text.components(separatedBy: "\n")
    guard lines.count >= 3, let status = Int(lines[lines.count - 2]) else {
        throw CurlError(exitCode: 0, message: "unexpected output: \(text)")
    }
    return Fetched(
        status: status, contentType: lines[lines.count - 1], body: lines.dropLast(2).joined(separator: "\n"))
}

/// `openssl s_client` holding one TLS connection open (for at most 20 s), fed requests on its standard input.
final class KeepAliveClient: Sendable {
    private let process = Process()
    private let input = Pipe()
    private let received: AsyncStream<String>
    private let exited: AsyncStream<Int32>

    init(port: Int, caFile: String) async throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = [
            "20", "openssl", "s_client", "-quiet", "-verify_return_error", "-CAfile", caFile, "-connect",
            "127.0.0.1:\(port)",
        ]
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        let (received, receivedContinuation) = AsyncStream.makeStream(of: String.self)
        let (exited, exitedContinuation) = AsyncStream.makeStream(of: Int32.self)
        self.received = received
        self.exited = exited
        output.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                receivedContinuation.finish()
            } else {
                receivedContinuation.yield(String(decoding: data, as: UTF8.self))
            }
        }
        process.terminationHandler = { process in
            exitedContinuation.yield(process.terminationStatus)
            exitedContinuation.finish()
        }
        try process.run()
    }

    /// Writes `request` and returns what arrived once it contains `marker`.
    func send(_ request: String, until marker: String) async throws -> String {
        input.fileHandleForWriting.write(Data(request.utf8))
        var text = ""
        for await chunk in received {
            text += chunk
            if text.contains(marker) { return text }
        }
        throw CurlError(exitCode: -1, message: "the connection ended before \(marker.debugDescription): \(text)")
    }

    /// Waits for the client to exit: 0 when the server closed the connection, 124 when `timeout` had to stop it.
    func exitStatus() async -> Int32 {
        for await status in exited { return status }
        return process.terminationStatus
    }
}

/// Keeps every message so tests can read the lines a component logs.
struct CapturingLogHandler: LogHandler {
    let lines: NIOLockedValueBox<[String]>
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        lines.withLockedValue { $0.append("\(event.message)") }
    }
}
