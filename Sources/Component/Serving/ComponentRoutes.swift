import Foundation
import Logging
import NIOHTTP1

/// What a component serves on its secure port: `/healthz`, `/livez`, `/readyz` (each also as
/// `/<endpoint>/<check>`) and `/metrics`. Kept apart from the sockets so its answers are plain values.
struct ComponentRoutes: Sendable {
    /// One answer; every body is text.
    struct Response: Sendable, Equatable {
        var status: HTTPResponseStatus
        var contentType: String
        var body: String
    }

    /// What Go's net/http sends with text it writes, health answers included.
    static let plainText = "text/plain; charset=utf-8"
    /// Prometheus' text exposition format.
    static let metricsText = "text/plain; version=0.0.4; charset=utf-8"

    let health: HealthChecks
    let readiness: HealthChecks
    let metrics: @Sendable () -> String
    let logger: Logger

    /// Answers a request for `uri` (path and query, as the request line carries them).
    func respond(to uri: String) async -> Response {
        let (path, query) = Self.split(uri)
        if path == "/metrics" {
            return Response(status: .ok, contentType: Self.metricsText, body: metrics())
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        // "/healthz" splits into ["", "healthz"], "/healthz/ping" into ["", "healthz", "ping"].
        guard parts.count == 2 || parts.count == 3, parts[0].isEmpty,
            let checks = checks(for: String(parts[1]))
        else { return Self.notFound }
        let endpoint = String(parts[1])
        if parts.count == 3 {
            guard let report = await HealthReport.runOne(named: String(parts[2]), checks: checks) else {
                return Self.notFound
            }
            return Self.response(report)
        }
        let report = await HealthReport.run(
            endpoint: endpoint, checks: checks, verbose: query.contains { $0.name == "verbose" },
            exclude: query.filter { $0.name == "exclude" }.map(\.value))
        if let failureLog = report.failureLog {
            logger.debug("\(failureLog.dropLast())")
        }
        return Self.response(report)
    }

    /// `/readyz` adds the readiness checks to the health checks, as upstream's components do.
    private func checks(for endpoint: String) -> [HealthChecks.Check]? {
        switch endpoint {
        case "healthz", "livez": return health.all
        case "readyz": return health.all + readiness.all
        default: return nil
        }
    }

    private static func response(_ report: HealthReport) -> Response {
        Response(status: report.healthy ? .ok : .internalServerError, contentType: plainText, body: report.body)
    }

    /// Go's `http.NotFound`.
    static let notFound = Response(status: .notFound, contentType: plainText, body: "404 page not found\n")

    /// The decoded path and query parameters in order; `+` is a space in a query, as Go's url.ParseQuery reads it.
    static func split(_ uri: String) -> (path: String, query: [(name: String, value: String)]) {
        let pieces = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let rawPath = String(pieces[0])
        let path = rawPath.removingPercentEncoding ?? rawPath
        guard pieces.count == 2 else { return (path, []) }
        let query = pieces[1].split(separator: "&").map { pair in
            let nameAndValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (text: Substring) -> String in
                let spaced = text.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            return (name: decode(nameAndValue[0]), value: nameAndValue.count == 2 ? decode(nameAndValue[1]) : "")
        }
        return (path, query)
    }
}
