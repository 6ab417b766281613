import APIMachinery
import Foundation
import Operations
import Storage
import TestSupport
import XCTest

@testable import APIServer

/// The authenticators on their own: token.csv parsing, bootstrap-token checks, service-account tokens.
final class AuthenticationUnitTests: XCTestCase {
    // MARK: token file

    func testTokenFileReadsUpstreamFormat() throws {
        let text = #"""
            # static tokens
            41f7e4ba8b7be874fcff18bf5cf41a7c,kubelet-bootstrap,10001,"system:kubelet-bootstrap"

            abc,alice,1,"dev,ops"
            def,bob,2
            "g,h","carol ""c""",3,
            """#
        let tokens = try TokenFile.parse(text, path: "token.csv")
        XCTAssertEqual(
            tokens["41f7e4ba8b7be874fcff18bf5cf41a7c"],
            UserInfo(name: "kubelet-bootstrap", uid: "10001", groups: ["system:kubelet-bootstrap"]))
        XCTAssertEqual(tokens["abc"], UserInfo(name: "alice", uid: "1", groups: ["dev", "ops"]))
        XCTAssertEqual(tokens["def"], UserInfo(name: "bob", uid: "2", groups: []))
        XCTAssertEqual(tokens["g,h"], UserInfo(name: "carol \"c\"", uid: "3", groups: []))
        XCTAssertEqual(tokens.count, 4)
    }

    func testMalformedTokenFileNamesTheLine() {
        let cases: [(String, String)] = [
            (
                "a,b,c\nd,e\n",
                "token file 'f' must have at least 3 columns (token, user name, user uid), found 2 on line 2"
            ),
            ("a,b,c\n\n# x\nd,e\"x,f\n", "token file 'f': parse error on line 4: bare \" in non-quoted field"),
            ("a,b,\"c\n", "token file 'f': parse error on line 1: extraneous or missing \" in quoted-field"),
            ("\"a\"b,c,d\n", "token file 'f': parse error on line 1: extraneous or missing \" in quoted-field"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try TokenFile.parse(text, path: "f"), text) { error in
                XCTAssertEqual((error as? TokenFile.ParseError)?.message, message)
            }
        }
    }

    /// Random records written as a CSV writer would quote them read back exactly; random bytes never crash.
    func testTokenFileRoundTripsRandomRecords() throws {
        var random = SeededRandom(seed: 0x70_6b_65_6e)
        let alphabet = Array("abcXYZ019 ,\"#:-_é")
        func field(_ random: inout SeededRandom, allowEmpty: Bool) -> String {
            let count = Int(random.next() % 8) + (allowEmpty ? 0 : 1)
            return String((0..<count).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
        }
        func quote(_ value: String) -> String { "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        for _ in 0..<300 {
            var expected: [String: UserInfo] = [:]
            var lines: [String] = []
            for _ in 0..<Int(random.next() % 6) {
                var token = field(&random, allowEmpty: false)
                if token.hasPrefix("#") { token = "t" + token }
                let user = field(&random, allowEmpty: true)
                let uid = field(&random, allowEmpty: true)
                let groups = (0..<Int(random.next() % 3)).map { _ in
                    field(&random, allowEmpty: false).replacingOccurrences(of: ",", with: ";")
                }
                lines.append([token, user, uid, groups.joined(separator: ",")].map(quote).joined(separator: ","))
                expected[token] = UserInfo(name: user, uid: uid, groups: groups)
            }
            XCTAssertEqual(try TokenFile.parse(lines.joined(separator: "\n"), path: "f"), expected)
            let noise = String(
                (0..<Int(random.next() % 40)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
            _ = try? TokenFile.parse(noise, path: "f")
        }
    }

    // MARK: bootstrap tokens

    static func bootstrapSecret(id: String, secret: String, extra: [String: String] = [:], type: String? = nil)
        -> JSON
    {
        var data: JSONObject = [:]
        var fields = ["token-id": id, "token-secret": secret, "usage-bootstrap-authentication": "true"]
        fields.merge(extra) { $1 }
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            data[key] = .string(Data(value.utf8).base64EncodedString())
        }
        return [
            "apiVersion": "v1", "kind": "Secret",
            "metadata": ["name": .string("bootstrap-token-\(id)"), "namespace": "kube-system"],
            "type": .string(type ?? BootstrapTokenAuthenticator.secretType), "data": .object(data),
        ]
    }

    func testBootstrapTokenChecks() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        func user(_ secret: JSON, token: (String, String) = ("abcdef", "0123456789abcdef")) -> UserInfo? {
            BootstrapTokenAuthenticator.user(tokenID: token.0, tokenSecret: token.1, secret: secret, now: now)
        }
        XCTAssertEqual(
            user(Self.bootstrapSecret(id: "abcdef", secret: "0123456789abcdef")),
            UserInfo(name: "system:bootstrap:abcdef", groups: ["system:bootstrappers"]))
        XCTAssertEqual(
            user(
                Self.bootstrapSecret(
                    id: "abcdef", secret: "0123456789abcdef",
                    extra: ["auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token"]))?.groups,
            ["system:bootstrappers", "system:bootstrappers:kubeadm:default-node-token"])
        XCTAssertNil(user(Self.bootstrapSecret(id: "abcdef", secret: "0123456789abcdeX")), "wrong secret")
        XCTAssertNil(user(Self.bootstrapSecret(id: "abcdef", secret: "0123456789abcdef", type: "Opaque")))
        XCTAssertNil(
            user(
                Self.bootstrapSecret(
                    id: "abcdef", secret: "0123456789abcdef", extra: ["expiration": "2020-01-01T00:00:00Z"])),
            "expired")
        XCTAssertNotNil(
            user(
                Self.bootstrapSecret(
                    id: "abcdef", secret: "0123456789abcdef", extra: ["expiration": "2030-01-01T00:00:00Z"])))
        XCTAssertNil(
            user(
                Self.bootstrapSecret(
                    id: "abcdef", secret: "0123456789abcdef", extra: ["usage-bootstrap-authentication": "false"])))
        XCTAssertNil(
            user(
                Self.bootstrapSecret(
                    id: "abcdef", secret: "0123456789abcdef", extra: ["auth-extra-groups": "system:masters"])),
            "extra groups outside system:bootstrappers: are refused")
        XCTAssertNil(BootstrapTokenAuthenticator.parse("abcdef.0123456789abcdeF"))
        XCTAssertNil(BootstrapTokenAuthenticator.parse("abcde.0123456789abcdef0"))
        XCTAssertNotNil(BootstrapTokenAuthenticator.parse("abcdef.0123456789abcdef"))
    }

    // MARK: service-account tokens

    /// A service account (and a pod) in a memory store, and a token service over an EC or RSA key.
    struct Fixture {
        let storage = MemoryStore()
        let objects: StoredObjects
        let tokens: ServiceAccountTokens
        let accountUID = "8c3a1b2e-0000-4000-8000-000000000001"

        init(keyAlgorithm: KeyAlgorithm) async throws {
            objects = StoredObjects(storage: storage, prefix: "/registry")
            let authority = try CertificateAuthority.create(keyAlgorithm: keyAlgorithm)
            let keys = try ServiceAccountKey.parse(pem: authority.keyPair.privateKeyPEM)
            XCTAssertEqual(keys.count, 1)
            tokens = try await ServiceAccountTokens(
                issuers: ["https://kubernetes.default.svc.cluster.local"], audiences: [], verificationKeys: keys,
                signingKey: keys.first)
            try await put("serviceaccounts", "default", uid: accountUID)
        }

        func put(_ folder: String, _ name: String, uid: String) async throws {
            let object: JSON = ["metadata": ["name": .string(name), "namespace": "default", "uid": .string(uid)]]
            _ = try await storage.create(key: "/registry/\(folder)/default/\(name)", value: object.encoded(), lease: 0)
        }
    }

    func testServiceAccountTokenRoundTripAndRevocation() async throws {
        for algorithm in [KeyAlgorithm.ecdsaP256, .rsa2048] {
            let fixture = try await Fixture(keyAlgorithm: algorithm)
            let tokens = fixture.tokens
            let issued = try await tokens.issue(
                namespace: "default", serviceAccount: .init(name: "default", uid: fixture.accountUID),
                audiences: tokens.audiences, seconds: 3600)
            let user = await tokens.authenticate(token: issued.token, objects: fixture.objects)
            XCTAssertEqual(user?.name, "system:serviceaccount:default:default")
            XCTAssertEqual(user?.uid, fixture.accountUID)
            XCTAssertEqual(user?.groups, ["system:serviceaccounts", "system:serviceaccounts:default"])
            XCTAssertNotNil(user?.extra["authentication.kubernetes.io/credential-id"])

            // Expired, wrong audience, tampered: not authenticated.
            let later = Date().addingTimeInterval(3601)
            let expiredUser = await tokens.authenticate(token: issued.token, objects: fixture.objects, now: later)
            XCTAssertNil(expiredUser)
            let other = try await tokens.issue(
                namespace: "default", serviceAccount: .init(name: "default", uid: fixture.accountUID),
                audiences: ["vault"], seconds: 3600)
            let otherAudience = await tokens.authenticate(token: other.token, objects: fixture.objects)
            XCTAssertNil(otherAudience)
            var tampered = Array(issued.token)
            tampered[tampered.count - 5] = tampered[tampered.count - 5] == "A" ? "B" : "A"
            let tamperedUser = await tokens.authenticate(token: String(tampered), objects: fixture.objects)
            XCTAssertNil(tamperedUser)

            // A token of a deleted service account stops working.
            _ = try await fixture.storage.delete(
                key: "/registry/serviceaccounts/default/default", expectedRevision: nil)
            let deleted = await tokens.authenticate(token: issued.token, objects: fixture.objects)
            XCTAssertNil(deleted)
        }
    }

    func testPodBoundTokenDiesWithThePod() async throws {
        let fixture = try await Fixture(keyAlgorithm: .ecdsaP256)
        try await fixture.put("pods", "web", uid: "pod-uid-1")
        let issued = try await fixture.tokens.issue(
            namespace: "default", serviceAccount: .init(name: "default", uid: fixture.accountUID),
            audiences: fixture.tokens.audiences, seconds: 3600, pod: .init(name: "web", uid: "pod-uid-1"))
        let user = await fixture.tokens.authenticate(token: issued.token, objects: fixture.objects)
        XCTAssertEqual(user?.extra["authentication.kubernetes.io/pod-name"], ["web"])
        _ = try await fixture.storage.delete(key: "/registry/pods/default/web", expectedRevision: nil)
        try await fixture.put("pods", "web", uid: "pod-uid-2")
        let recreated = await fixture.tokens.authenticate(token: issued.token, objects: fixture.objects)
        XCTAssertNil(recreated, "a pod recreated under the same name has another uid")
    }

    /// Arbitrary strings and mangled JWTs are never authenticated and never crash the verifier.
    func testServiceAccountVerifierRejectsGarbage() async throws {
        let fixture = try await Fixture(keyAlgorithm: .ecdsaP256)
        let issued = try await fixture.tokens.issue(
            namespace: "default", serviceAccount: .init(name: "default", uid: fixture.accountUID),
            audiences: fixture.tokens.audiences, seconds: 3600)
        var random = SeededRandom(seed: 0x6a_77_74)
        let pieces = issued.token.split(separator: ".").map(String.init)
        for _ in 0..<300 {
            var parts = pieces
            let index = Int(random.next() % 3)
            var characters = Array(parts[index])
            // The last base64url character of a part may carry only padding bits, so it is left alone.
            if characters.count > 1 {
                let at = Int(random.next() % UInt64(characters.count - 1))
                characters[at] = Array("AZaz09-_.=")[Int(random.next() % 10)]
            }
            parts[index] = String(characters)
            let token = random.next() % 5 == 0 ? String(characters) : parts.joined(separator: ".")
            guard token != issued.token else { continue }
            let user = await fixture.tokens.authenticate(token: token, objects: fixture.objects)
            XCTAssertNil(user, token)
        }
    }

    func testBearerTokenSchemeIsCaseInsensitiveAndTheTokenTrimmed() {
        XCTAssertEqual(Authenticator.bearerToken("Bearer abc"), "abc")
        XCTAssertEqual(Authenticator.bearerToken("bEaReR   abc  "), "abc")
        XCTAssertEqual(Authenticator.bearerToken(" Bearer abc"), "abc")
        for refused in ["Bearer", "Bearer ", "Bearer    ", "Basic abc", "Bearerx abc", "Bear abc", "", "abc"] {
            XCTAssertNil(Authenticator.bearerToken(refused), refused)
        }
    }

    func testKeyFilesInEveryUpstreamForm() throws {
        let ec = try CertificateAuthority.create(keyAlgorithm: .ecdsaP256)
        let rsa = try CertificateAuthority.create(keyAlgorithm: .rsa2048)
        XCTAssertTrue(try ServiceAccountKey.parse(pem: ec.keyPair.privateKeyPEM)[0].isPrivate)
        XCTAssertTrue(try ServiceAccountKey.parse(pem: rsa.keyPair.privateKeyPEM)[0].isPrivate)
        // A certificate gives its public key, with the same key ID as the private key.
        let fromCertificate = try ServiceAccountKey.parse(pem: rsa.certificatePEM)
        XCTAssertEqual(fromCertificate.count, 1)
        XCTAssertFalse(fromCertificate[0].isPrivate)
        XCTAssertEqual(
            fromCertificate[0].keyID, try ServiceAccountKey.parse(pem: rsa.keyPair.privateKeyPEM)[0].keyID)
        // Several blocks in one file, unknown blocks skipped.
        let bundle = ec.certificatePEM + "\n" + rsa.keyPair.privateKeyPEM
        XCTAssertEqual(try ServiceAccountKey.parse(pem: bundle).count, 2)
    }
}
