import NIOConcurrencyHelpers
import Prometheus

/// Upstream's webhook admission metrics: `apiserver_admission_webhook_admission_duration_seconds`,
/// `apiserver_admission_webhook_rejection_count`, `apiserver_admission_webhook_request_total` and
/// `apiserver_admission_webhook_fail_open_count`, with upstream's labels and buckets.
final class WebhookMetrics: Sendable {
    /// Which plugin observed: upstream's `type` label.
    enum Phase: String, Sendable {
        case admit
        case validating
    }

    /// Why a webhook refused a request: upstream's `error_type` label.
    enum RejectionKind: String, Sendable {
        case callingWebhook = "calling_webhook_error"
        case apiserverInternal = "apiserver_internal_error"
        case none = "no_error"
    }

    let registry: PrometheusCollectorRegistry
    private let buckets: [Duration] = [
        .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(1), .milliseconds(2500),
        .seconds(10), .seconds(25),
    ]
    /// Collectors by label set, so a call hashes one string instead of asking the registry each time.
    private let counters = NIOLockedValueBox<[String: Counter]>([:])
    private let histograms = NIOLockedValueBox<[String: DurationHistogram]>([:])

    init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    /// One finished call: its latency and outcome, and its HTTP-like code (0 when none was reached).
    func observe(webhook: String, phase: Phase, operation: String, rejected: Bool, code: Int, duration: Duration) {
        let labels = [
            ("name", webhook), ("type", phase.rawValue), ("operation", operation), ("rejected", String(rejected)),
        ]
        histogram(
            labels: labels,
            help:
                "Admission webhook latency histogram in seconds, identified by name and broken out for each operation and API resource and type (validate or admit)."
        ).record(duration)
        counter(
            "webhook_request", unit: "total",
            labels: [
                ("name", webhook), ("type", phase.rawValue), ("operation", operation), ("code", String(code)),
                ("rejected", String(rejected)),
            ],
            help:
                "Admission webhook request total, identified by name and broken out for each admission type (validating or mutating) and operation. Additional labels specify whether the request was rejected or not and an HTTP status code. Codes greater than 600 are truncated to 600, to keep the metrics cardinality bounded."
        ).increment()
    }

    /// A refusal, by cause and the code the client got.
    func observeRejection(webhook: String, phase: Phase, operation: String, kind: RejectionKind, code: Int) {
        counter(
            "webhook_rejection", unit: "count",
            labels: [
                ("name", webhook), ("type", phase.rawValue), ("operation", operation), ("error_type", kind.rawValue),
                ("rejection_code", String(code)),
            ],
            help:
                "Admission webhook rejection count, identified by name and broken out for each admission type (validating or admit) and operation. Additional labels specify an error type (calling_webhook_error or apiserver_internal_error if an error occurred; no_error otherwise) and optionally a non-zero rejection code if the webhook rejects the request with an HTTP status code (honored by the apiserver when the code is greater or equal to 400). Codes greater than 600 are truncated to 600, to keep the metrics cardinality bounded."
        ).increment()
    }

    /// A call that failed and was ignored under `failurePolicy: Ignore`.
    func observeFailOpen(webhook: String, phase: Phase) {
        counter(
            "webhook_fail_open", unit: "count", labels: [("name", webhook), ("type", phase.rawValue)],
            help:
                "Admission webhook fail open count, identified by name and broken out for each admission type (validating or admit)."
        ).increment()
    }

    private func counter(_ name: String, unit: String, labels: [(String, String)], help: String) -> Counter {
        let key = name + labels.map { "|" + $0.1 }.joined()
        return counters.withLockedValue { counters in
            if let counter = counters[key] { return counter }
            let counter = registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "apiserver", subsystem: "admission", metricName: name, unitName: unit, helpText: help),
                labels: labels)
            counters[key] = counter
            return counter
        }
    }

    private func histogram(labels: [(String, String)], help: String) -> DurationHistogram {
        let key = labels.map { "|" + $0.1 }.joined()
        return histograms.withLockedValue { histograms in
            if let histogram = histograms[key] { return histogram }
            let histogram = registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(
                    namespace: "apiserver", subsystem: "admission", metricName: "webhook_admission_duration",
                    unitName: "seconds", helpText: help),
                labels: labels, buckets: buckets)
            histograms[key] = histogram
            return histogram
        }
    }
}
