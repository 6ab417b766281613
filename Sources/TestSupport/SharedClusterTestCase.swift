public import Foundation
public import XCTest

/// A test class whose tests share one API server, started once for the class on its own loopback address.
open class SharedClusterTestCase: XCTestCase {
    /// The loopback address this class's server listens on; each class picks its own.
    open class var clusterAddress: String { "127.0.0.1" }
    /// Extra kube-apiserver flags; a value starting with `@` names a file in the cluster's directory.
    open class var extraFlags: [String] { [] }
    /// Writes the files `extraFlags` name (a token.csv, a policy) before the server starts.
    open class func prepare(directory: URL) throws {}
    /// The controllers the class's controller-manager runs; nil for a bare API server.
    open class var controllers: [String]? { TestCluster.defaultControllers }
    /// Starts what the class needs beside the server (a scheduler, say) once it is up.
    open class func clusterStarted(_ cluster: TestCluster) throws {}

    nonisolated(unsafe) private static var clusters: [ObjectIdentifier: TestCluster] = [:]
    nonisolated(unsafe) private static var failures: [ObjectIdentifier: String] = [:]

    override open class func setUp() {
        super.setUp()
        do {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "kubeswift-e2e-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try prepare(directory: directory)
            let flags = extraFlags.map { $0.replacingOccurrences(of: "=@", with: "=\(directory.path)/") }
            let cluster = try TestCluster(
                address: clusterAddress, extraFlags: flags, directory: directory, controllers: controllers)
            clusters[ObjectIdentifier(self)] = cluster
            try clusterStarted(cluster)
        } catch {
            failures[ObjectIdentifier(self)] = "\(error)"
        }
    }

    override open class func tearDown() {
        clusters[ObjectIdentifier(self)] = nil
        super.tearDown()
    }

    public var cluster: TestCluster {
        get throws {
            let key = ObjectIdentifier(type(of: self))
            guard let cluster = Self.clusters[key] else {
                throw TestClusterError("cluster did not start: \(Self.failures[key] ?? "unknown reason")")
            }
            return cluster
        }
    }
}
