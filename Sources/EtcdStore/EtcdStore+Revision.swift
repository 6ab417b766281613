import Storage

extension EtcdStore {
    /// Not yet: etcd answers a `WatchProgressRequest` on the watch stream, but before 3.4.31 and 3.5.8 it may
    /// answer before events still queued for a catching-up watcher (etcd issue 15220), which is why upstream
    /// serves consistent reads from storage there. Until the watch stream sends the request and checks the
    /// member's version, consistent reads on etcd go to storage; other reads are served by the caches.
    public func requestProgress() async -> Bool { false }
}
