import APIMachinery
public import Authorization

/// An admission plugin that asks the authorizer. The server hands it its authorizer once at start-up, as
/// upstream's plugin initializer does for plugins that implement `WantsAuthorizer`.
protocol WantsAuthorizer: AdmissionPlugin {
    func with(authorizer: any Authorizer) -> any AdmissionPlugin
}

extension AdmissionChain {
    /// The chain with every plugin that wants one given `authorizer`.
    public func authorized(by authorizer: any Authorizer) -> AdmissionChain {
        AdmissionChain(plugins: plugins.map { ($0 as? any WantsAuthorizer)?.with(authorizer: authorizer) ?? $0 })
    }
}

/// What the three certificate plugins share: which writes they look at and upstream's signer check.
enum CertificateAdmission {
    static let requests = GroupResource(group: "certificates.k8s.io", resource: "certificatesigningrequests")

    /// Upstream's `IsAuthorizedForSignerName`: `verb` on `signers` named the signer, or its `<domain>/*`.
    static func allows(_ authorizer: (any Authorizer)?, user: UserInfo?, verb: String, signerName: String) -> Bool {
        guard let authorizer, let user else { return false }
        func allowed(_ name: String) -> Bool {
            authorizer.authorize(
                Attributes(
                    user: user, verb: verb, apiGroup: "certificates.k8s.io", resource: "signers", name: name)
            ).isAllowed
        }
        let domain = signerName.split(separator: "/", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return allowed(signerName) || allowed(domain + "/*")
    }
}

/// `CertificateApproval`: approving or denying a request needs `approve` on its signer.
struct CertificateApproval: WantsAuthorizer {
    var name: String { "CertificateApproval" }
    var authorizer: (any Authorizer)?

    func with(authorizer: any Authorizer) -> any AdmissionPlugin { CertificateApproval(authorizer: authorizer) }

    func validate(_ attributes: AdmissionAttributes, object: JSON, context: RegistryContext) async throws {
        guard attributes.resource == CertificateAdmission.requests, attributes.subresource == "approval",
            attributes.operation == .update
        else { return }
        let signerName = object["spec"]?["signerName"]?.stringValue ?? ""
        if !CertificateAdmission.allows(authorizer, user: attributes.user, verb: "approve", signerName: signerName) {
            throw attributes.forbidden("user not permitted to approve requests with signerName \"\(signerName)\"")
        }
    }
}

/// `CertificateSigning`: writing a certificate or a condition through `status` needs `sign` on the signer.
struct CertificateSigning: WantsAuthorizer {
    var name: String { "CertificateSigning" }
    var authorizer: (any Authorizer)?

    func with(authorizer: any Authorizer) -> any AdmissionPlugin { CertificateSigning(authorizer: authorizer) }

    func validate(_ attributes: AdmissionAttributes, object: JSON, context: RegistryContext) async throws {
        guard attributes.resource == CertificateAdmission.requests, attributes.subresource == "status",
            attributes.operation == .update, let old = attributes.oldObject
        else { return }
        if old["status"]?["certificate"] == object["status"]?["certificate"],
            old["status"]?["conditions"] == object["status"]?["conditions"]
        {
            return
        }
        let signerName = old["spec"]?["signerName"]?.stringValue ?? ""
        if !CertificateAdmission.allows(authorizer, user: attributes.user, verb: "sign", signerName: signerName) {
            throw attributes.forbidden("user not permitted to sign requests with signerName \"\(signerName)\"")
        }
    }
}

/// `CertificateSubjectRestriction`: nobody asks the API server's client signer for a `system:masters` certificate.
struct CertificateSubjectRestriction: AdmissionPlugin {
    var name: String { "CertificateSubjectRestriction" }
    static let kubeAPIServerClientSigner = "kubernetes.io/kube-apiserver-client"

    func validate(_ attributes: AdmissionAttributes, object: JSON, context: RegistryContext) async throws {
        guard attributes.resource == CertificateAdmission.requests, attributes.subresource.isEmpty,
            attributes.operation == .create,
            object["spec"]?["signerName"]?.stringValue == Self.kubeAPIServerClientSigner
        else { return }
        let pem = CertificateSigningRequestStrategy.bytes(object["spec"]?["request"]?.stringValue ?? "")
        switch CertificatePEM.parseRequest(pem) {
        case .failure(let error):
            throw APIError.internalError("failed to parse CSR: \(error.message)")
        case .success(let request):
            if CertificatePEM.organizations(of: request).contains("system:masters") {
                throw attributes.forbidden(
                    "use of \(Self.kubeAPIServerClientSigner) signer with system:masters group is not allowed",
                    object: object)
            }
        }
    }
}
