import Client

/// The API's `NodeAffinity` model, nameable in files that also see the scheduler's plugin of that name.
typealias NodeAffinityModel = NodeAffinity
