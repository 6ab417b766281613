/// The plugins of a per-node extension point (Filter, Score) as the per-node loops call them.
///
/// Each plugin sits in a box of its own and the loops call it through an unretained reference to the box: an
/// existential read out of an array is copied before the call (a retain and release of the plugin's storage per
/// plugin per node, on memory every worker shares), while a plugin reached through a borrowed reference is called
/// in place. The boxes live as long as this value.
struct NodePlugins<Plugin: Sendable>: Sendable {
    /// One plugin with what the framework says about it.
    final class Entry: Sendable {
        let plugin: Plugin
        let name: String
        /// The score weight (1 at Filter).
        let weight: Int64

        init(_ plugin: Plugin, name: String, weight: Int64 = 1) {
            self.plugin = plugin
            self.name = name
            self.weight = weight
        }
    }

    let entries: [Entry]
    private let references: [Unmanaged<Entry>]

    init(_ entries: [Entry]) {
        self.entries = entries
        references = entries.map { Unmanaged.passUnretained($0) }
    }

    var isEmpty: Bool { entries.isEmpty }
    var names: [String] { entries.map(\.name) }

    /// The plugins not named in `names` (a cycle's choice, made once rather than per node).
    func skipping(_ names: Set<String>) -> NodePlugins {
        names.isEmpty ? self : NodePlugins(entries.filter { !names.contains($0.name) })
    }

    /// Runs `body` with unretained references to the entries, valid while it runs.
    func withReferences<R>(_ body: (UnsafeBufferPointer<Unmanaged<Entry>>) -> R) -> R {
        withExtendedLifetime(entries) { references.withUnsafeBufferPointer(body) }
    }
}

typealias FilterPlugins = NodePlugins<any FilterPlugin>
typealias ScorePlugins = NodePlugins<any ScorePlugin>
