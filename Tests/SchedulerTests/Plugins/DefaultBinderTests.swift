import XCTest

@testable import Scheduler

final class DefaultBinderTests: XCTestCase {
    func testWithoutAClientBindingIsAnError() async {
        let status = await DefaultBinder(client: nil).bind(
            state: CycleState(), pod: PodInfo(Fixtures.pod("p")), nodeName: "n")
        XCTAssertEqual(status.verdict, "error: DefaultBinder has no API client")
    }
}
