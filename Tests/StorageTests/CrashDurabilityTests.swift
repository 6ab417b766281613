import Foundation
import Storage
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// kill -9 durability of `SQLiteStore`.
///
/// Needs the `storage-crash-writer` executable, which a test target cannot depend on: build
/// everything first (`swift build --build-tests`, then `swift test --skip-build`; plain `swift test`
/// also builds every product). A missing binary fails the test rather than skipping it.
@Suite("SQLiteStore crash durability") struct CrashDurabilityTests {
    @Test func acknowledgedWritesSurviveKill9() async throws {
        let writer = try #require(
            Self.locateWriter(),
            "storage-crash-writer not found next to the test bundle; run `swift build --build-tests` first")
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("crash.sqlite")

        let process = Process()
        process.executableURL = writer
        process.arguments = [path]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let acked = await Self.readAcks(from: output.fileHandleForReading, killing: process, after: 300)
        process.waitUntilExit()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationReason == .uncaughtSignal, "writer exited on its own: \(stderr)")
        try #require(acked.count >= 300, "writer acknowledged only \(acked.count) keys: \(stderr)")

        let store = try SQLiteStore(path: path)
        defer { try? store.close() }
        var missing: [String] = []
        for key in acked where try await store.get(key: key) == nil { missing.append(key) }
        #expect(missing.isEmpty, "acknowledged but lost: \(missing.prefix(10))")
        let stored = try await store.range(start: "k", end: "l", limit: 0, revision: nil)
        let revision = try await store.currentRevision()
        // One create per revision from an empty store: the counter equals the number of keys.
        #expect(revision == Revision(stored.items.count))
        #expect(stored.items.count >= acked.count)
        #expect(try await store.create(key: "after-crash", value: [], lease: 0).modRevision == revision + 1)
    }

    /// Reads acknowledged keys until `count` arrived, SIGKILLs the writer, then reads what it
    /// flushed before dying. Runs on a dispatch queue because the reads block.
    static func readAcks(from handle: FileHandle, killing process: Process, after count: Int) async -> [String] {
        let pid = process.processIdentifier
        // Kills a writer that hangs, so the blocking reads below always reach end of file.
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 60, execute: watchdog)
        defer { watchdog.cancel() }
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var buffer = Data()
                var lines = 0
                var killed = false
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    buffer.append(chunk)
                    lines += chunk.count { $0 == UInt8(ascii: "\n") }
                    if !killed, lines >= count {
                        kill(pid, SIGKILL)
                        killed = true
                    }
                }
                // Only complete lines were acknowledged; a torn last line was not.
                let text = String(decoding: buffer, as: UTF8.self)
                var complete = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                complete.removeLast()
                continuation.resume(returning: complete)
            }
        }
    }

    /// The writer sits in the build products directory, `.build/<triple>/<config>/`, next to the
    /// test bundle (Linux: the `.xctest` executable; macOS: the `.xctest` bundle).
    static func locateWriter() -> URL? {
        var candidates: [URL] = []
        if let executable = ProcessInfo.processInfo.arguments.first {
            candidates.append(URL(fileURLWithPath: executable).deletingLastPathComponent())
        }
        candidates.append(Bundle.main.bundleURL)
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
        for bundle in Bundle.allBundles where bundle.bundleURL.pathExtension == "xctest" {
            candidates.append(bundle.bundleURL.deletingLastPathComponent())
        }
        for directory in candidates {
            let binary = directory.appendingPathComponent("storage-crash-writer")
            if FileManager.default.isExecutableFile(atPath: binary.path) { return binary }
        }
        return nil
    }
}
