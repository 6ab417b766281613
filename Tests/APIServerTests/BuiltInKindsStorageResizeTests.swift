import Foundation
import TestSupport
import XCTest

/// PersistentVolumeClaimResize on `BuiltInKindsTests`' server: a claim grows only when bound and when its
/// class allows expansion, with upstream's refusals.
extension BuiltInKindsTests {
    func testClaimsGrowOnlyWhenBoundAndTheirClassAllowsIt() throws {
        let namespace = "resize-\(UInt32.random(in: 0...UInt32.max))"
        expectSuccess(try cluster.kubectl(["create", "namespace", namespace]))
        for (name, expands) in [("grows", true), ("fixed", false)] {
            expectSuccess(
                try create(
                    """
                    apiVersion: storage.k8s.io/v1
                    kind: StorageClass
                    metadata: {name: \(name)-\(namespace)}
                    provisioner: example.com/disk
                    allowVolumeExpansion: \(expands)
                    """))
            expectSuccess(
                try create(
                    """
                    apiVersion: v1
                    kind: PersistentVolumeClaim
                    metadata: {name: \(name), namespace: \(namespace)}
                    spec:
                      storageClassName: \(name)-\(namespace)
                      accessModes: [ReadWriteOnce]
                      resources: {requests: {storage: 1Gi}}
                    """))
        }
        func grow(_ claim: String) throws -> TestCluster.Output {
            try cluster.kubectl([
                "patch", "pvc", claim, "-n", namespace, "-p",
                #"{"spec": {"resources": {"requests": {"storage": "2Gi"}}}}"#,
            ])
        }
        let pending = try grow("grows")
        XCTAssertTrue(
            pending.stderr.contains(
                #"persistentvolumeclaims "grows" is forbidden: Only bound persistent volume claims can be expanded"#),
            pending.stderr)
        for claim in ["grows", "fixed"] {
            expectSuccess(
                try cluster.kubectl([
                    "patch", "pvc", claim, "-n", namespace, "--subresource=status", "-p",
                    #"{"status": {"phase": "Bound"}}"#,
                ]))
        }
        expectSuccess(try grow("grows"))
        XCTAssertEqual(try field("pvc/grows", ".spec.resources.requests.storage", namespace: namespace), "2Gi")
        let fixed = try grow("fixed")
        XCTAssertTrue(
            fixed.stderr.contains(
                #"persistentvolumeclaims "fixed" is forbidden: only dynamically provisioned pvc can be resized and "#
                    + "the storageclass that provisions the pvc must support resize"),
            fixed.stderr)
        expectSuccess(try cluster.kubectl(["delete", "namespace", namespace, "--wait=false"]))
    }
}
