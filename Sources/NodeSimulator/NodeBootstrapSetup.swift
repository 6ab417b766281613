import APIMachinery
public import Client
import Foundation
public import Logging

/// A bootstrap token (`<id>.<secret>`, `[a-z0-9]{6}.[a-z0-9]{16}`), as kubeadm makes them.
public struct BootstrapToken: Sendable, Hashable, CustomStringConvertible {
    public let id: String
    public let secret: String

    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")

    /// Reads `<id>.<secret>`; nil for anything else (the guide's static token, say).
    public init?(parsing text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 6, parts[1].count == 16,
            parts.joined().allSatisfy(Self.alphabet.contains)
        else { return nil }
        id = String(parts[0])
        secret = String(parts[1])
    }

    /// A fresh random token.
    public static func random() -> BootstrapToken {
        var generator = SystemRandomNumberGenerator()
        func word(_ count: Int) -> String {
            String((0..<count).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
        }
        return BootstrapToken(id: word(6), secret: word(16))
    }

    private init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }

    /// The bearer token.
    public var description: String { "\(id).\(secret)" }

    /// The `kube-system/bootstrap-token-<id>` Secret the API server's bootstrap authenticator checks, usable
    /// for authentication (and for signing cluster-info) and without expiry.
    public var secretObject: Secret {
        let data = [
            "token-id": id, "token-secret": secret, "usage-bootstrap-authentication": "true",
            "usage-bootstrap-signing": "true", "description": "Simulated nodes' TLS bootstrap (kubeswift).",
        ].mapValues { Data($0.utf8).base64EncodedString() }
        var object = Secret(metadata: ObjectMeta(name: "bootstrap-token-" + id, namespace: "kube-system"))
        object.type = "bootstrap.kubernetes.io/token"
        object.data = data
        return object
    }
}

/// What the cluster needs before nodes can join by themselves, made idempotently at start: the bootstrap
/// token's Secret and the bindings kubeadm makes (bootstrappers may file node requests and have them
/// auto-approved; nodes may have their renewals auto-approved).
public enum NodeBootstrapSetup {
    /// A ClusterRoleBinding: its name, role and subjects.
    public struct Binding: Sendable, Hashable {
        public var name: String
        public var role: String
        public var subjects: [Subject]
    }

    /// A binding's subject: `Group` or `User`, and its name.
    public struct Subject: Sendable, Hashable {
        public var kind: String
        public var name: String
    }

    /// kubeadm's three bindings under this project's names. The guide's static bootstrap user
    /// (`kubelet-bootstrap` in `token.csv`) is bound beside the bootstrap-token group, so either kind of
    /// bootstrap kubeconfig joins.
    public static let bindings: [Binding] = {
        let bootstrappers = [
            Subject(kind: "Group", name: "system:bootstrappers"), Subject(kind: "User", name: "kubelet-bootstrap"),
        ]
        return [
            Binding(name: "kubeswift:kubelet-bootstrap", role: "system:node-bootstrapper", subjects: bootstrappers),
            Binding(
                name: "kubeswift:node-autoapprove-bootstrap",
                role: "system:certificates.k8s.io:certificatesigningrequests:nodeclient", subjects: bootstrappers),
            Binding(
                name: "kubeswift:node-autoapprove-certificate-rotation",
                role: "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
                subjects: [Subject(kind: "Group", name: "system:nodes")]),
        ]
    }()

    /// Creates what is missing, through `client` (an administrator's): `token`'s Secret when given, and the
    /// bindings. Objects that exist are left as they are.
    public static func ensure(client: RESTClient, token: BootstrapToken?, logger: Logger) async throws {
        if let token {
            do {
                _ = try await ResourceClient<Secret>(client: client, logger: logger).create(token.secretObject)
                logger.info("created bootstrap token", metadata: ["secret": "kube-system/bootstrap-token-\(token.id)"])
            } catch let error as StatusError where error.statusReason == .alreadyExists {}
        }
        for binding in bindings {
            do {
                _ = try await client.postJSON(
                    path: "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", json(binding))
                logger.info("created cluster role binding", metadata: ["name": "\(binding.name)"])
            } catch let error as StatusError where error.statusReason == .alreadyExists {}
        }
    }

    static func json(_ binding: Binding) -> JSON {
        let subjects = binding.subjects.map { subject -> JSON in
            ["apiGroup": "rbac.authorization.k8s.io", "kind": .string(subject.kind), "name": .string(subject.name)]
        }
        return [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": ["name": .string(binding.name)],
            "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": .string(binding.role)],
            "subjects": .array(subjects),
        ]
    }
}
