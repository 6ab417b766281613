import NIOConcurrencyHelpers

/// The named checks behind `/healthz`, `/livez` and `/readyz`, registered by the component.
///
/// A check returns nil when healthy, else the reason it is not. Checks run in the order they were added, one
/// after another, each time a probe asks, as upstream's healthz package runs them.
public final class HealthChecks: Sendable {
    /// One registered check.
    struct Check: Sendable {
        var name: String
        var run: @Sendable () async -> String?
    }

    private let checks = NIOLockedValueBox<[Check]>([])

    public init() {}

    /// Adds a check; a second check with the same name replaces the first in its place, since two checks
    /// cannot share the `/healthz/<name>` path.
    public func add(_ name: String, _ check: @escaping @Sendable () async -> String?) {
        checks.withLockedValue { checks in
            let added = Check(name: name, run: check)
            if let index = checks.firstIndex(where: { $0.name == name }) {
                checks[index] = added
            } else {
                checks.append(added)
            }
        }
    }

    var all: [Check] { checks.withLockedValue { $0 } }
}

/// One health endpoint's answer, written as upstream's `k8s.io/apiserver/pkg/server/healthz` writes it.
struct HealthReport: Sendable, Equatable {
    /// False when a check that was not excluded failed: HTTP 500.
    var healthy: Bool
    var body: String
    /// `[-]name failed: reason` lines for the component's log; the response withholds the reasons.
    var failureLog: String?

    /// Upstream answers with no checks registered through its `ping` check, which always passes.
    static let ping = HealthChecks.Check(name: "ping", run: { nil })

    /// Runs `checks` for `endpoint` (`healthz`, `livez`, `readyz`), skipping the ones named in `exclude`.
    static func run(
        endpoint: String, checks registered: [HealthChecks.Check], verbose: Bool, exclude: [String]
    ) async -> HealthReport {
        let checks = registered.isEmpty ? [ping] : registered
        var excluded = Set(exclude.filter { !$0.isEmpty })
        var lines = ""
        var failureLog = ""
        var failed: [String] = []
        for check in checks {
            if excluded.remove(check.name) != nil {
                lines += "[+]\(check.name) excluded: ok\n"
                continue
            }
            if let reason = await check.run() {
                // The endpoint is public: the reason goes to the log and to /healthz/<name> only.
                lines += "[-]\(check.name) failed: reason withheld\n"
                failureLog += "[-]\(check.name) failed: \(reason)\n"
                failed.append(check.name)
            } else {
                lines += "[+]\(check.name) ok\n"
            }
        }
        if !excluded.isEmpty {
            let names = excluded.sorted().map { "\"\($0)\"" }.joined(separator: ",")
            lines += "warn: some health checks cannot be excluded: no matches for \(names)\n"
        }
        if !failed.isEmpty {
            // Failures are always verbose, and end with the newline Go's http.Error adds.
            return HealthReport(
                healthy: false, body: lines + "\(endpoint) check failed\n",
                failureLog: "\(failed.joined(separator: ",")) check failed: \(endpoint)\n" + failureLog)
        }
        return HealthReport(healthy: true, body: verbose ? lines + "\(endpoint) check passed\n" : "ok", failureLog: nil)
    }

    /// `/<endpoint>/<name>`: one check, its reason shown, or nil when no check has that name.
    static func runOne(named name: String, checks registered: [HealthChecks.Check]) async -> HealthReport? {
        let checks = registered.isEmpty ? [ping] : registered
        guard let check = checks.first(where: { $0.name == name }) else { return nil }
        if let reason = await check.run() {
            return HealthReport(healthy: false, body: "internal server error: \(reason)\n", failureLog: nil)
        }
        return HealthReport(healthy: true, body: "ok", failureLog: nil)
    }
}
