import Client
import Foundation

extension TokensController {
    /// Deletes the token Secrets of an account that no longer exists.
    func syncAccount(_ key: AccountKey) async throws {
        guard try await account(namespace: key.namespace, name: key.name, uid: key.uid, fetchOnMiss: false) == nil
        else { return }
        for secret in secrets.list(namespace: key.namespace) where Self.isToken(secret, of: key.name, uid: key.uid) {
            try await deleteSecret(
                namespace: key.namespace, name: secret.metadata.name ?? "", uid: secret.metadata.uid ?? "")
        }
    }

    /// Fills a token Secret, deletes it if its account is gone, or, when the Secret itself is gone, drops
    /// it from its account's `secrets`.
    func syncSecret(_ key: SecretKey) async throws {
        guard let secret = secrets.get(namespace: key.namespace, name: key.name), secret.metadata.uid == key.uid
        else {
            try await removeReference(key)
            return
        }
        guard !key.account.isEmpty else { return }
        guard
            let account = try await account(
                namespace: key.namespace, name: key.account, uid: key.accountUID, fetchOnMiss: true)
        else {
            try await deleteSecret(namespace: key.namespace, name: key.name, uid: key.uid)
            return
        }
        try await fillIfNeeded(secret, account: account)
    }

    /// What a token Secret lacks: the CA (when there is one to give), its namespace, its token.
    static func missing(_ secret: Secret, rootCA: String) -> (ca: Bool, namespace: Bool, token: Bool) {
        let ca = secret.data["ca.crt"].flatMap { Data(base64Encoded: $0) }
        return (
            ca: !rootCA.isEmpty && ca != Data(rootCA.utf8),
            namespace: (secret.data["namespace"] ?? "").isEmpty,
            token: (secret.data["token"] ?? "").isEmpty
        )
    }

    /// Writes what the Secret lacks into a fresh copy of it; a copy newer than the cache's is left to the
    /// update event that is on its way.
    private func fillIfNeeded(_ cached: Secret, account: ServiceAccount) async throws {
        let needs = Self.missing(cached, rootCA: rootCA)
        guard needs.ca || needs.namespace || needs.token else { return }
        let namespace = cached.metadata.namespace ?? ""
        let client = ResourceClient<Secret>(client: context.client, namespace: namespace)
        var live: Secret
        do {
            live = try await client.get(cached.metadata.name ?? "")
        } catch let error as StatusError where error.code == 404 {
            return
        }
        guard live.metadata.resourceVersion == cached.metadata.resourceVersion else { return }
        let liveNeeds = Self.missing(live, rootCA: rootCA)
        guard liveNeeds.ca || liveNeeds.namespace || liveNeeds.token else { return }
        if liveNeeds.ca { live.data["ca.crt"] = Data(rootCA.utf8).base64EncodedString() }
        if liveNeeds.namespace { live.data["namespace"] = Data(namespace.utf8).base64EncodedString() }
        if liveNeeds.token {
            let claims = LegacyServiceAccountClaims(
                namespace: namespace, secretName: live.metadata.name ?? "",
                serviceAccountName: account.metadata.name ?? "", serviceAccountUID: account.metadata.uid ?? "")
            live.data["token"] = Data(try await signer.sign(claims).utf8).base64EncodedString()
        }
        live.metadata.annotations[Self.accountNameAnnotation] = account.metadata.name
        live.metadata.annotations[Self.accountUIDAnnotation] = account.metadata.uid
        do {
            _ = try await client.update(live)
        } catch let error as StatusError where error.code == 409 || error.code == 404 {
            // Changed meanwhile (its update event brings it back) or gone.
        }
    }

    /// The account `name` in `namespace` if it exists with `uid` (any uid when empty): from the cache, else,
    /// when `fetchOnMiss`, from the server.
    private func account(namespace: String, name: String, uid: String, fetchOnMiss: Bool) async throws
        -> ServiceAccount?
    {
        if let cached = accounts.get(namespace: namespace, name: name), uid.isEmpty || cached.metadata.uid == uid {
            return cached
        }
        guard fetchOnMiss else { return nil }
        do {
            let live = try await ResourceClient<ServiceAccount>(client: context.client, namespace: namespace).get(name)
            return uid.isEmpty || live.metadata.uid == uid ? live : nil
        } catch let error as StatusError where error.code == 404 {
            return nil
        }
    }

    /// Upstream's `IsServiceAccountToken`: a token Secret naming the account (and its uid, when it records one).
    static func isToken(_ secret: Secret, of account: String, uid: String) -> Bool {
        guard secret.type == tokenType, secret.metadata.annotations[accountNameAnnotation] == account else {
            return false
        }
        let recorded = secret.metadata.annotations[accountUIDAnnotation] ?? ""
        return recorded.isEmpty || recorded == uid
    }

    /// Deletes the Secret if it is still the one with `uid`.
    private func deleteSecret(namespace: String, name: String, uid: String) async throws {
        var options = DeleteOptions()
        options.preconditions = Preconditions(uid: uid)
        do {
            try await ResourceClient<Secret>(client: context.client, namespace: namespace).delete(
                name, options: options)
        } catch let error as StatusError where error.code == 404 || error.code == 409 {
            // Gone already, or replaced by a namesake that is not ours to delete.
        }
    }

    /// Drops a deleted Secret from its account's `secrets`.
    private func removeReference(_ key: SecretKey) async throws {
        guard !key.account.isEmpty,
            let cached = accounts.get(namespace: key.namespace, name: key.account),
            cached.secrets.contains(where: { $0.name == key.name })
        else { return }
        let client = ResourceClient<ServiceAccount>(client: context.client, namespace: key.namespace)
        var account: ServiceAccount
        do {
            account = try await client.get(key.account)
        } catch let error as StatusError where error.code == 404 {
            return
        }
        guard key.accountUID.isEmpty || account.metadata.uid == key.accountUID,
            account.secrets.contains(where: { $0.name == key.name })
        else { return }
        account.secrets.removeAll { $0.name == key.name }
        do {
            _ = try await client.update(account)
        } catch let error as StatusError where error.code == 404 {
            return
        }
    }
}
