import Foundation
import TestSupport
import XCTest

/// Admission through the real binary with the guide's `--admission-control` list, driven by kubectl.
final class AdmissionEndToEndTests: XCTestCase {
    static let guideFlag =
        "--admission-control=ServiceAccount,NamespaceLifecycle,NamespaceExists,LimitRanger,ResourceQuota"

    nonisolated(unsafe) private static var shared: TestCluster?
    nonisolated(unsafe) private static var failure: String?

    override class func setUp() {
        super.setUp()
        do {
            shared = try TestCluster(address: "127.0.0.41", extraFlags: [guideFlag])
        } catch {
            failure = "\(error)"
        }
    }

    override class func tearDown() {
        shared = nil
        super.tearDown()
    }

    var cluster: TestCluster {
        get throws {
            guard let cluster = Self.shared else {
                throw TestClusterError("cluster did not start: \(Self.failure ?? "")")
            }
            return cluster
        }
    }

    func testQuotaNeverOverAdmitsSixteenConcurrentCreates() throws {
        let cluster = try cluster
        expectSuccess(try cluster.kubectl("create namespace quota-race"))
        expectSuccess(try cluster.kubectl("create quota three --hard=pods=3 -n quota-race"))
        let outputs = LockedOutputs()
        DispatchQueue.concurrentPerform(iterations: 16) { index in
            let output = try? cluster.kubectl("run racer-\(index) --image=nginx -n quota-race")
            outputs.append(index, output)
        }
        let results = outputs.all
        XCTAssertEqual(results.count, 16)
        let admitted = results.filter { $0.output?.status == 0 }
        XCTAssertEqual(admitted.count, 3, results.map { $0.output?.stderr ?? "no output" }.joined())
        for (index, output) in results where output?.status != 0 {
            XCTAssertEqual(
                output?.stderr.trimmingCharacters(in: .whitespacesAndNewlines),
                "Error from server (Forbidden): pods \"racer-\(index)\" is forbidden: exceeded quota: three, requested: pods=1, used: pods=3, limited: pods=3"
            )
        }
        XCTAssertEqual(
            expectSuccess(try cluster.kubectl("get quota three -n quota-race -o jsonpath={.status.used.pods}")), "3")
        let pods = expectSuccess(try cluster.kubectl("get pods -n quota-race -o name"))
        XCTAssertEqual(pods.split(separator: "\n").count, 3)
    }

    func testLimitRangeDefaultsAppearOnPodsAndMaxIsEnforced() throws {
        let cluster = try cluster
        expectSuccess(try cluster.kubectl("create namespace limited"))
        let limitRange = """
            apiVersion: v1
            kind: LimitRange
            metadata: {name: defaults, namespace: limited}
            spec:
              limits:
              - type: Container
                default: {cpu: 500m, memory: 128Mi}
                defaultRequest: {cpu: 250m}
                max: {cpu: "1"}
            """
        expectSuccess(try cluster.kubectl(["apply", "-f", "-"], input: limitRange))
        expectSuccess(try cluster.kubectl("run web --image=nginx -n limited"))
        let resources = expectSuccess(
            try cluster.kubectl([
                "get", "pod", "web", "-n", "limited", "-o", "jsonpath={.spec.containers[0].resources}",
            ]))
        XCTAssertEqual(
            resources, #"{"limits":{"cpu":"500m","memory":"128Mi"},"requests":{"cpu":"250m","memory":"128Mi"}}"#)
        XCTAssertEqual(
            expectSuccess(
                try cluster.kubectl([
                    "get", "pod", "web", "-n", "limited", "-o",
                    #"jsonpath={.metadata.annotations.kubernetes\.io/limit-ranger}"#,
                ])),
            "LimitRanger plugin set: cpu, memory request for container web; cpu, memory limit for container web")
        expectFailure(
            try cluster.kubectl([
                "run", "greedy", "--image=nginx", "-n", "limited", "--overrides",
                #"{"spec":{"containers":[{"name":"greedy","image":"nginx","resources":{"limits":{"cpu":"2"}}}]}}"#,
            ]),
            "Error from server (Forbidden): pods \"greedy\" is forbidden: maximum cpu usage per Container is 1, but limit is 2"
        )
    }

    func testPodsGetTheProjectedServiceAccountVolume() throws {
        let cluster = try cluster
        expectSuccess(try cluster.kubectl("create namespace projected"))
        // The API server gives the new namespace its default account; the plugin waits for it if needed.
        expectSuccess(try cluster.kubectl("run token --image=nginx -n projected"))
        let volume = expectSuccess(
            try cluster.kubectl(["get", "pod", "token", "-n", "projected", "-o", "jsonpath={.spec.volumes[0].name}"]))
        XCTAssertTrue(volume.hasPrefix("kube-api-access-"), volume)
        let sources = expectSuccess(
            try cluster.kubectl([
                "get", "pod", "token", "-n", "projected", "-o",
                "jsonpath={.spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds} {.spec.volumes[0].projected.sources[1].configMap.name} {.spec.volumes[0].projected.sources[2].downwardAPI.items[0].path}",
            ]))
        XCTAssertEqual(sources, "3607 kube-root-ca.crt namespace")
        let mount = expectSuccess(
            try cluster.kubectl([
                "get", "pod", "token", "-n", "projected", "-o",
                "jsonpath={.spec.containers[0].volumeMounts[0].name} {.spec.containers[0].volumeMounts[0].mountPath} {.spec.containers[0].volumeMounts[0].readOnly} {.spec.serviceAccountName}",
            ]))
        XCTAssertEqual(mount, "\(volume) /var/run/secrets/kubernetes.io/serviceaccount true default")
        let ca = expectSuccess(
            try cluster.kubectl([
                "get", "configmap", "kube-root-ca.crt", "-n", "projected", "-o", #"jsonpath={.data.ca\.crt}"#,
            ]))
        let pki = cluster.directory.appendingPathComponent("pki/ca.pem")
        XCTAssertEqual(
            ca.trimmingCharacters(in: .whitespacesAndNewlines),
            try String(contentsOf: pki, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func testMissingServiceAccountAndMissingNamespaceAreRefused() throws {
        let cluster = try cluster
        expectFailure(
            try cluster.kubectl([
                "run", "orphan", "--image=nginx", "--overrides", #"{"spec":{"serviceAccountName":"ghost"}}"#,
            ]),
            "Error from server (Forbidden): pods \"orphan\" is forbidden: error looking up service account default/ghost: serviceaccount \"ghost\" not found"
        )
        expectFailure(
            try cluster.kubectl("create configmap lost -n nowhere"),
            "error: failed to create configmap: namespaces \"nowhere\" not found")
        expectFailure(
            try cluster.kubectl("delete namespace kube-public"),
            "Error from server (Forbidden): namespaces \"kube-public\" is forbidden: this namespace may not be deleted")
    }

    func testServerSideDryRunChargesNoQuota() throws {
        let cluster = try cluster
        expectSuccess(try cluster.kubectl("create namespace dry"))
        expectSuccess(try cluster.kubectl("create quota maps --hard=count/configmaps=2 -n dry"))
        // kube-root-ca.crt is the first.
        expectSuccess(try cluster.kubectl("create configmap a -n dry --dry-run=server"))
        expectSuccess(try cluster.kubectl("create configmap b -n dry --dry-run=server"))
        XCTAssertEqual(
            expectSuccess(
                try cluster.kubectl([
                    "get", "quota", "maps", "-n", "dry", "-o", #"jsonpath={.status.used.count/configmaps}"#,
                ])),
            "1")
        expectSuccess(try cluster.kubectl("create configmap real -n dry"))
        expectFailure(
            try cluster.kubectl("create configmap over -n dry"),
            "error: failed to create configmap: configmaps \"over\" is forbidden: exceeded quota: maps, requested: count/configmaps=1, used: count/configmaps=2, limited: count/configmaps=2"
        )
    }

    func testDisabledPluginsDoNotRunAndUnknownOnesFailStartUp() throws {
        let plain = try TestCluster(address: "127.0.0.42", extraFlags: ["--disable-admission-plugins=ServiceAccount"])
        expectSuccess(try plain.kubectl("run bare --image=nginx"))
        XCTAssertEqual(
            expectSuccess(try plain.kubectl(["get", "pod", "bare", "-o", "jsonpath={.spec.volumes}"])), "")
        XCTAssertTrue(
            plain.log.contains(
                "Loaded admission plugins in order: NamespaceLifecycle,LimitRanger,TaintNodesByCondition,PodSecurity,"
                    + "Priority,DefaultTolerationSeconds,DefaultStorageClass,StorageObjectInUseProtection,"
                    + "PersistentVolumeClaimResize,RuntimeClass,CertificateApproval,CertificateSigning,"
                    + "CertificateSubjectRestriction,DefaultIngressClass,MutatingAdmissionWebhook,"
                    + "ValidatingAdmissionPolicy,ValidatingAdmissionWebhook,ResourceQuota"
            ),
            plain.log)
        plain.stop()

        let binary = TestCluster.productsDirectory.appendingPathComponent("kube-apiserver").path
        let result = try TestCluster.run(
            binary,
            [
                "--secure-port=0", "--bind-address=127.0.0.43", "--data-dir=\(plain.directory.path)/other",
                "--admission-control=NamespaceLifecycle,Initializers",
            ])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(
            result.stderr.contains("admission-control plugin \"Initializers\" is unknown"), result.stderr)
    }
}

/// kubectl results collected from concurrent threads.
final class LockedOutputs: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [(index: Int, output: TestCluster.Output?)] = []

    func append(_ index: Int, _ output: TestCluster.Output?) {
        lock.lock()
        results.append((index, output))
        lock.unlock()
    }

    var all: [(index: Int, output: TestCluster.Output?)] {
        lock.lock()
        defer { lock.unlock() }
        return results.sorted { $0.index < $1.index }
    }
}
