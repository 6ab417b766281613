import APIMachinery
import Client
import Foundation

/// The writes the node controllers share, each retried on conflict with a fresh read as upstream's helpers
/// (`SwapNodeControllerTaint`, `MarkPodsNotReady`) retry them.
struct NodeWrites: Sendable {
    /// Upstream's `UpdateTaintBackoff` steps.
    static let attempts = 5

    let client: RESTClient
    let recorder: EventRecorder
    let time: any TimeSource

    /// Adds `add` (stamped with the time added) and removes `remove` from node `node`'s taints in one
    /// update; a taint already present with the same key, effect and value is left as it is.
    func swapTaints(on node: Node, add: [Taint], remove: [Taint]) async throws {
        let nodes = ResourceClient<Node>(client: client)
        let stamp = Timestamp.format(epochSeconds: Int64(time.wallNow.timeIntervalSince1970))
        var current = node
        for attempt in 0..<Self.attempts {
            if attempt > 0 { current = try await nodes.get(node.key.name) }
            var taints = current.spec.taints.filter { have in !remove.contains { $0.matches(have) } }
            for taint in add {
                var stamped = taint
                stamped.timeAdded = stamp
                if let index = taints.firstIndex(where: { $0.matches(taint) }) {
                    if taints[index].value == taint.value { continue }
                    taints[index] = stamped
                } else {
                    taints.append(stamped)
                }
            }
            guard taints != current.spec.taints else { return }
            current.spec.taints = taints
            do {
                _ = try await nodes.update(current)
                return
            } catch let error as StatusError where error.code == 409 && attempt + 1 < Self.attempts {
                continue
            }
        }
    }

    /// Sets the Ready condition of each of `pods` bound to `nodeName` to False, with a `NodeNotReady` event on
    /// each pod changed (upstream's `MarkPodsNotReady`); throws the first failure after trying every pod.
    func markPodsNotReady(_ pods: [Pod], nodeName: String) async throws {
        var firstError: (any Error)?
        let now = Timestamp.format(epochSeconds: Int64(time.wallNow.timeIntervalSince1970))
        for pod in pods where pod.spec.nodeName == nodeName {
            guard let index = pod.status.conditions.firstIndex(where: { $0.type == "Ready" }),
                pod.status.conditions[index].status != "False"
            else { continue }
            var updated = pod
            updated.status.conditions[index].status = "False"
            updated.status.conditions[index].lastTransitionTime = now
            do {
                _ = try await ResourceClient<Pod>(client: client, namespace: pod.metadata.namespace).updateStatus(
                    updated)
                recorder.eventf(
                    regarding: ObjectReference(to: pod), type: .warning, reason: "NodeNotReady", action: "MarkNotReady",
                    note: "Node is not ready")
            } catch let error as StatusError where error.code == 404 {
                continue
            } catch {
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
    }

    /// Records a Normal event about node `node` (upstream's `RecordNodeEvent`).
    func nodeEvent(_ node: Node, reason: String, action: String, note: String) {
        recorder.eventf(regarding: ObjectReference(to: node), type: .normal, reason: reason, action: action, note: note)
    }
}

extension Pod {
    /// The pods index on the shared informer: pods by `spec.nodeName`, as upstream's `PodNodeNameKeyIndex`.
    static let nodeNameIndex = "spec.nodeName"

    /// Adds the node-name index to the shared pod informer unless another controller already did.
    static func addNodeNameIndex(to informer: SharedIndexInformer<Pod>) {
        do {
            try informer.indexer.addIndexers([
                nodeNameIndex: { pod in
                    guard let node = pod.spec.nodeName, !node.isEmpty else { return [] }
                    return [node]
                }
            ])
        } catch {
            // Another controller registered the same index first; it indexes the same field.
        }
    }
}

extension Timestamp {
    /// Parses an RFC 3339 time with its fraction (`metav1.MicroTime`) to a date; nil when malformed.
    static func date(_ text: String?) -> Date? {
        guard let text, let seconds = parse(text) else { return nil }
        var fraction = 0.0
        if let dot = text.firstIndex(of: ".") {
            let digits = text[text.index(after: dot)...].prefix { $0.isNumber }
            fraction = Double("0." + digits) ?? 0
        }
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }
}
