import EtcdStore
import Storage
import TestSupport

extension Backend {
    /// etcd 3.4 (Debian's etcd-server): a fresh single member per test, so the tests that compact,
    /// which is cluster-wide in etcd, cannot disturb each other, and revisions stay consecutive.
    /// Left out when /usr/bin/etcd is missing (`.ci/run` installs it).
    static let etcd = Backend(name: "etcd", isolated: true) {
        let member = try await EtcdProcess.start()
        let endpoint = try EtcdConfiguration.parseServers(member.clientURL)
        let store = try EtcdStore(configuration: EtcdConfiguration(endpoints: endpoint))
        return OpenedStore(store: store) {
            store.close()
            member.stop()
        }
    }

    static let etcdIfInstalled: [Backend] = EtcdProcess.isInstalled ? [.etcd] : []
}
