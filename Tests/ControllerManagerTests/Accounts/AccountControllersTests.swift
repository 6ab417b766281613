import APIMachinery
import Client
import Foundation
import XCTest

@testable import ControllerManager

final class RootCAPublishingTests: XCTestCase {
    func testTheConfigMapIsCreatedRestoredOrLeftAlone() throws {
        let ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
        guard case .create(let created) = RootCACertificatePublisher.action(namespace: "ns", existing: nil, rootCA: ca)
        else { return XCTFail("a missing ConfigMap is created") }
        XCTAssertEqual(created.metadata.name, "kube-root-ca.crt")
        XCTAssertEqual(created.metadata.namespace, "ns")
        XCTAssertEqual(created.data, ["ca.crt": ca])
        XCTAssertEqual(
            created.metadata.annotations["kubernetes.io/description"], RootCACertificatePublisher.description)

        XCTAssertEqual(RootCACertificatePublisher.action(namespace: "ns", existing: created, rootCA: ca), .none)
        var edited = created
        edited.data["ca.crt"] = "tampered"
        edited.data["extra"] = "x"
        XCTAssertEqual(
            RootCACertificatePublisher.action(namespace: "ns", existing: edited, rootCA: ca), .update(created))
        var undescribed = created
        undescribed.metadata.annotations = ["other": "kept"]
        guard
            case .update(let described) = RootCACertificatePublisher.action(
                namespace: "ns", existing: undescribed, rootCA: ca)
        else { return XCTFail("a missing description is put back") }
        XCTAssertEqual(described.metadata.annotations["other"], "kept")
        XCTAssertEqual(
            described.metadata.annotations["kubernetes.io/description"], RootCACertificatePublisher.description)
    }
}

final class LegacyTokenTests: XCTestCase {
    func testATokenSecretLacksWhatIsEmpty() {
        var secret = Secret()
        XCTAssertTrue(TokensController.missing(secret, rootCA: "CA") == (true, true, true))
        XCTAssertTrue(TokensController.missing(secret, rootCA: "") == (false, true, true), "no CA to give")
        secret.data = [
            "ca.crt": Data("CA".utf8).base64EncodedString(), "namespace": Data("ns".utf8).base64EncodedString(),
            "token": Data("t".utf8).base64EncodedString(),
        ]
        XCTAssertTrue(TokensController.missing(secret, rootCA: "CA") == (false, false, false))
        XCTAssertTrue(TokensController.missing(secret, rootCA: "new CA") == (true, false, false))
    }

    func testASecretIsTheTokenOfTheAccountItNames() {
        var secret = Secret(type: "kubernetes.io/service-account-token")
        secret.metadata.annotations = ["kubernetes.io/service-account.name": "builder"]
        XCTAssertTrue(TokensController.isToken(secret, of: "builder", uid: "u1"))
        XCTAssertFalse(TokensController.isToken(secret, of: "other", uid: "u1"))
        secret.metadata.annotations["kubernetes.io/service-account.uid"] = "u2"
        XCTAssertFalse(TokensController.isToken(secret, of: "builder", uid: "u1"), "an older namesake's token")
        secret.type = "Opaque"
        XCTAssertFalse(TokensController.isToken(secret, of: "builder", uid: "u2"))
    }

    func testAPrivateKeyIsFoundAmongOtherPEMBlocksAndItsKeyIDIsUpstreams() throws {
        XCTAssertThrowsError(
            try LegacyTokenSigner(pem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"))
        XCTAssertEqual(
            LegacyTokenSigner.keyID(publicKeyDER: Data("abc".utf8)), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0")
    }
}

/// The serviceaccount, root-ca-cert-publisher and serviceaccount-token controllers against the in-process API
/// server. Until the API server's stand-in (`ServiceAccountBootstrap`) is removed it also restores the default
/// account and the CA ConfigMap; the controllers publish the same CA file, so the two never fight.
final class AccountControllersTests: XCTestCase {
    func testNamespacesKeepTheirDefaultAccountAndCAAndTokenSecretsAreFilledWithAcceptedTokens() async throws {
        // Cluster-wide, as in the manager: the controllers act on every namespace they see.
        let harness = try await ServicePlumbingHarness(prefix: "accounts", clusterWide: true)
        let context = try harness.context([
            "--root-ca-file=\(harness.pkiDirectory)/ca.pem",
            "--service-account-private-key-file=\(harness.pkiDirectory)/kubernetes-key.pem",
        ])
        let publisher = try XCTUnwrap(try RootCACertificatePublisher.descriptor.make(context))
        let tokens = try XCTUnwrap(try TokensController.descriptor.make(context))
        try await harness.run([ServiceAccountsController(context: context), publisher, tokens])
        defer { Task { await harness.stop() } }
        let accounts = harness.resource(ServiceAccount.self)
        let configMaps = harness.resource(ConfigMap.self)
        let caPEM = try String(contentsOfFile: "\(harness.pkiDirectory)/ca.pem", encoding: .utf8)

        _ = try await harness.eventually("the default account") { try? await accounts.get("default") }
        let first = try await accounts.get("default")
        try await accounts.delete("default")
        _ = try await harness.eventually("the default account recreated") { () -> ServiceAccount? in
            let account = try? await accounts.get("default")
            return account?.metadata.uid != first.metadata.uid ? account : nil
        }

        var configMap = try await harness.eventually("kube-root-ca.crt") {
            try? await configMaps.get("kube-root-ca.crt")
        }
        XCTAssertEqual(configMap.data["ca.crt"], caPEM)
        configMap.data["ca.crt"] = "tampered"
        _ = try await configMaps.update(configMap)
        _ = try await harness.eventually("kube-root-ca.crt restored") { () -> Bool? in
            let restored = try? await configMaps.get("kube-root-ca.crt")
            return restored?.data["ca.crt"] == caPEM
                && restored?.metadata.annotations["kubernetes.io/description"] == RootCACertificatePublisher.description
                ? true : nil
        }

        var builder = ServiceAccount()
        builder.metadata.name = "builder"
        builder = try await accounts.create(builder)
        var secret = Secret(type: "kubernetes.io/service-account-token")
        secret.metadata.name = "builder-token"
        secret.metadata.annotations = ["kubernetes.io/service-account.name": "builder"]
        _ = try await harness.resource(Secret.self).create(secret)
        let filled = try await harness.eventually("the token Secret filled") { () -> Secret? in
            let secret = try? await harness.resource(Secret.self).get("builder-token")
            return (secret?.data["token"] ?? "").isEmpty ? nil : secret
        }
        XCTAssertEqual(filled.data["ca.crt"].flatMap { Data(base64Encoded: $0) }, Data(caPEM.utf8))
        XCTAssertEqual(filled.data["namespace"].flatMap { Data(base64Encoded: $0) }, Data(harness.namespace.utf8))
        XCTAssertEqual(filled.metadata.annotations["kubernetes.io/service-account.uid"], builder.metadata.uid)
        let token = try XCTUnwrap(
            filled.data["token"].flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) })

        // The API server accepts the token as the service account.
        var configuration = harness.client.configuration
        configuration.clientCertificatePEM = nil
        configuration.clientKeyPEM = nil
        configuration.bearerToken = token
        let asBuilder = try RESTClient(configuration: configuration)
        let review = try await asBuilder.postJSON(
            path: "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            ["apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"])
        await asBuilder.shutdown()
        XCTAssertEqual(
            review[path: "status", "userInfo", "username"]?.stringValue,
            "system:serviceaccount:\(harness.namespace):builder")
        XCTAssertEqual(review[path: "status", "userInfo", "uid"]?.stringValue, builder.metadata.uid)

        // The account's deletion takes its token Secret with it.
        try await accounts.delete("builder")
        _ = try await harness.eventually("the token Secret deleted") { () -> Bool? in
            do {
                _ = try await harness.resource(Secret.self).get("builder-token")
                return nil
            } catch let error as StatusError where error.code == 404 {
                return true
            }
        }
    }
}
