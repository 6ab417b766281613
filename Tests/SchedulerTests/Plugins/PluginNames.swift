@testable import Scheduler

/// The scheduler's `NodeAffinity` plugin, nameable in files that also see the API model of that name.
typealias NodeAffinityPlugin = NodeAffinity
