import Client
import XCTest

/// An informer's transform (client-go's `SetTransform`) applies to listed and watched objects alike, before
/// they reach the cache or a handler.
final class InformerTransformTests: XCTestCase {
    static func configMap(_ name: String, resourceVersion: String) -> ConfigMap {
        ConfigMap(
            data: ["k": "v"],
            metadata: ObjectMeta(
                managedFields: [ManagedFieldsEntry(manager: "kubectl", operation: "Apply")], name: name,
                namespace: "default", resourceVersion: resourceVersion))
    }

    func testStripManagedFieldsDropsThemFromListedAndWatchedObjects() async throws {
        let listWatch = ScriptedListWatch<ConfigMap>()
        let informer = SharedIndexInformer<ConfigMap>(listWatch: listWatch, transform: StripManagedFields())
        let seen = AsyncStream.makeStream(of: ConfigMap.self)
        informer.addEventHandler(
            ResourceEventHandler(
                onAdd: { object, _ in seen.continuation.yield(object) },
                onUpdate: { _, object in seen.continuation.yield(object) }))
        let run = Task { await informer.run() }
        var calls = listWatch.calls.makeAsyncIterator()
        await calls.next()?.respond(
            ListPage(items: [Self.configMap("listed", resourceVersion: "1")], resourceVersion: "1"))
        let watch = await calls.next()?.respondWatch()
        watch?.yield(.added(Self.configMap("watched", resourceVersion: "2")))

        var handled = seen.stream.makeAsyncIterator()
        for name in ["listed", "watched"] {
            let object = await handled.next()
            XCTAssertEqual(object?.metadata.name, name)
            XCTAssertEqual(object?.metadata.managedFields, [])
            XCTAssertEqual(object?.data, ["k": "v"], "the rest is kept")
            XCTAssertEqual(informer.lister.get(namespace: "default", name: name)?.metadata.managedFields, [])
        }
        run.cancel()
        await run.value
    }
}
