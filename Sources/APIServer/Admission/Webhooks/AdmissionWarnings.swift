import NIOConcurrencyHelpers

/// Warnings admission gathers for the client (a webhook's `warnings`), which the request's handler sends
/// back as `Warning: 299 - "…"` headers; reachable through a task-local so plugins need no new parameter.
/// The handler binds one around the verb:
///
///     let warnings = AdmissionWarnings()
///     let response = await AdmissionWarnings.$current.withValue(warnings) { await serve(request) }
///     // then add `warnings.all` as Warning headers, as FieldValidation.decorate does for its own
public final class AdmissionWarnings: Sendable {
    @TaskLocal public static var current: AdmissionWarnings?

    private let box = NIOLockedValueBox<[String]>([])

    public init() {}

    /// Adds warnings, each once, in arrival order.
    public func add(_ warnings: [String]) {
        guard !warnings.isEmpty else { return }
        box.withLockedValue { gathered in
            for warning in warnings where !gathered.contains(warning) { gathered.append(warning) }
        }
    }

    /// Everything gathered so far.
    public var all: [String] { box.withLockedValue { $0 } }
}
