import Storage
import Testing

@testable import EtcdStore

@Suite struct WatchStreamStateMachineTests {
    static func put(_ revision: Revision) -> WatchEvent {
        WatchEvent(
            kind: .put, current: KeyValue(key: "k", value: [], createRevision: revision, modRevision: revision),
            previous: nil)
    }

    @Test func aWatchIsCreatedAgainFromTheRevisionAfterTheLastDeliveredOne() {
        var machine = WatchStreamStateMachine()
        guard
            case .openStream(let first) = machine.register(
                id: 1, start: "a", end: "b", afterRevision: 10, progressNotify: false
            ).first
        else {
            Issue.record("expected the stream to open")
            return
        }
        guard case .create(1, let registration) = machine.streamOpened(generation: first).first else {
            Issue.record("expected a create")
            return
        }
        #expect(registration.nextRevision == 11)
        _ = machine.received(WatchResponseSummary(watchID: 1, headerRevision: 12, created: true), generation: first)
        let delivered = machine.received(
            WatchResponseSummary(watchID: 1, headerRevision: 13, events: [Self.put(11), Self.put(12)]),
            generation: first)
        guard case .deliver(1, let events) = delivered.first else {
            Issue.record("expected events")
            return
        }
        #expect(events.map(\.revision) == [11, 12])

        guard case .reopenAfterBackoff = machine.streamFailed(generation: first).first else {
            Issue.record("expected a reopen")
            return
        }
        guard case .openStream(let second) = machine.backoffElapsed().first else {
            Issue.record("expected the stream to open again")
            return
        }
        guard case .create(1, let again) = machine.streamOpened(generation: second).first else {
            Issue.record("expected the watch to be created again")
            return
        }
        #expect(again.nextRevision == 13)
        // A late response from the old stream is ignored; an event seen before is not repeated.
        #expect(machine.received(WatchResponseSummary(watchID: 1, headerRevision: 20), generation: first).isEmpty)
        let replay = machine.received(
            WatchResponseSummary(watchID: 1, headerRevision: 14, events: [Self.put(12), Self.put(13)]),
            generation: second)
        guard case .deliver(1, let fresh) = replay.first else {
            Issue.record("expected events")
            return
        }
        #expect(fresh.map(\.revision) == [13])
    }

    @Test func compactionEndsTheWatchWithTheRevisionItAskedFor() {
        var machine = WatchStreamStateMachine()
        _ = machine.register(id: 7, start: "a", end: nil, afterRevision: 4, progressNotify: false)
        _ = machine.streamOpened(generation: 1)
        let actions = machine.received(
            WatchResponseSummary(watchID: 7, headerRevision: 30, canceled: true, compactRevision: 20), generation: 1)
        guard case .fail(7, let error) = actions.first else {
            Issue.record("expected a failure")
            return
        }
        #expect(error == .compacted(requested: 4, compactedAt: 20))
        #expect(machine.registrations.isEmpty)
    }

    @Test func progressNotificationsMoveTheResumeRevisionOnlyForConfirmedWatches() {
        var machine = WatchStreamStateMachine()
        _ = machine.register(id: 1, start: "a", end: nil, afterRevision: 4, progressNotify: false)
        _ = machine.streamOpened(generation: 1)
        _ = machine.received(WatchResponseSummary(watchID: 1, headerRevision: 9), generation: 1)
        #expect(machine.registrations[1]?.nextRevision == 5)
        _ = machine.received(WatchResponseSummary(watchID: 1, headerRevision: 9, created: true), generation: 1)
        _ = machine.received(WatchResponseSummary(watchID: 1, headerRevision: 9), generation: 1)
        #expect(machine.registrations[1]?.nextRevision == 10)
        #expect(machine.cancel(id: 1).count == 1)
    }

    @Test func progressReachesOnlyWatchesThatAskedAndNeverGoesBack() {
        var machine = WatchStreamStateMachine()
        _ = machine.register(id: 1, start: "a", end: nil, afterRevision: 4, progressNotify: true)
        _ = machine.register(id: 2, start: "b", end: nil, afterRevision: 4, progressNotify: false)
        _ = machine.streamOpened(generation: 1)
        for id: Int64 in [1, 2] {
            _ = machine.received(WatchResponseSummary(watchID: id, headerRevision: 5, created: true), generation: 1)
        }
        guard
            case .progress(1, 9) = machine.received(WatchResponseSummary(watchID: 1, headerRevision: 9), generation: 1)
                .first
        else {
            Issue.record("expected progress at 9 for the watch that asked")
            return
        }
        #expect(machine.received(WatchResponseSummary(watchID: 2, headerRevision: 9), generation: 1).isEmpty)
        #expect(machine.registrations[2]?.nextRevision == 10)
        _ = machine.received(
            WatchResponseSummary(watchID: 1, headerRevision: 12, events: [Self.put(12)]), generation: 1)
        // A notification older than an event already delivered says nothing new.
        #expect(machine.received(WatchResponseSummary(watchID: 1, headerRevision: 11), generation: 1).isEmpty)
    }
}
