import APIMachinery
import Client
import Foundation

/// Upstream's `csrcleaner`: every hour, deletes requests that are done with — issued more than an hour after
/// approval, denied or failed for an hour, pending for a day — and requests whose issued certificate has expired.
final class CertificateCleanerController: Controller {
    static let descriptor = ControllerDescriptor(
        name: "certificatesigningrequest-cleaner-controller", aliases: ["csrcleaner"],
        serviceAccount: "certificate-controller"
    ) { context in CertificateCleanerController(context: context) }

    static let pollingInterval: Duration = .seconds(3600)

    let context: ControllerContext
    let requests: Lister<CertificateSigningRequest>
    let client: ResourceClient<CertificateSigningRequest>

    init(context: ControllerContext) {
        self.context = context
        requests = context.informers.lister(for: CertificateSigningRequest.self)
        client = ResourceClient(client: context.client)
    }

    func run(workers: Int) async {
        while !Task.isCancelled {
            await cleanOnce()
            do { try await context.time.sleep(for: Self.pollingInterval) } catch { return }
        }
    }

    /// One pass over every cached request; a failed delete is logged and tried again on the next pass.
    func cleanOnce() async {
        let now = context.time.wallNow
        for request in requests.list() {
            guard let reason = CertificateRequestCleanup.reasonToDelete(request, now: now) else { continue }
            let name = request.metadata.name ?? ""
            context.logger.info("Cleaning CSR \(name): \(reason)")
            do {
                try await client.delete(name)
            } catch let error as StatusError where error.code == 404 {
                continue
            } catch {
                context.logger.error("unable to delete CSR \"\(name)\": \(error)")
            }
        }
    }
}

/// When upstream's cleaner deletes a request.
enum CertificateRequestCleanup {
    static let approvedExpiration: TimeInterval = 3600
    static let deniedExpiration: TimeInterval = 3600
    static let pendingExpiration: TimeInterval = 24 * 3600

    /// Why `request` is to be deleted at `now`, or nil to keep it.
    static func reasonToDelete(_ request: CertificateSigningRequest, now: Date) -> String? {
        let issued = !(request.status.certificate ?? "").isEmpty
        for condition in request.status.conditions {
            let updated = condition.lastUpdateTime
            switch condition.type {
            case "Approved" where issued && isOlder(updated, than: approvedExpiration, now: now):
                return "issued more than an hour ago"
            case "Denied" where isOlder(updated, than: deniedExpiration, now: now):
                return "denied more than an hour ago"
            case "Failed" where isOlder(updated, than: deniedExpiration, now: now):
                return "failed more than an hour ago"
            default: continue
            }
        }
        // A request without conditions is what kubectl shows as Pending.
        if request.status.conditions.isEmpty,
            isOlder(request.metadata.creationTimestamp, than: pendingExpiration, now: now)
        {
            return "pending for more than a day"
        }
        if request.hasCondition("Approved"), issued,
            let expiry = CertificateIssuing.expiry(ofCertificatePEM: request.certificatePEM), now > expiry
        {
            return "the associated certificate is expired"
        }
        return nil
    }

    /// Upstream's `isOlderThan`: a missing time is never old.
    static func isOlder(_ timestamp: String?, than age: TimeInterval, now: Date) -> Bool {
        guard let timestamp, let seconds = Timestamp.parse(timestamp) else { return false }
        return now.timeIntervalSince1970 - TimeInterval(seconds) > age
    }
}
