import APIMachinery
import Client
import Component
import Foundation
import Operations

/// Upstream's `csrsigning`: signs approved, not-failed requests of the `kubernetes.io/*` signers with the
/// cluster's CA after each signer's checks of subject and usages; a request a signer refuses gets the Failed
/// condition (`SignerValidationFailure`). Runs only when signing files are given.
final class CertificateSigningController: Controller {
    static let descriptor = ControllerDescriptor(
        name: "certificatesigningrequest-signing-controller", aliases: ["csrsigning"],
        serviceAccount: "certificate-controller", flags: SigningAuthorities.flagDefinitions
    ) { context in
        guard
            let authorities = try SigningAuthorities(
                flags: context.flags, duration: context.duration("cluster-signing-duration"))
        else {
            context.logger.info("Skipping CSR signer controller because no csr cert/key was specified")
            return nil
        }
        return CertificateSigningController(context: context, authorities: authorities)
    }

    /// Upstream runs each signer with five workers and no flag to change it.
    static let workers = 5

    let context: ControllerContext
    let authorities: SigningAuthorities
    let requests: CertificateRequestQueue
    let client: ResourceClient<CertificateSigningRequest>

    init(context: ControllerContext, authorities: SigningAuthorities) {
        self.context = context
        self.authorities = authorities
        requests = CertificateRequestQueue(name: "csrsigning", context: context)
        client = ResourceClient(client: context.client)
    }

    func run(workers: Int) async {
        await requests.run(workers: Self.workers, logger: context.logger) { request in
            try await self.handle(request)
        }
    }

    /// Signs `request` when it is approved, not failed and for a signer this controller runs.
    func handle(_ request: CertificateSigningRequest) async throws {
        guard request.isApproved, !request.hasTrueCondition("Failed"),
            let authority = authorities.authorities[request.spec.signerName ?? ""]
        else { return }
        let name = request.metadata.name ?? ""
        let facts: CertificateRequestFacts
        do {
            facts = try CertificateRequestFacts(pem: request.requestPEM)
        } catch {
            throw CertificateControllerError("unable to parse csr \"\(name)\": \(error)")
        }
        let now = context.time.wallNow
        var updated = request
        if let problem = CertificateRequestRules.signerRejection(
            signerName: request.spec.signerName ?? "", facts: facts, usages: request.spec.usages)
        {
            updated.status.conditions.append(
                CertificateSigningRequestCondition(
                    type: "Failed", status: "True",
                    lastUpdateTime: Timestamp.format(epochSeconds: Int64(now.timeIntervalSince1970)),
                    message: problem, reason: "SignerValidationFailure"))
            do {
                _ = try await client.updateStatus(updated)
            } catch {
                throw CertificateControllerError("error adding failure condition for csr: \(error)")
            }
            return
        }
        let certificatePEM: String
        do {
            certificatePEM = try CertificateIssuing.sign(
                facts, usages: request.spec.usages,
                lifetime: CertificateRequestRules.lifetime(
                    expirationSeconds: request.spec.expirationSeconds, maximum: authorities.maximumLifetime),
                by: authority, now: now)
        } catch {
            throw CertificateControllerError("error auto signing csr: \(error)")
        }
        updated.status.certificate = Base64Field.encode(Array(certificatePEM.utf8))
        do {
            _ = try await client.updateStatus(updated)
        } catch {
            throw CertificateControllerError("error updating signature for csr: \(error)")
        }
    }
}

/// A CSR controller's failure, in upstream's words; the request is retried with backoff.
struct CertificateControllerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
