import APIMachinery
import Storage

/// `ServiceAccount`: every new pod runs as a service account that exists (`default` unless it names
/// one), and gets that account's API credentials as a projected volume (`kube-api-access-xxxxx`: a bound
/// token, the cluster CA and the namespace) mounted in every container unless the pod or the account opts
/// out, and the account's image pull secrets unless it names its own.
struct ServiceAccountAdmission: AdmissionPlugin {
    var name: String { "ServiceAccount" }

    static let defaultName = "default"
    static let volumePrefix = "kube-api-access-"
    static let mountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
    static let mirrorPodAnnotation = "kubernetes.io/config.mirror"
    /// Upstream's `WarnOnlyBoundTokenExpirationSeconds`: an hour plus seven seconds, so the kubelet's
    /// rotation can be told from a token that was asked for with one hour.
    static let tokenExpirationSeconds: Int64 = 3607
    static let serviceAccounts = GroupResource(group: "", resource: "serviceaccounts")

    /// How long to keep looking for a `default` account that is not there yet: the account is made right
    /// after its namespace, so a pod created at once may arrive first (upstream tries 10 times).
    var defaultAccountAttempts = 10

    func applies(_ attributes: AdmissionAttributes) -> Bool {
        attributes.resource == LimitRanger.pods && attributes.subresource.isEmpty && attributes.operation == .create
    }

    func admit(_ attributes: AdmissionAttributes, object: inout JSON, context: RegistryContext) async throws {
        guard applies(attributes), object["spec"]?.objectValue != nil,
            object.annotations[Self.mirrorPodAnnotation] == nil
        else { return }
        let namespace = attributes.namespace ?? ""
        var accountName = object["spec"]?["serviceAccountName"]?.stringValue ?? ""
        if accountName.isEmpty {
            accountName = Self.defaultName
            object.set(["spec", "serviceAccountName"], to: .string(accountName))
        }
        // v1 keeps the deprecated `serviceAccount` field equal to `serviceAccountName`.
        object.set(["spec", "serviceAccount"], to: .string(accountName))
        let account = try await serviceAccount(
            namespace: namespace, name: accountName, attributes, object: object, context: context)
        let automount =
            object["spec"]?["automountServiceAccountToken"]?.boolValue
            ?? account["automountServiceAccountToken"]?.boolValue ?? true
        if automount { Self.mountToken(into: &object) }
        let pullSecrets = object["spec"]?["imagePullSecrets"]?.arrayValue ?? []
        if pullSecrets.isEmpty, let secrets = account["imagePullSecrets"]?.arrayValue, !secrets.isEmpty {
            object.set(
                ["spec", "imagePullSecrets"],
                to: .array(secrets.map { ["name": $0["name"] ?? .string("")] }))
        }
    }

    func validate(_ attributes: AdmissionAttributes, object: JSON, context: RegistryContext) async throws {
        guard applies(attributes) else { return }
        if object.annotations[Self.mirrorPodAnnotation] != nil {
            try Self.validateMirrorPod(attributes, object)
            return
        }
        let accountName = object["spec"]?["serviceAccountName"]?.stringValue ?? ""
        guard !accountName.isEmpty else {
            throw attributes.forbidden(
                "no service account specified for pod \(attributes.namespace ?? "")/\(object.name ?? "")",
                object: object)
        }
        let account = try await serviceAccount(
            namespace: attributes.namespace ?? "", name: accountName, attributes, object: object, context: context)
        if account.annotations["kubernetes.io/enforce-mountable-secrets"] == "true" {
            try Self.limitSecretReferences(attributes, object, account: account)
        }
    }

    /// The stored service account, looked up again a few times for `default` (its controller may not
    /// have made it yet); otherwise upstream's Forbidden naming the missing account.
    func serviceAccount(
        namespace: String, name: String, _ attributes: AdmissionAttributes, object: JSON, context: RegistryContext
    ) async throws -> JSON {
        let key = context.storagePrefix + "/serviceaccounts/" + namespace + "/" + name
        let attempts = name == Self.defaultName ? defaultAccountAttempts : 1
        let interval = Duration.milliseconds(Int.random(in: 100..<200))
        for attempt in 0..<attempts {
            if attempt > 0 { try await Task.sleep(for: interval) }
            if let value = try await context.storage.get(key: key), let account = try? JSON.parse(value.value) {
                return account
            }
        }
        throw attributes.forbidden(
            "error looking up service account \(namespace)/\(name): serviceaccount \"\(name)\" not found",
            object: object)
    }

    // MARK: Token volume

    /// Mounts the projected token volume in every container that has nothing at the mount path, adding
    /// the volume (or reusing an existing `kube-api-access-` one) when any container needs it.
    static func mountToken(into pod: inout JSON) {
        guard var spec = pod["spec"] else { return }
        let volumes = spec["volumes"]?.arrayValue ?? []
        let existing = volumes.first { ($0["name"]?.stringValue ?? "").hasPrefix(volumePrefix) }?["name"]?.stringValue
        let volumeName = existing ?? RegistryStore.generatedName(volumePrefix)
        let mount: JSON = ["name": .string(volumeName), "readOnly": true, "mountPath": .string(mountPath)]
        var needsVolume = false
        for list in ["initContainers", "containers"] {
            guard var containers = spec[list]?.arrayValue else { continue }
            for index in containers.indices where containers[index].objectValue != nil {
                var mounts = containers[index]["volumeMounts"]?.arrayValue ?? []
                if mounts.contains(where: { $0["mountPath"]?.stringValue == mountPath }) { continue }
                mounts.append(mount)
                containers[index]["volumeMounts"] = .array(mounts)
                needsVolume = true
            }
            spec[list] = .array(containers)
        }
        if existing == nil, needsVolume {
            spec["volumes"] = .array(volumes + [tokenVolume(volumeName)])
        }
        pod["spec"] = spec
    }

    /// Upstream's `TokenVolumeSource`, in its defaulted v1 form.
    static func tokenVolume(_ name: String) -> JSON {
        [
            "name": .string(name),
            "projected": [
                "defaultMode": 420,
                "sources": [
                    ["serviceAccountToken": ["expirationSeconds": .int(tokenExpirationSeconds), "path": "token"]],
                    ["configMap": ["items": [["key": "ca.crt", "path": "ca.crt"]], "name": "kube-root-ca.crt"]],
                    [
                        "downwardAPI": [
                            "items": [
                                [
                                    "fieldRef": ["apiVersion": "v1", "fieldPath": "metadata.namespace"],
                                    "path": "namespace",
                                ]
                            ]
                        ]
                    ],
                ],
            ],
        ]
    }

    // MARK: Secret references

    /// Mirror pods come from a kubelet's static manifests and may reference no API credentials at all.
    static func validateMirrorPod(_ attributes: AdmissionAttributes, _ pod: JSON) throws {
        if !(pod["spec"]?["serviceAccountName"]?.stringValue ?? "").isEmpty {
            throw attributes.forbidden("a mirror pod may not reference service accounts", object: pod)
        }
        if !secretNames(pod).isEmpty {
            throw attributes.forbidden("a mirror pod may not reference secrets", object: pod)
        }
        for volume in pod["spec"]?["volumes"]?.arrayValue ?? [] {
            for source in volume["projected"]?["sources"]?.arrayValue ?? [] where source["serviceAccountToken"] != nil {
                throw attributes.forbidden(
                    "a mirror pod may not use ServiceAccountToken volume projections", object: pod)
            }
        }
    }

    /// With `kubernetes.io/enforce-mountable-secrets: "true"` a pod may use only the secrets its account lists.
    static func limitSecretReferences(_ attributes: AdmissionAttributes, _ pod: JSON, account: JSON) throws {
        let mountable = Set((account["secrets"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
        let accountName = account.name ?? ""
        for volume in pod["spec"]?["volumes"]?.arrayValue ?? [] {
            if let secret = volume["secret"]?["secretName"]?.stringValue, !mountable.contains(secret) {
                throw attributes.forbidden(
                    "volume with secret.secretName=\"\(secret)\" is not allowed because service account \(accountName) does not reference that secret",
                    object: pod)
            }
        }
        for (list, label) in [("initContainers", "init container"), ("containers", "container")] {
            for container in pod["spec"]?[list]?.arrayValue ?? [] {
                let containerName = container["name"]?.stringValue ?? ""
                for variable in container["env"]?.arrayValue ?? [] {
                    if let secret = variable["valueFrom"]?["secretKeyRef"]?["name"]?.stringValue,
                        !mountable.contains(secret)
                    {
                        throw attributes.forbidden(
                            "\(label) \(containerName) with envVar \(variable["name"]?.stringValue ?? "") referencing secret.secretName=\"\(secret)\" is not allowed because service account \(accountName) does not reference that secret",
                            object: pod)
                    }
                }
                for source in container["envFrom"]?.arrayValue ?? [] {
                    if let secret = source["secretRef"]?["name"]?.stringValue, !mountable.contains(secret) {
                        throw attributes.forbidden(
                            "\(label) \(containerName) with envFrom referencing secret.secretName=\"\(secret)\" is not allowed because service account \(accountName) does not reference that secret",
                            object: pod)
                    }
                }
            }
        }
        let pullable = Set((account["imagePullSecrets"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
        for (index, reference) in (pod["spec"]?["imagePullSecrets"]?.arrayValue ?? []).enumerated() {
            let secret = reference["name"]?.stringValue ?? ""
            if !pullable.contains(secret) {
                throw attributes.forbidden(
                    "imagePullSecrets[\(index)].name=\"\(secret)\" is not allowed because service account \(accountName) does not reference that imagePullSecret",
                    object: pod)
            }
        }
    }

    /// Every secret a pod names: volumes, env and envFrom, image pull secrets.
    static func secretNames(_ pod: JSON) -> [String] {
        var names: [String] = []
        for volume in pod["spec"]?["volumes"]?.arrayValue ?? [] {
            if let name = volume["secret"]?["secretName"]?.stringValue { names.append(name) }
            for source in volume["projected"]?["sources"]?.arrayValue ?? [] {
                if let name = source["secret"]?["name"]?.stringValue { names.append(name) }
            }
        }
        let containers =
            (pod["spec"]?["initContainers"]?.arrayValue ?? []) + (pod["spec"]?["containers"]?.arrayValue ?? [])
        for container in containers {
            for variable in container["env"]?.arrayValue ?? [] {
                if let name = variable["valueFrom"]?["secretKeyRef"]?["name"]?.stringValue { names.append(name) }
            }
            for source in container["envFrom"]?.arrayValue ?? [] {
                if let name = source["secretRef"]?["name"]?.stringValue { names.append(name) }
            }
        }
        for reference in pod["spec"]?["imagePullSecrets"]?.arrayValue ?? [] {
            if let name = reference["name"]?.stringValue { names.append(name) }
        }
        return names
    }
}
