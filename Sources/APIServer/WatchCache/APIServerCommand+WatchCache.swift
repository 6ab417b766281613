import Component

extension APIServerCommand {
    /// `--watch-cache` and `--default-watch-cache-size`; as upstream, a size of 0 turns the caches off.
    static func watchCache(_ flags: FlagSet) throws -> WatchCacheConfiguration? {
        let size = try flags.int("default-watch-cache-size")
        if size < 0 { throw fail("--default-watch-cache-size can not be negative value") }
        guard flags.bool("watch-cache"), size > 0 else { return nil }
        var configuration = WatchCacheConfiguration()
        configuration.windowCapacity = size
        return configuration
    }
}
