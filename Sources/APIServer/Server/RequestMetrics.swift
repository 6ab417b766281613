import NIOConcurrencyHelpers
import Prometheus

/// Request counts and latencies by verb, resource and code, exposed at /metrics in Prometheus text.
final class RequestMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let buckets: [Duration] = [
        .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250), .milliseconds(1), .seconds(1),
        .seconds(5), .seconds(30),
    ].sorted()

    /// A label set; the histogram's has code 0. A struct key hashes the strings in place, where an
    /// interpolated `verb|resource|code` string was built (and allocated) twice per request.
    private struct Key: Hashable {
        var verb: String
        var resource: String
        var code: Int
    }

    /// Collectors are looked up once per label set; the registry itself also dedups, but this skips its lock and hashing.
    private struct Collectors {
        var counters: [Key: Counter] = [:]
        var histograms: [Key: DurationHistogram] = [:]
    }

    private let collectors = NIOLockedValueBox(Collectors())

    func record(verb: String, resource: String, code: Int, duration: Duration) {
        let key = Key(verb: verb, resource: resource, code: code)
        let histogramKey = Key(verb: verb, resource: resource, code: 0)
        let (counter, histogram) = collectors.withLockedValue { collectors -> (Counter, DurationHistogram?) in
            let counter = collectors.counters[key] ?? makeCounter(key, in: &collectors)
            guard duration > .zero else { return (counter, nil) }
            return (counter, collectors.histograms[histogramKey] ?? makeHistogram(histogramKey, in: &collectors))
        }
        counter.increment()
        histogram?.record(duration)
    }

    private func makeCounter(_ key: Key, in collectors: inout Collectors) -> Counter {
        let counter = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "apiserver", metricName: "request", unitName: "total",
                helpText: "Counter of apiserver requests broken out by verb, resource and HTTP response code."),
            labels: [("verb", key.verb), ("resource", key.resource), ("code", String(key.code))])
        collectors.counters[key] = counter
        return counter
    }

    private func makeHistogram(_ key: Key, in collectors: inout Collectors) -> DurationHistogram {
        let histogram = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "apiserver", subsystem: "request", metricName: "duration", unitName: "seconds",
                helpText: "Response latency distribution in seconds for each verb and resource."),
            labels: [("verb", key.verb), ("resource", key.resource)], buckets: buckets)
        collectors.histograms[key] = histogram
        return histogram
    }

    func exposition() -> [UInt8] { registry.emitToBuffer() }
}
