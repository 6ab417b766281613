public import APIMachinery
public import Client
import Component
public import Foundation

/// Where the autoscaler reads pods' resource usage, as upstream's `MetricsClient`: the resource metrics API in
/// production, a fake in tests.
public protocol MetricsSource: Sendable {
    /// The usage of `resource` by each pod `selector` matches in `namespace` (by pod name, in milli-units, summed
    /// over its containers or taken from the one named), and the time of the first sample. Throws with upstream's
    /// wording when the metrics cannot be read.
    func resourceMetrics(resource: String, namespace: String, selector: LabelSelector, container: String?)
        async throws -> (metrics: [String: PodMetric], timestamp: Date)
}

/// A metrics failure with upstream's text, which the autoscaler puts into its events and conditions.
public struct MetricsError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Reads `metrics.k8s.io/v1beta1` PodMetrics through the API server (metrics-server's aggregated API).
public struct ResourceMetricsAPISource: MetricsSource {
    let client: RESTClient

    public init(client: RESTClient) {
        self.client = client
    }

    public func resourceMetrics(resource: String, namespace: String, selector: LabelSelector, container: String?)
        async throws -> (metrics: [String: PodMetric], timestamp: Date)
    {
        var query = Query()
        let selectorText = selector.description
        if !selectorText.isEmpty { query.append("labelSelector", selectorText) }
        let list: JSON
        do {
            list = try await client.getJSON(
                path: "/apis/metrics.k8s.io/v1beta1/namespaces/\(namespace)/pods", query: query)
        } catch let error as StatusError {
            // client-go's wording for a 404 without a Status of the resource's own.
            let reason =
                error.code == 404
                ? "the server could not find the requested resource (get pods.metrics.k8s.io)" : error.message
            throw MetricsError("unable to fetch metrics from resource metrics API: \(reason)")
        } catch {
            throw MetricsError("unable to fetch metrics from resource metrics API: \(error)")
        }
        let items = list["items"]?.arrayValue ?? []
        guard let first = items.first else { throw MetricsError("no metrics returned from resource metrics API") }
        var metrics: [String: PodMetric] = [:]
        for item in items {
            guard let name = item.name, let sample = Self.podMetric(item, resource: resource, container: container)
            else { continue }
            metrics[name] = sample
        }
        if let container, metrics.isEmpty {
            throw MetricsError("failed to get container metrics: container \(container) not present in metrics")
        }
        return (metrics, Self.time(first["timestamp"]))
    }

    /// One PodMetrics item's usage; nil when it has no containers or one of them lacks the resource, as upstream
    /// drops such pods (they then count as missing).
    static func podMetric(_ item: JSON, resource: String, container: String?) -> PodMetric? {
        let containers = (item["containers"]?.arrayValue ?? []).filter {
            container == nil || $0["name"]?.stringValue == container
        }
        guard !containers.isEmpty else { return nil }
        var sum: Int64 = 0
        for entry in containers {
            guard let usage = entry["usage"]?[resource], let quantity = try? Quantity(json: usage) else { return nil }
            sum += quantity.milliValue
        }
        let window = GoDuration.parse(item["window"]?.stringValue ?? "") ?? .seconds(30)
        return PodMetric(value: sum, timestamp: time(item["timestamp"]), window: window)
    }

    private static func time(_ value: JSON?) -> Date {
        Date(timeIntervalSince1970: TimeInterval(value?.stringValue.flatMap(Timestamp.parse) ?? 0))
    }
}
