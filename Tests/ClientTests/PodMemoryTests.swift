import APIMachinery
import Client
import Glibc
import XCTest

/// What a cached pod costs: the generated models' inline sizes, and the heap bytes per pod of an informer's
/// store holding pods shaped as the controller-manager bench's (a ReplicaSet's pod after scheduling, with the
/// service-account volume admission adds, the status a simulated node writes and the managedFields the API
/// server records).
final class PodMemoryTests: XCTestCase {
    /// A bench pod as the API server returns it, numbered `index`.
    static func benchPod(_ index: Int) -> String {
        let name = "web-5d8f7c9b4-\(String(index, radix: 36))"
        let uid = "3f1c2a6e-\(String(format: "%04x", index % 65536))-4c1b-9a55-0c7d2e\(String(format: "%06x", index))"
        let time = "2026-12-06T18:00:00Z"
        let volume = "kube-api-access-\(String(index % 60_466_176 + 60_466_176, radix: 36).suffix(5))"
        let fieldsTemplate = #"""
            {"f:metadata":{"f:generateName":{},"f:labels":{".":{},"f:app":{},"f:pod-template-hash":{}},
            "f:ownerReferences":{".":{},"k:{\"uid\":\"9a1b\"}":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"c\"}":
            {".":{},"f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:resources":{".":{},"f:requests":{".":{},
            "f:cpu":{},"f:memory":{}}},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},
            "f:dnsPolicy":{},"f:enableServiceLinks":{},"f:restartPolicy":{},"f:schedulerName":{},
            "f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}
            """#
        let fieldsStatus = #"""
            {"f:status":{"f:conditions":{"k:{\"type\":\"ContainersReady\"}":{".":{},"f:lastProbeTime":{},
            "f:lastTransitionTime":{},"f:status":{},"f:type":{}},"k:{\"type\":\"Initialized\"}":{".":{},
            "f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}},"k:{\"type\":\"Ready\"}":
            {".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}}},
            "f:containerStatuses":{},"f:hostIP":{},"f:hostIPs":{},"f:phase":{},"f:podIP":{},"f:podIPs":{
            ".":{},"k:{\"ip\":\"10.244.1.7\"}":{".":{},"f:ip":{}}},"f:startTime":{}}}
            """#
        let condition = { (type: String) in
            #"{"type":"\#(type)","status":"True","lastProbeTime":null,"lastTransitionTime":"\#(time)"}"#
        }
        return #"""
            {"kind":"Pod","apiVersion":"v1","metadata":{"name":"\#(name)","generateName":"web-5d8f7c9b4-",
            "namespace":"default","uid":"\#(uid)","resourceVersion":"\#(100_000 + index)",
            "creationTimestamp":"\#(time)","labels":{"app":"web","pod-template-hash":"5d8f7c9b4"},
            "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-5d8f7c9b4",
            "uid":"9a1b","controller":true,"blockOwnerDeletion":true}],"managedFields":[
            {"manager":"kube-controller-manager","operation":"Update","apiVersion":"v1","time":"\#(time)",
            "fieldsType":"FieldsV1","fieldsV1":\#(fieldsTemplate)},
            {"manager":"kubelet","operation":"Update","apiVersion":"v1","time":"\#(time)","fieldsType":"FieldsV1",
            "fieldsV1":\#(fieldsStatus),"subresource":"status"}]},
            "spec":{"containers":[{"name":"c","image":"nginx","resources":{"requests":{"cpu":"10m",
            "memory":"16Mi"}},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File",
            "imagePullPolicy":"Always","volumeMounts":[{"name":"\#(volume)","readOnly":true,
            "mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}]}],
            "volumes":[{"name":"\#(volume)","projected":{"sources":[{"serviceAccountToken":
            {"expirationSeconds":3607,"path":"token"}},{"configMap":{"name":"kube-root-ca.crt","items":
            [{"key":"ca.crt","path":"ca.crt"}]}},{"downwardAPI":{"items":[{"path":"namespace","fieldRef":
            {"apiVersion":"v1","fieldPath":"metadata.namespace"}}]}}],"defaultMode":420}}],"restartPolicy":"Always","terminationGracePeriodSeconds":30,
            "dnsPolicy":"ClusterFirst","serviceAccountName":"default","serviceAccount":"default",
            "nodeName":"node-\#(index % 100)","securityContext":{},"schedulerName":"default-scheduler",
            "tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute",
            "tolerationSeconds":300},{"key":"node.kubernetes.io/unreachable","operator":"Exists",
            "effect":"NoExecute","tolerationSeconds":300}],"priority":0,"enableServiceLinks":true,
            "preemptionPolicy":"PreemptLowerPriority"},
            "status":{"phase":"Running","conditions":[\#(condition("Initialized")),\#(condition("Ready")),
            \#(condition("ContainersReady")),\#(condition("PodScheduled"))],"hostIP":"10.0.0.\#(index % 100)",
            "hostIPs":[{"ip":"10.0.0.\#(index % 100)"}],"podIP":"10.244.\#(index / 250).\#(index % 250)",
            "podIPs":[{"ip":"10.244.\#(index / 250).\#(index % 250)"}],"startTime":"\#(time)",
            "containerStatuses":[{"name":"c","state":{"running":{"startedAt":"\#(time)"}},"lastState":{},
            "ready":true,"restartCount":0,"image":"docker.io/library/nginx:latest",
            "imageID":"docker.io/library/nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31",
            "containerID":"containerd://\#(uid)","started":true}],"qosClass":"Burstable"}}
            """#
    }

    /// Heap bytes in use, from glibc's `malloc_info` report (system bytes less free ones, plus mmapped chunks);
    /// Swift's Glibc module leaves malloc.h out, so the function is looked up by name.
    private static func heapInUse() throws -> Int {
        typealias MallocInfo = @convention(c) (Int32, UnsafeMutablePointer<FILE>?) -> Int32
        let symbol = try XCTUnwrap(dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_info"), "glibc")
        let mallocInfo = unsafeBitCast(symbol, to: MallocInfo.self)
        let file = try XCTUnwrap(tmpfile())
        defer { fclose(file) }
        _ = mallocInfo(0, file)
        rewind(file)
        var report = ""
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), file) != nil {
            report += String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        // The report ends with the process's totals: the last line of each kind.
        func last(_ prefix: String) throws -> Int {
            let line = try XCTUnwrap(report.split(separator: "\n").last { $0.contains(prefix) }, prefix)
            let size = try XCTUnwrap(line.split(separator: "size=\"").last?.prefix { $0.isNumber })
            return try XCTUnwrap(Int(size))
        }
        return try last(#"<system type="current""#) - last(#"<total type="fast""#) - last(#"<total type="rest""#)
            + last(#"<total type="mmap""#)
    }

    /// Heap bytes per pod of a store holding `count` decoded bench pods, transformed as an informer would.
    private static func bytesPerPod(count: Int, transform: (Pod) -> Pod) throws -> Int {
        let texts = (0..<count).map(benchPod)
        let indexer = Indexer<Pod>()
        let before = try heapInUse()
        for text in texts { _ = indexer.upsert(transform(try Pod(json: try JSON.parse(text)))) }
        let after = try heapInUse()
        XCTAssertEqual(indexer.list().count, count)
        return (after - before) / count
    }

    func testOptionalNestedModelsAreBoxedSoAbsentOnesCostAPointer() {
        // Inline, Container was several kilobytes (three probes, lifecycle, security context, resources).
        XCTAssertEqual(MemoryLayout<Boxed<Probe>>.size, MemoryLayout<Int>.size)
        XCTAssertGreaterThan(MemoryLayout<Probe?>.size, 8 * MemoryLayout<Boxed<Probe>>.size)
        XCTAssertLessThanOrEqual(MemoryLayout<Container>.stride, 512)
        XCTAssertLessThanOrEqual(MemoryLayout<Pod>.stride, 2048)
        XCTAssertLessThanOrEqual(MemoryLayout<ObjectMeta>.stride, 512)
    }

    func testBoxedFieldsKeepValueSemantics() throws {
        var pod = try Pod(json: try JSON.parse(Self.benchPod(1)))
        let copy = pod
        pod.spec.containers[0].resources?.requests["cpu"] = try Quantity(parsing: "20m")
        pod.spec.securityContext?.runAsUser = 1000
        XCTAssertEqual(copy.spec.containers[0].resources?.requests["cpu"], try Quantity(parsing: "10m"))
        XCTAssertNil(copy.spec.securityContext?.runAsUser)
        XCTAssertEqual(pod.spec.securityContext?.runAsUser, 1000)
        XCTAssertNotEqual(pod, copy)
        XCTAssertEqual(try Pod(json: copy.toJSON()), copy)
    }

    func testBytesPerCachedBenchPod() throws {
        let count = 2000
        let full = try Self.bytesPerPod(count: count) { $0 }
        let stripped = try Self.bytesPerPod(count: count) { StripManagedFields().transform($0) }
        print(
            "pod memory: Pod stride \(MemoryLayout<Pod>.stride) B, Container \(MemoryLayout<Container>.stride) B;"
                + " cached pod \(full) B with managedFields, \(stripped) B without")
        XCTAssertLessThan(stripped, full, "managedFields are a large share of a pod")
        XCTAssertLessThan(
            stripped, 3_000, "a cached bench pod stays small (its repeated values and nested models shared)")
    }
}
