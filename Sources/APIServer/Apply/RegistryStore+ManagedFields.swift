import APIMachinery
import Schemas

extension RegistryStore {
    /// Records a write in `metadata.managedFields` as an `Update` by the request's field manager, right
    /// before it is stored (after defaulting and admission, so what the server added is recorded too).
    /// Server-side apply has done its own bookkeeping, and the server's own writes name no manager.
    /// `object` and `old` are stored objects; fields are tracked in the served shape, the one the manager wrote.
    func recordManagedFields(_ object: inout JSON, old: JSON?, options: WriteOptions, target: UpdateTarget = .object) {
        guard !options.managedFieldsComputed, let manager = options.fieldManager else { return }
        let subresource = options.subresource.isEmpty ? target.subresource : options.subresource
        let fieldManager = fieldManager(subresource: subresource)
        guard definition.conversion != nil else {
            fieldManager.update(&object, live: old, manager: manager, subresource: subresource, now: Timestamp.now())
            return
        }
        var served = fromStorage(object)
        fieldManager.update(
            &served, live: old.map(fromStorage), manager: manager, subresource: subresource, now: Timestamp.now())
        object.setMeta("managedFields", served["metadata"]?["managedFields"])
    }

    /// The field manager for writes through the object (`""`) or a subresource: the object's writes do not
    /// own `status` when it has its own endpoint, and a status write owns nothing else.
    func fieldManager(subresource: String) -> FieldManager {
        switch subresource {
        case "status":
            return FieldManager(
                kind: definition.groupVersionKind, onlyField: "status", registry: definition.fieldSchemas)
        case "":
            let reset: Set<String> = definition.subresources.contains("status") ? ["status"] : []
            return FieldManager(
                kind: definition.groupVersionKind, resetFields: reset, registry: definition.fieldSchemas)
        default:
            return FieldManager(kind: definition.groupVersionKind, registry: definition.fieldSchemas)
        }
    }
}

extension WriteOptions {
    /// The manager a request writes as: its `fieldManager` parameter, else the User-Agent up to the first
    /// `/` (`kubectl`), as upstream names managers of clients that give none.
    static func fieldManager(_ request: HTTPRequest) -> String {
        if let name = request.query["fieldManager"], !name.isEmpty { return name }
        let agent = request.header("user-agent") ?? ""
        let prefix = agent.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return String(prefix.prefix(128))
    }
}
