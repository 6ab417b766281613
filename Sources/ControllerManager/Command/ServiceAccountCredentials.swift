import APIMachinery
import Client
import Foundation
import Logging

/// `--use-service-account-credentials`: each controller acts as its own `kube-system` service account, with a
/// token from the TokenRequest API that is renewed before it expires (upstream's dynamic controller client builder).
struct ServiceAccountCredentials: Sendable {
    /// Upstream asks for one-hour tokens and renews them once 80% of their life is over.
    static let requestedLifetime = 3600
    static let renewAt = 0.8

    let client: RESTClient
    let time: any TimeSource
    let logger: Logger

    /// A configuration for `serviceAccount` based on the manager's: same server and CA, the account's token
    /// instead of the manager's credentials. The account is created if missing, as upstream does.
    func configuration(
        for serviceAccount: String, from base: ClientConfiguration
    ) async throws -> (ClientConfiguration, token: DynamicToken, expires: Date) {
        try await ensureServiceAccount(serviceAccount)
        let (token, expires) = try await requestToken(serviceAccount)
        var configuration = base
        configuration.clientCertificatePEM = nil
        configuration.clientKeyPEM = nil
        configuration.bearerToken = nil
        configuration.bearerTokenFile = nil
        configuration.basicAuthUser = nil
        configuration.basicAuthPassword = nil
        let dynamic = DynamicToken(token)
        configuration.dynamicToken = dynamic
        return (configuration, dynamic, expires)
    }

    /// Renews `token` of `serviceAccount` before each expiry until the task is cancelled; a failed renewal is
    /// retried every ten seconds while the old token lasts.
    func keepRenewing(_ token: DynamicToken, of serviceAccount: String, expires first: Date) async {
        var expires = first
        while !Task.isCancelled {
            let lifetime = max(expires.timeIntervalSince(time.wallNow), 0)
            do {
                try await time.sleep(for: .seconds(max(lifetime * Self.renewAt, 1)))
            } catch {
                return
            }
            while !Task.isCancelled {
                do {
                    let (fresh, freshExpiry) = try await requestToken(serviceAccount)
                    token.set(fresh)
                    expires = freshExpiry
                    break
                } catch {
                    logger.warning("renewing the token of service account \(serviceAccount): \(error)")
                    do { try await time.sleep(for: .seconds(10)) } catch { return }
                }
            }
        }
    }

    private func ensureServiceAccount(_ name: String) async throws {
        let accounts = ResourceClient<ServiceAccount>(client: client, namespace: "kube-system")
        do {
            _ = try await accounts.get(name)
        } catch let error as StatusError where error.code == 404 {
            var account = ServiceAccount()
            account.metadata.name = name
            account.metadata.namespace = "kube-system"
            do {
                _ = try await accounts.create(account)
            } catch let error as StatusError where error.code == 409 {
                // Another manager created it first.
            }
        }
    }

    private func requestToken(_ serviceAccount: String) async throws -> (String, Date) {
        let request: JSON = [
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "spec": ["expirationSeconds": .int(Int64(Self.requestedLifetime))],
        ]
        let response = try await client.postJSON(
            path: "/api/v1/namespaces/kube-system/serviceaccounts/\(serviceAccount)/token", request)
        guard let token = response["status"]?["token"]?.stringValue, !token.isEmpty else {
            throw ClientError.invalidResponse("the TokenRequest for \(serviceAccount) returned no token")
        }
        let expires =
            response["status"]?["expirationTimestamp"]?.stringValue.flatMap(Timestamp.parse).map {
                Date(timeIntervalSince1970: Double($0))
            } ?? time.wallNow.addingTimeInterval(Double(Self.requestedLifetime))
        return (token, expires)
    }
}
