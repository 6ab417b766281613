import APIMachinery

/// core/v1 PersistentVolumes: their columns and defaults (`base`), and upstream's phase clock since v1.31: a new
/// volume is Pending from its creation, and `status.lastPhaseTransitionTime` moves whenever a status write
/// changes the phase without stamping a time of its own.
struct PersistentVolumeStrategy: Strategy {
    let base: ColumnsStrategy
    /// The stamp's time, injectable so tests need no clock.
    var now: @Sendable () -> String = { Timestamp.now() }

    var tracksGeneration: Bool { base.tracksGeneration }
    var generation: GenerationRule { base.generation }
    var columns: [Table.Column] { base.columns }
    func cells(_ object: JSON) -> [JSON] { base.cells(object) }
    func applyDefaults(_ object: inout JSON) { base.applyDefaults(&object) }
    func validateName(_ name: String) -> [String] { base.validateName(name) }

    func prepareForCreate(_ object: inout JSON) {
        object["status"] = ["phase": "Pending", "lastPhaseTransitionTime": .string(now())]
    }

    func prepareForStatusUpdate(_ object: inout JSON, old: JSON) {
        base.prepareForStatusUpdate(&object, old: old)
        let stamp = object[path: "status", "lastPhaseTransitionTime"]
        if object[path: "status", "phase"] != old[path: "status", "phase"],
            stamp == nil || stamp == old[path: "status", "lastPhaseTransitionTime"]
        {
            object.set(["status", "lastPhaseTransitionTime"], to: .string(now()))
        }
    }
}

extension ColumnsStrategy {
    /// This strategy with PersistentVolumes' phase clock.
    func stampingPhaseTransitions() -> PersistentVolumeStrategy { PersistentVolumeStrategy(base: self) }
}
