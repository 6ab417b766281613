import NIOConcurrencyHelpers
import Prometheus

/// Request counts and latencies by verb, resource and code, exposed at /metrics in Prometheus text.
final class RequestMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let buckets: [Duration] = [
        .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250), .milliseconds(1), .seconds(1),
        .seconds(5), .seconds(30),
    ].sorted()
    /// Collectors are looked up once per label set; the registry itself also dedups, but this skips its lock and hashing.
    private let counters = NIOLockedValueBox<[String: Counter]>([:])
    private let histograms = NIOLockedValueBox<[String: DurationHistogram]>([:])

    func record(verb: String, resource: String, code: Int, duration: Duration) {
        let key = "\(verb)|\(resource)|\(code)"
        let counter = counters.withLockedValue { counters in
            if let counter = counters[key] { return counter }
            let counter = registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "apiserver", metricName: "request", unitName: "total",
                    helpText: "Counter of apiserver requests broken out by verb, resource and HTTP response code."),
                labels: [("verb", verb), ("resource", resource), ("code", String(code))])
            counters[key] = counter
            return counter
        }
        counter.increment()
        guard duration > .zero else { return }
        let histogramKey = "\(verb)|\(resource)"
        let histogram = histograms.withLockedValue { histograms in
            if let histogram = histograms[histogramKey] { return histogram }
            let histogram = registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(
                    namespace: "apiserver", subsystem: "request", metricName: "duration", unitName: "seconds",
                    helpText: "Response latency distribution in seconds for each verb and resource."),
                labels: [("verb", verb), ("resource", resource)], buckets: buckets)
            histograms[histogramKey] = histogram
            return histogram
        }
        histogram.record(duration)
    }

    func exposition() -> [UInt8] { registry.emitToBuffer() }
}
