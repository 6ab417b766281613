import APIMachinery

/// Writes the server could not take because it was unreachable, tried again on the recorder's ticks
/// up to upstream's `maxTriesPerEvent`; bounded like the queue, dropping the oldest when full.
struct WriteRetries {
    /// upstream's `maxTriesPerEvent`.
    static let maximumTries = 12

    let limit: Int
    private var pending: [(write: EventAggregator.Write, tries: Int)] = []

    init(limit: Int) { self.limit = limit }

    var count: Int { pending.count }

    /// Every waiting write, for one more try each.
    mutating func takeAll() -> [(write: EventAggregator.Write, tries: Int)] {
        defer { pending = [] }
        return pending
    }

    /// Keeps `write` for another try; false when it has had its tries (or no room is left) and is dropped.
    mutating func add(_ write: EventAggregator.Write, tries: Int) -> Bool {
        guard tries < Self.maximumTries else { return false }
        if pending.count >= limit { pending.removeFirst() }
        pending.append((write, tries))
        return true
    }
}

extension EventRecorder {
    /// How one write went.
    private enum Outcome {
        case done
        /// The server was not reached: worth another try.
        case unreachable(any Error)
    }

    /// Sends `write`, its `tries`-th attempt; keeps it in `retries` if the server could not be reached.
    func perform(_ write: EventAggregator.Write, tries: Int) async {
        let outcome: Outcome
        switch write {
        case .create(let event): outcome = await create(event)
        case .updateSeries(let event): outcome = await updateSeries(event)
        }
        guard case .unreachable(let error) = outcome else { return }
        if !retries.withLockedValue({ $0.add(write, tries: tries + 1) }) {
            logger.error("Unable to write event \(Self.name(write)) (retry limit exceeded!): \(error)")
        }
    }

    private func updateSeries(_ event: JSON) async -> Outcome {
        let path = Self.collection(event) + "/" + Query.escape(Self.name(of: event))
        do {
            let patch: JSON = ["series": event["series"] ?? .null]
            _ = try await client.patch(path: path, body: patch.encoded(), contentType: PatchType.merge.rawValue)
            return .done
        } catch let error as StatusError where error.code == 404 || error.code == 409 {
            // The event expired (event TTL) or was replaced: the series lives on in a new one.
            return await create(event)
        } catch let error as StatusError {
            logger.error("Server rejected event series \(Self.name(of: event)) (will not retry!): \(error)")
            return .done
        } catch {
            return .unreachable(error)
        }
    }

    private func create(_ event: JSON) async -> Outcome {
        var event = event
        event.set(["metadata", "resourceVersion"], to: nil)
        do {
            // The created event is not needed: parsing it back cost the scheduler CPU on every binding.
            _ = try await client.post(path: Self.collection(event), body: event.encoded())
        } catch let error as StatusError where error.code == 409 {
            logger.debug("Server rejected event \(Self.name(of: event)) (will not retry!): \(error)")
        } catch let error as StatusError {
            logger.error("Server rejected event \(Self.name(of: event)) (will not retry!): \(error)")
        } catch {
            return .unreachable(error)
        }
        return .done
    }

    private static func name(of event: JSON) -> String {
        event[path: "metadata", "name"]?.stringValue ?? ""
    }

    private static func name(_ write: EventAggregator.Write) -> String {
        switch write {
        case .create(let event), .updateSeries(let event): return name(of: event)
        }
    }
}
