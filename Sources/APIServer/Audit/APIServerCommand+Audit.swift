import Component
import Logging

extension APIServerCommand {
    /// Applies the audit, event-TTL and request-limit flags, with upstream's validation messages.
    static func applyAuditAndLimits(
        _ flags: FlagSet, to configuration: inout APIServer.Configuration, logger: Logger
    ) throws {
        var limits = RequestLimits.Configuration()
        limits.maxRequestsInFlight = try flags.int("max-requests-inflight")
        limits.maxMutatingRequestsInFlight = try flags.int("max-mutating-requests-inflight")
        limits.requestTimeout = try flags.duration("request-timeout")
        for (name, value) in [
            ("max-requests-inflight", limits.maxRequestsInFlight),
            ("max-mutating-requests-inflight", limits.maxMutatingRequestsInFlight),
        ] where value < 0 {
            throw fail("--\(name) can not be negative value")
        }
        if limits.requestTimeout < .zero { throw fail("--request-timeout can not be negative value") }
        configuration.limits = limits

        let eventTTL = try flags.duration("event-ttl")
        configuration.eventTTL = eventTTL > .zero ? eventTTL : nil

        let path = flags.string("audit-log-path")
        let maxAge = try flags.int("audit-log-maxage")
        let maxBackups = try flags.int("audit-log-maxbackup")
        let maxSize = try flags.int("audit-log-maxsize")
        guard !path.isEmpty else {
            if flags.isSet("audit-policy-file") {
                logger.info("No audit log path given (--audit-log-path): no audit events will be recorded")
            }
            return
        }
        for (name, value) in [("audit-log-maxage", maxAge), ("audit-log-maxbackup", maxBackups)]
        where value < 0 {
            throw fail("--\(name) \(value) can't be a negative number")
        }
        if maxSize < 0 { throw fail("--audit-log-maxsize \(maxSize) can't be a negative number") }
        var policy = AuditPolicy.metadataForEverything
        let policyFile = flags.string("audit-policy-file")
        if !policyFile.isEmpty {
            do {
                policy = try AuditPolicy.load(file: policyFile)
            } catch {
                throw fail(error.message)
            }
        }
        let backend = try AuditLogBackend(
            path: path, maxSizeMegabytes: maxSize, maxBackups: maxBackups, maxAgeDays: maxAge)
        configuration.audit = AuditConfiguration(policy: policy, sink: backend)
        logger.info(
            "Audit log: \(path) (policy: \(policyFile.isEmpty ? "Metadata for every request" : policyFile))")
    }
}
