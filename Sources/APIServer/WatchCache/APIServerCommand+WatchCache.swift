import Component

extension APIServerCommand {
    /// `--watch-cache`, `--default-watch-cache-size` and `--watch-cache-sizes` (`resource[.group]#size`, with
    /// upstream's messages); a size of 0 turns a cache off, as upstream.
    static func watchCache(_ flags: FlagSet) throws -> WatchCacheConfiguration? {
        guard flags.bool("watch-cache") else { return nil }
        var configuration = WatchCacheConfiguration()
        configuration.windowCapacity = try flags.int("default-watch-cache-size")
        if configuration.windowCapacity < 0 { throw fail("--default-watch-cache-size can not be negative value") }
        // Upstream sizes every window by its history alone; a size given here fixes the window instead, so a
        // test or an operator can bound what the cache holds.
        if flags.isSet("default-watch-cache-size") { configuration.windowUpperBound = configuration.windowCapacity }
        for entry in flags.list("watch-cache-sizes") {
            let parts = entry.split(separator: "#", omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw fail("invalid value of watch cache size: \(entry)") }
            guard let size = Int(parts[1]) else { throw fail("invalid size of watch cache size: \(entry)") }
            guard size >= 0 else { throw fail("watch cache size cannot be negative: \(entry)") }
            configuration.sizes[String(parts[0])] = size
        }
        return configuration
    }
}
