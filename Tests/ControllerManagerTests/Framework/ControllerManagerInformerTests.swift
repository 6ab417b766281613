import Client
import Component
import Logging
import XCTest

@testable import ControllerManager

/// The controller-manager's shared informers cache objects as upstream's do: without `managedFields`.
final class ControllerManagerInformerTests: XCTestCase {
    func testSharedInformersStripManagedFields() throws {
        var flags = FlagSet(ControllerManagerCommand.flags)
        try flags.parse(["--master=http://127.0.0.1:1", "--leader-elect=false"])
        let setup = try Setup(flags: flags, logger: Logger(label: "test"))
        let transform = try XCTUnwrap(setup.informers.transform, "the factory has a transform")
        let pod = Pod(
            metadata: ObjectMeta(
                managedFields: [ManagedFieldsEntry(manager: "kube-controller-manager", operation: "Update")],
                name: "web-1", namespace: "default"),
            spec: PodSpec(containers: [Container(name: "nginx", image: "nginx")]))
        let cached = transform.transform(pod)
        XCTAssertEqual(cached.metadata.managedFields, [])
        XCTAssertEqual(cached.metadata.name, "web-1", "the rest is kept")
        XCTAssertEqual(cached.spec.containers.first?.image, "nginx")
    }
}
