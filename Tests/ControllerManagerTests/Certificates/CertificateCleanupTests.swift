import APIMachinery
import Client
import Foundation
import Operations
import XCTest

@testable import ControllerManager

/// When the cleaner deletes a request: upstream's ages for issued, denied, failed and pending requests, and
/// expired certificates.
final class CertificateCleanupTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func stamp(_ secondsAgo: TimeInterval) -> String {
        Timestamp.format(epochSeconds: Int64(now.timeIntervalSince1970 - secondsAgo))
    }

    func request(
        created secondsAgo: TimeInterval, _ conditions: [(String, TimeInterval)], certificate: String? = nil
    ) -> Client.CertificateSigningRequest {
        var request = Client.CertificateSigningRequest()
        request.metadata.name = "r"
        request.metadata.creationTimestamp = stamp(secondsAgo)
        request.status.conditions = conditions.map {
            CertificateSigningRequestCondition(type: $0.0, status: "True", lastUpdateTime: stamp($0.1))
        }
        request.status.certificate = certificate.map { Data($0.utf8).base64EncodedString() }
        return request
    }

    func certificate(expiringIn seconds: TimeInterval) throws -> String {
        let authority = try CertificateAuthority.create(now: now.addingTimeInterval(-86400))
        return try authority.issueClient(user: "u", lifetime: 86400 + seconds, now: now.addingTimeInterval(-86400))
            .certificatePEM
    }

    func testAgesTable() throws {
        let valid = try certificate(expiringIn: 3600)
        let expired = try certificate(expiringIn: -60)
        let minute: TimeInterval = 60
        let hour: TimeInterval = 3600
        let cases: [(String, Client.CertificateSigningRequest, Bool)] = [
            (
                "issued 59 minutes ago", request(created: 2 * hour, [("Approved", 59 * minute)], certificate: valid),
                false
            ),
            (
                "issued 61 minutes ago", request(created: 2 * hour, [("Approved", 61 * minute)], certificate: valid),
                true
            ),
            ("approved long ago, never issued", request(created: 2 * hour, [("Approved", 2 * hour)]), false),
            ("denied 59 minutes ago", request(created: 2 * hour, [("Denied", 59 * minute)]), false),
            ("denied 61 minutes ago", request(created: 2 * hour, [("Denied", 61 * minute)]), true),
            (
                "failed 61 minutes ago", request(created: 2 * hour, [("Approved", 2 * hour), ("Failed", 61 * minute)]),
                true
            ),
            ("pending 23 hours", request(created: 23 * hour, []), false),
            ("pending 25 hours", request(created: 25 * hour, []), true),
            (
                "issued certificate expired",
                request(created: 30 * minute, [("Approved", minute)], certificate: expired), true
            ),
        ]
        for (name, request, deleted) in cases {
            XCTAssertEqual(CertificateRequestCleanup.reasonToDelete(request, now: now) != nil, deleted, name)
        }
    }

    func testConditionWithoutTimeIsNeverOld() {
        var request = request(created: 48 * 3600, [("Denied", 0)])
        request.status.conditions[0].lastUpdateTime = nil
        XCTAssertNil(CertificateRequestCleanup.reasonToDelete(request, now: now))
    }
}
