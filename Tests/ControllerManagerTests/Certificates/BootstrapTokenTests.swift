import APIMachinery
import Client
import Foundation
import XCTest

@testable import ControllerManager

/// Bootstrap-token Secrets as the signer and the cleaner read them, the detached JWS, and re-signing cluster-info.
final class BootstrapTokenTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func secret(
        id: String = "abcdef", nameID: String? = nil, tokenSecret: String = "0123456789abcdef",
        signing: String? = "true",
        expiration: String? = nil, type: String = BootstrapTokenSecret.secretType
    ) -> Secret {
        var secret = Secret()
        secret.metadata.name = "bootstrap-token-" + (nameID ?? id)
        secret.metadata.namespace = "kube-system"
        secret.type = type
        var data = ["token-id": id, "token-secret": tokenSecret]
        data["usage-bootstrap-signing"] = signing
        data["expiration"] = expiration
        secret.data = data.mapValues { Data($0.utf8).base64EncodedString() }
        return secret
    }

    func testDetachedSignatureMatchesAnIndependentlyComputedVector() {
        // Computed outside Swift from RFC 7515: BASE64URL(header) || "." || BASE64URL(payload), HMAC-SHA256 keyed
        // by the token secret, the payload then left out (appendix F).
        let signature = DetachedJWS.sign(
            content: "apiVersion: v1\nclusters: []\n", tokenID: "abcdef", tokenSecret: "0123456789abcdef")
        XCTAssertEqual(
            signature, "eyJhbGciOiJIUzI1NiIsImtpZCI6ImFiY2RlZiJ9..BBvDJAkf27s1H4CVEm8EIMiBR80uZHSN_IM4Siy8zsU")
    }

    func testWhichSecretsMaySign() {
        let future = Timestamp.format(epochSeconds: Int64(now.timeIntervalSince1970) + 60)
        let past = Timestamp.format(epochSeconds: Int64(now.timeIntervalSince1970) - 60)
        let cases: [(String, Secret, Bool)] = [
            ("usable", Self.secret(), true),
            ("not yet expired", Self.secret(expiration: future), true),
            ("expired", Self.secret(expiration: past), false),
            ("unparsable expiry counts as expired", Self.secret(expiration: "tomorrow"), false),
            ("not for signing", Self.secret(signing: "false"), false),
            ("no signing usage", Self.secret(signing: nil), false),
            ("id differs from name", Self.secret(nameID: "zzzzzz"), false),
            ("not a token", Self.secret(type: "Opaque"), false),
            ("empty secret", Self.secret(tokenSecret: ""), false),
            ("bad id", Self.secret(id: "ABCDEF"), false),
        ]
        for (name, secret, usable) in cases {
            XCTAssertEqual(BootstrapTokenSecret(secret).signingToken(now: now) != nil, usable, name)
        }
    }

    func testExpiration() {
        let token = BootstrapTokenSecret(
            Self.secret(expiration: Timestamp.format(epochSeconds: Int64(now.timeIntervalSince1970) + 90)))
        XCTAssertEqual(token.expiration(now: now).remaining, 90)
        XCTAssertFalse(token.expiration(now: now).expired)
        XCTAssertTrue(token.expiration(now: now.addingTimeInterval(90)).expired)
        XCTAssertFalse(BootstrapTokenSecret(Self.secret()).expiration(now: now).expired)
    }

    func testClusterInfoIsSignedOncePerTokenAndStaleSignaturesGo() throws {
        var configMap = ConfigMap()
        configMap.data = ["kubeconfig": "apiVersion: v1\nclusters: []\n", "jws-kubeconfig-gone00": "old"]
        let signed = try XCTUnwrap(
            BootstrapSignerController.signed(configMap, tokens: ["abcdef": "0123456789abcdef"]))
        XCTAssertEqual(
            signed.data,
            [
                "kubeconfig": "apiVersion: v1\nclusters: []\n",
                "jws-kubeconfig-abcdef":
                    "eyJhbGciOiJIUzI1NiIsImtpZCI6ImFiY2RlZiJ9..BBvDJAkf27s1H4CVEm8EIMiBR80uZHSN_IM4Siy8zsU",
            ])
        XCTAssertNil(BootstrapSignerController.signed(signed, tokens: ["abcdef": "0123456789abcdef"]))
        XCTAssertEqual(BootstrapSignerController.signed(signed, tokens: [:])?.data.count, 1)
        XCTAssertNil(BootstrapSignerController.signed(ConfigMap(), tokens: ["abcdef": "0123456789abcdef"]))
    }
}
