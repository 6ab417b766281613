import APIMachinery
import Foundation
import Storage
import XCTest

@testable import APIServer

/// The admission plugins in process, over a MemoryStore: each plugin's rules and messages, the flag
/// rules that pick them, and quota charging under concurrency.
final class AdmissionPluginTests: XCTestCase {
    static let guidePlugins = [
        "ServiceAccount", "NamespaceLifecycle", "NamespaceExists", "LimitRanger", "ResourceQuota",
    ]

    /// A bootstrapped server with the guide's plugins and the `default` account the controller-manager's
    /// serviceaccount controller would have made.
    func makeServer(plugins: [String] = guidePlugins) async throws -> APIServer {
        var configuration = APIServer.Configuration()
        configuration.admission = try AdmissionPlugins.select(admissionControl: plugins, enable: nil, disable: nil)
            .chain
        let server = APIServer(storage: MemoryStore(), configuration: configuration)
        try await server.bootstrap(advertiseAddress: "127.0.0.1", securePort: 6443)
        try await createDefaultAccount(server, "default")
        return server
    }

    func createDefaultAccount(_ server: APIServer, _ namespace: String) async throws {
        _ = try await store(server, "serviceaccounts").create(
            namespace: namespace, object: ["metadata": ["name": "default"]], options: WriteOptions())
    }

    func store(_ server: APIServer, _ resource: String) throws -> RegistryStore {
        try XCTUnwrap(server.store(resource: resource))
    }

    func pod(_ name: String, containers: [JSON] = [["name": "app", "image": "nginx"]]) -> JSON {
        [
            "apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name)],
            "spec": ["containers": .array(containers)],
        ]
    }

    func createNamespace(_ server: APIServer, _ name: String) async throws {
        _ = try await store(server, "namespaces").create(
            namespace: nil, object: ["metadata": ["name": .string(name)]], options: WriteOptions())
        try await createDefaultAccount(server, name)
    }

    /// Runs `body` and returns the APIError it threw.
    func apiError(_ body: () async throws -> Void, file: StaticString = #filePath, line: UInt = #line) async
        -> APIError?
    {
        do {
            try await body()
            XCTFail("expected an error", file: file, line: line)
            return nil
        } catch let error as APIError {
            return error
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
            return nil
        }
    }

    // MARK: Flags

    func testPluginsRunInUpstreamOrderWhateverTheFlagOrder() throws {
        let selection = try AdmissionPlugins.select(admissionControl: Self.guidePlugins, enable: nil, disable: nil)
        XCTAssertEqual(
            selection.enabled,
            ["NamespaceLifecycle", "NamespaceExists", "LimitRanger", "ServiceAccount", "ResourceQuota"])
        XCTAssertEqual(selection.chain.plugins.map(\.name), selection.enabled)
        XCTAssertEqual(selection.withoutEffect, [])
    }

    func testDefaultsEnableFlagsAndDisableFlags() throws {
        let defaults = try AdmissionPlugins.select(admissionControl: nil, enable: nil, disable: nil)
        XCTAssertEqual(
            defaults.chain.plugins.map(\.name),
            [
                "NamespaceLifecycle", "LimitRanger", "ServiceAccount", "TaintNodesByCondition", "PodSecurity",
                "Priority", "DefaultTolerationSeconds", "DefaultStorageClass", "StorageObjectInUseProtection",
                "PersistentVolumeClaimResize", "RuntimeClass",
                "CertificateApproval", "CertificateSigning", "CertificateSubjectRestriction", "DefaultIngressClass",
                "MutatingAdmissionWebhook", "ValidatingAdmissionPolicy", "ValidatingAdmissionWebhook", "ResourceQuota",
            ])
        XCTAssertEqual(defaults.withoutEffect, [], "unimplemented default-on plugins are left out, not logged")
        let adjusted = try AdmissionPlugins.select(
            admissionControl: nil, enable: ["NamespaceExists", "AlwaysPullImages"],
            disable: ["ServiceAccount", "LimitRanger"])
        XCTAssertEqual(
            adjusted.chain.plugins.map(\.name),
            [
                "NamespaceLifecycle", "NamespaceExists", "TaintNodesByCondition", "PodSecurity", "Priority",
                "DefaultTolerationSeconds",
                "DefaultStorageClass", "StorageObjectInUseProtection", "PersistentVolumeClaimResize", "RuntimeClass",
                "CertificateApproval",
                "CertificateSigning", "CertificateSubjectRestriction", "DefaultIngressClass",
                "MutatingAdmissionWebhook",
                "ValidatingAdmissionPolicy", "ValidatingAdmissionWebhook", "ResourceQuota",
            ])
        XCTAssertTrue(adjusted.withoutEffect.contains("AlwaysPullImages"))
        // --admission-control names exactly the enabled set: no defaults come along.
        let exact = try AdmissionPlugins.select(admissionControl: ["ResourceQuota"], enable: nil, disable: nil)
        XCTAssertEqual(exact.enabled, ["ResourceQuota"])
    }

    func testUnknownAndConflictingFlagsFailWithUpstreamMessages() {
        func message(_ control: [String]?, _ enable: [String]?, _ disable: [String]?) -> String {
            do {
                _ = try AdmissionPlugins.select(admissionControl: control, enable: enable, disable: disable)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(message(["Initializers"], nil, nil), "admission-control plugin \"Initializers\" is unknown")
        XCTAssertEqual(message(nil, ["Nope"], nil), "enable-admission-plugins plugin \"Nope\" is unknown")
        XCTAssertEqual(
            message(["LimitRanger"], ["ResourceQuota"], nil),
            "admission-control and enable-admission-plugins/disable-admission-plugins flags are mutually exclusive")
        XCTAssertEqual(
            message(nil, ["LimitRanger"], ["LimitRanger", "X"]),
            "[disable-admission-plugins plugin \"X\" is unknown, [LimitRanger] in enable-admission-plugins and disable-admission-plugins overlapped]"
        )
    }

    func testDisabledPluginsDoNotRun() async throws {
        let server = try await makeServer(plugins: ["NamespaceLifecycle"])
        let created = try await store(server, "pods").create(
            namespace: "default", object: pod("plain"), options: WriteOptions())
        XCTAssertNil(created["spec"]?["serviceAccountName"], "ServiceAccount is off")
        XCTAssertNil(created["spec"]?["volumes"])
    }

    // MARK: Namespaces

    func testCreatesInMissingOrTerminatingNamespacesAreRefused() async throws {
        let server = try await makeServer()
        let missing = await apiError {
            _ = try await self.store(server, "configmaps").create(
                namespace: "nowhere", object: ["metadata": ["name": "c"]], options: WriteOptions())
        }
        XCTAssertEqual(missing?.code, 404)
        XCTAssertEqual(missing?.message, "namespaces \"nowhere\" not found")

        try await createNamespace(server, "leaving")
        let namespaces = try store(server, "namespaces")
        // No namespace finalizer runs here, so the namespace stays terminating.
        _ = try await namespaces.delete(
            namespace: nil, name: "leaving", options: DeleteOptions(), write: WriteOptions())
        let terminating = await apiError {
            _ = try await self.store(server, "configmaps").create(
                namespace: "leaving", object: ["metadata": ["name": "c"]], options: WriteOptions())
        }
        XCTAssertEqual(terminating?.code, 403)
        XCTAssertEqual(
            terminating?.message,
            "configmaps \"c\" is forbidden: unable to create new content in namespace leaving because it is being terminated"
        )
        XCTAssertEqual(terminating?.details?["causes"]?.arrayValue?.first?["reason"], "NamespaceTerminating")
        // Deletes still pass, so the namespace can be emptied.
        _ = try await store(server, "serviceaccounts").delete(
            namespace: "leaving", name: "default", options: DeleteOptions(), write: WriteOptions())
    }

    /// A namespace another API server marks Terminating is seen through the watch-fed cache; a namespace
    /// created moments ago that the cache has not seen yet is found in storage.
    func testNamespacePhasesFollowStorageWritesFromElsewhere() async throws {
        let server = try await makeServer()
        try await createNamespace(server, "elsewhere")
        _ = try await store(server, "configmaps").create(
            namespace: "elsewhere", object: ["metadata": ["name": "before"]], options: WriteOptions())
        let key = "/registry/namespaces/elsewhere"
        let read = try await server.storage.get(key: key)
        let stored = try XCTUnwrap(read)
        var namespace = try JSON.parse(stored.value)
        namespace["status"] = ["phase": "Terminating"]
        _ = try await server.storage.update(
            key: key, value: namespace.encoded(), expectedRevision: stored.modRevision, lease: 0)
        var refused: APIError?
        for attempt in 0..<200 where refused == nil {
            do {
                _ = try await store(server, "configmaps").create(
                    namespace: "elsewhere", object: ["metadata": ["name": .string("after-\(attempt)")]],
                    options: WriteOptions())
                try await Task.sleep(for: .milliseconds(10))
            } catch let error as APIError {
                refused = error
            }
        }
        XCTAssertEqual(refused?.details?["causes"]?.arrayValue?.first?["reason"], "NamespaceTerminating")
    }

    func testImmortalNamespacesCannotBeDeleted() async throws {
        let server = try await makeServer()
        for name in ["default", "kube-system", "kube-public"] {
            let error = await apiError {
                _ = try await self.store(server, "namespaces").delete(
                    namespace: nil, name: name, options: DeleteOptions(), write: WriteOptions())
            }
            XCTAssertEqual(error?.message, "namespaces \"\(name)\" is forbidden: this namespace may not be deleted")
        }
    }

    // MARK: LimitRanger

    func limitRange(_ limits: [JSON]) -> JSON {
        ["metadata": ["name": "limits"], "spec": ["limits": .array(limits)]]
    }

    func testLimitRangeDefaultsAreAppliedAndAnnotated() async throws {
        let server = try await makeServer()
        _ = try await store(server, "limitranges").create(
            namespace: "default",
            object: limitRange([
                [
                    "type": "Container", "default": ["cpu": "500m", "memory": "256Mi"],
                    "defaultRequest": ["cpu": "100m"],
                ]
            ]), options: WriteOptions())
        let created = try await store(server, "pods").create(
            namespace: "default",
            object: pod(
                "defaulted",
                containers: [
                    ["name": "app", "image": "nginx", "resources": ["limits": ["memory": "1Gi"]]],
                    ["name": "side", "image": "busybox"],
                ]), options: WriteOptions())
        let containers = try XCTUnwrap(created["spec"]?["containers"]?.arrayValue)
        XCTAssertEqual(containers[0]["resources"]?["limits"]?.objectValue?.keys, ["cpu", "memory"])
        XCTAssertEqual(containers[0]["resources"]?["limits"], ["cpu": "500m", "memory": "1Gi"])
        // The pod asked for the memory it limits (upstream's pod defaulting runs before admission).
        XCTAssertEqual(containers[0]["resources"]?["requests"], ["memory": "1Gi", "cpu": "100m"])
        XCTAssertEqual(containers[1]["resources"]?["limits"], ["cpu": "500m", "memory": "256Mi"])
        XCTAssertEqual(
            created.annotations["kubernetes.io/limit-ranger"],
            "LimitRanger plugin set: cpu request for container app; cpu limit for container app; cpu, memory request for container side; cpu, memory limit for container side"
        )
        XCTAssertEqual(created["status"]?["qosClass"], "Burstable")
    }

    func testLimitRangeMinMaxAndRatioAreEnforced() async throws {
        let server = try await makeServer()
        _ = try await store(server, "limitranges").create(
            namespace: "default",
            object: limitRange([
                [
                    "type": "Container", "max": ["cpu": "1"], "min": ["cpu": "100m"],
                    "maxLimitRequestRatio": ["cpu": "4"],
                ],
                ["type": "Pod", "max": ["memory": "1Gi"]],
            ]), options: WriteOptions())
        func attempt(_ resources: JSON) async -> String? {
            await apiError {
                _ = try await self.store(server, "pods").create(
                    namespace: "default",
                    object: self.pod("p", containers: [["name": "app", "image": "nginx", "resources": resources]]),
                    options: WriteOptions())
            }?.message
        }
        let tooBig = await attempt(["limits": ["cpu": "2", "memory": "512Mi"], "requests": ["cpu": "1"]])
        XCTAssertEqual(tooBig, "pods \"p\" is forbidden: maximum cpu usage per Container is 1, but limit is 2")
        let ratio = await attempt(["limits": ["cpu": "1", "memory": "512Mi"], "requests": ["cpu": "200m"]])
        XCTAssertEqual(
            ratio,
            "pods \"p\" is forbidden: cpu max limit to request ratio per Container is 4, but provided ratio is 5.000000"
        )
        let both = await attempt(["limits": ["cpu": "50m", "memory": "2Gi"], "requests": ["cpu": "50m"]])
        XCTAssertEqual(
            both,
            "pods \"p\" is forbidden: [minimum cpu usage per Container is 100m, but request is 50m, maximum memory usage per Pod is 1Gi, but limit is 2Gi]"
        )
        // Within every bound the pod is admitted, with max as its default limit.
        let ok = try await store(server, "pods").create(
            namespace: "default",
            object: pod(
                "fits",
                containers: [
                    [
                        "name": "app", "image": "nginx",
                        "resources": ["limits": ["memory": "512Mi"], "requests": ["cpu": "500m"]],
                    ]
                ]),
            options: WriteOptions())
        XCTAssertEqual(ok["spec"]?["containers"]?.arrayValue?.first?["resources"]?["limits"]?["cpu"], "1")
    }

    func testClaimsAreBoundedOnTheirRequest() async throws {
        let server = try await makeServer()
        _ = try await store(server, "limitranges").create(
            namespace: "default",
            object: limitRange([
                ["type": "PersistentVolumeClaim", "min": ["storage": "1Gi"], "max": ["storage": "10Gi"]]
            ]),
            options: WriteOptions())
        let error = await apiError {
            _ = try await self.store(server, "persistentvolumeclaims").create(
                namespace: "default",
                object: [
                    "metadata": ["name": "big"],
                    "spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "20Gi"]]],
                ], options: WriteOptions())
        }
        XCTAssertEqual(
            error?.message,
            "persistentvolumeclaims \"big\" is forbidden: maximum storage usage per PersistentVolumeClaim is 10Gi, but request is 20Gi"
        )
    }

    // MARK: ServiceAccount

    func testPodsGetTheProjectedTokenVolumeInEveryContainer() async throws {
        let server = try await makeServer()
        let created = try await store(server, "pods").create(
            namespace: "default",
            object: [
                "metadata": ["name": "mounted"],
                "spec": [
                    "initContainers": [["name": "init", "image": "busybox"]],
                    "containers": [
                        ["name": "app", "image": "nginx"],
                        [
                            "name": "own", "image": "nginx",
                            "volumeMounts": [
                                ["name": "mine", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"]
                            ],
                        ],
                    ],
                    "volumes": [["name": "mine", "emptyDir": [:]]],
                ],
            ], options: WriteOptions())
        let spec = try XCTUnwrap(created["spec"])
        XCTAssertEqual(spec["serviceAccountName"], "default")
        XCTAssertEqual(spec["serviceAccount"], "default")
        let volume = try XCTUnwrap(spec["volumes"]?.arrayValue?.last)
        let volumeName = try XCTUnwrap(volume["name"]?.stringValue)
        XCTAssertTrue(volumeName.hasPrefix("kube-api-access-"))
        XCTAssertEqual(volumeName.count, "kube-api-access-".count + 5)
        XCTAssertEqual(volume, ServiceAccountAdmission.tokenVolume(volumeName))
        XCTAssertEqual(
            volume["projected"]?["sources"]?.arrayValue?.first?["serviceAccountToken"]?["expirationSeconds"], 3607)
        let mount: JSON = [
            "name": .string(volumeName), "readOnly": true, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
        ]
        XCTAssertEqual(spec["initContainers"]?.arrayValue?.first?["volumeMounts"], [mount])
        XCTAssertEqual(spec["containers"]?.arrayValue?.first?["volumeMounts"], [mount])
        // A container with its own mount at the path keeps it.
        XCTAssertEqual(spec["containers"]?.arrayValue?.last?["volumeMounts"]?.arrayValue?.count, 1)
    }

    func testAutomountCanBeTurnedOffByPodOrAccount() async throws {
        let server = try await makeServer()
        _ = try await store(server, "serviceaccounts").create(
            namespace: "default", object: ["metadata": ["name": "quiet"], "automountServiceAccountToken": false],
            options: WriteOptions())
        var quiet = pod("quiet")
        quiet.set(["spec", "serviceAccountName"], to: "quiet")
        let byAccount = try await store(server, "pods").create(
            namespace: "default", object: quiet, options: WriteOptions())
        XCTAssertNil(byAccount["spec"]?["volumes"])
        var optOut = pod("opt-out")
        optOut.set(["spec", "automountServiceAccountToken"], to: false)
        let byPod = try await store(server, "pods").create(
            namespace: "default", object: optOut, options: WriteOptions())
        XCTAssertNil(byPod["spec"]?["volumes"])
        XCTAssertNil(byPod["spec"]?["containers"]?.arrayValue?.first?["volumeMounts"])
    }

    func testAMissingServiceAccountIsRefused() async throws {
        let server = try await makeServer()
        var orphan = pod("orphan")
        orphan.set(["spec", "serviceAccountName"], to: "ghost")
        let error = await apiError {
            _ = try await self.store(server, "pods").create(
                namespace: "default", object: orphan, options: WriteOptions())
        }
        XCTAssertEqual(error?.code, 403)
        XCTAssertEqual(
            error?.message,
            "pods \"orphan\" is forbidden: error looking up service account default/ghost: serviceaccount \"ghost\" not found"
        )
    }

    // MARK: ResourceQuota

    func quota(_ name: String, hard: JSON, scopes: [String] = []) -> JSON {
        var object: JSON = ["metadata": ["name": .string(name)], "spec": ["hard": hard]]
        if !scopes.isEmpty { object.set(["spec", "scopes"], to: .array(scopes.map(JSON.string))) }
        return object
    }

    func quotaCache(_ server: APIServer) throws -> NamespacedObjectCache {
        try XCTUnwrap(server.context.admission.plugins.compactMap { ($0 as? ResourceQuotaAdmission)?.quotas }.first)
    }

    /// Creates a quota, writes the status the resourcequota controller would (hard from spec, `used` as
    /// given, nothing when nil) and waits until admission sees it.
    @discardableResult
    func createQuota(_ server: APIServer, _ object: JSON, used: JSON?, namespace: String = "default") async throws
        -> JSON
    {
        let quotas = try store(server, "resourcequotas")
        var stored = try await quotas.create(namespace: namespace, object: object, options: WriteOptions())
        if let used {
            stored = try await setQuotaStatus(server, object.name ?? "", hard: object["spec"]?["hard"], used: used)
        }
        let revision = try XCTUnwrap(stored.resourceVersion.flatMap { Int64($0) })
        try await quotaCache(server).wait(forRevision: revision, context: server.context)
        return stored
    }

    /// Writes a quota's status through the status subresource, as the resourcequota controller does.
    func setQuotaStatus(_ server: APIServer, _ name: String, hard: JSON?, used: JSON) async throws -> JSON {
        try await store(server, "resourcequotas").update(
            namespace: "default", name: name, target: .status, options: WriteOptions()
        ) { current in
            var quota = current
            quota["status"] = ["hard": hard ?? [:], "used": used]
            return quota
        }.object
    }

    func testAQuotaBindsOnceItsStatusIsWrittenAndRefusesWhileUsageIsUnknown() async throws {
        let server = try await makeServer()
        let maps = quota("maps", hard: ["count/configmaps": "1"])
        try await createQuota(server, maps, used: nil)
        let configMaps = try store(server, "configmaps")
        // Upstream's admission matches quotas on `status.hard`, which only the controller writes.
        for name in ["one", "two"] {
            _ = try await configMaps.create(
                namespace: "default", object: ["metadata": ["name": .string(name)]], options: WriteOptions())
        }
        var stored = try await setQuotaStatus(server, "maps", hard: maps["spec"]?["hard"], used: [:])
        try await quotaCache(server).wait(
            forRevision: try XCTUnwrap(stored.resourceVersion.flatMap { Int64($0) }), context: server.context)
        let unknown = await apiError {
            _ = try await configMaps.create(
                namespace: "default", object: ["metadata": ["name": "three"]], options: WriteOptions())
        }
        XCTAssertEqual(unknown?.code, 403)
        XCTAssertEqual(
            unknown?.message,
            "configmaps \"three\" is forbidden: status unknown for quota: maps, resources: count/configmaps")
        stored = try await setQuotaStatus(
            server, "maps", hard: maps["spec"]?["hard"], used: ["count/configmaps": "2"])
        try await quotaCache(server).wait(
            forRevision: try XCTUnwrap(stored.resourceVersion.flatMap { Int64($0) }), context: server.context)
        let exceeded = await apiError {
            _ = try await configMaps.create(
                namespace: "default", object: ["metadata": ["name": "three"]], options: WriteOptions())
        }
        XCTAssertEqual(
            exceeded?.message,
            "configmaps \"three\" is forbidden: exceeded quota: maps, requested: count/configmaps=1, used: count/configmaps=2, limited: count/configmaps=1"
        )
    }

    func testConcurrentCreatesNeverPassTheLastUnit() async throws {
        let server = try await makeServer()
        try await createQuota(server, quota("pods", hard: ["pods": "5"]), used: ["pods": "0"])
        let pods = try store(server, "pods")
        let results = await withTaskGroup(of: Result<Void, APIError>.self) { group in
            for index in 0..<16 {
                let object = self.pod("racer-\(index)")
                group.addTask {
                    do {
                        _ = try await pods.create(
                            namespace: "default", object: object, options: WriteOptions())
                        return .success(())
                    } catch let error as APIError {
                        return .failure(error)
                    } catch {
                        return .failure(.internalError("\(error)"))
                    }
                }
            }
            var results: [Result<Void, APIError>] = []
            for await result in group { results.append(result) }
            return results
        }
        let refused = results.compactMap { result -> APIError? in
            if case .failure(let error) = result { return error }
            return nil
        }
        XCTAssertEqual(results.count - refused.count, 5)
        for error in refused {
            XCTAssertEqual(error.code, 403)
            XCTAssertTrue(
                error.message.hasSuffix(
                    "is forbidden: exceeded quota: pods, requested: pods=1, used: pods=5, limited: pods=5"),
                error.message)
        }
        let stored = try await store(server, "resourcequotas").get(namespace: "default", name: "pods")
        XCTAssertEqual(stored["status"]?["used"], ["pods": "5"])
    }

    func testComputeQuotaNeedsEveryContainerToStateIt() async throws {
        let server = try await makeServer()
        try await createQuota(
            server, quota("compute", hard: ["requests.cpu": "1", "limits.memory": "1Gi"]),
            used: ["requests.cpu": "0", "limits.memory": "0"])
        let missing = await apiError {
            _ = try await self.store(server, "pods").create(
                namespace: "default", object: self.pod("bare"), options: WriteOptions())
        }
        XCTAssertEqual(
            missing?.message,
            "pods \"bare\" is forbidden: failed quota: compute: must specify limits.memory for: app; requests.cpu for: app"
        )
        let resources: JSON = ["requests": ["cpu": "600m"], "limits": ["memory": "512Mi", "cpu": "1"]]
        _ = try await store(server, "pods").create(
            namespace: "default",
            object: pod("first", containers: [["name": "app", "image": "nginx", "resources": resources]]),
            options: WriteOptions())
        let exceeded = await apiError {
            _ = try await self.store(server, "pods").create(
                namespace: "default",
                object: self.pod("second", containers: [["name": "app", "image": "nginx", "resources": resources]]),
                options: WriteOptions())
        }
        XCTAssertEqual(
            exceeded?.message,
            "pods \"second\" is forbidden: exceeded quota: compute, requested: requests.cpu=600m, used: requests.cpu=600m, limited: requests.cpu=1"
        )
    }

    func testScopedQuotaCountsOnlyMatchingPods() async throws {
        let server = try await makeServer()
        try await createQuota(
            server, quota("best-effort", hard: ["pods": "1"], scopes: ["BestEffort"]), used: ["pods": "0"])
        _ = try await store(server, "pods").create(namespace: "default", object: pod("free-1"), options: WriteOptions())
        let resources: JSON = ["requests": ["cpu": "100m"], "limits": ["cpu": "100m"]]
        // Not best effort: outside the quota's scope.
        _ = try await store(server, "pods").create(
            namespace: "default",
            object: pod("paid", containers: [["name": "app", "image": "nginx", "resources": resources]]),
            options: WriteOptions())
        let error = await apiError {
            _ = try await self.store(server, "pods").create(
                namespace: "default", object: self.pod("free-2"), options: WriteOptions())
        }
        XCTAssertEqual(
            error?.message,
            "pods \"free-2\" is forbidden: exceeded quota: best-effort, requested: pods=1, used: pods=1, limited: pods=1"
        )
    }

    func testDryRunChargesNothing() async throws {
        let server = try await makeServer()
        // One config map the controller has counted already.
        try await createQuota(server, quota("maps", hard: ["count/configmaps": "2"]), used: ["count/configmaps": "1"])
        let configMaps = try store(server, "configmaps")
        var dryRun = WriteOptions()
        dryRun.dryRun = true
        _ = try await configMaps.create(namespace: "default", object: ["metadata": ["name": "dry"]], options: dryRun)
        let quotas = try store(server, "resourcequotas")
        let used = try await quotas.get(namespace: "default", name: "maps")["status"]?["used"]
        XCTAssertEqual(used, ["count/configmaps": "1"])
        _ = try await configMaps.create(
            namespace: "default", object: ["metadata": ["name": "real"]], options: WriteOptions())
        let full = await apiError {
            _ = try await configMaps.create(
                namespace: "default", object: ["metadata": ["name": "more"]], options: dryRun)
        }
        XCTAssertEqual(
            full?.message,
            "configmaps \"more\" is forbidden: exceeded quota: maps, requested: count/configmaps=1, used: count/configmaps=2, limited: count/configmaps=2"
        )
    }
}
