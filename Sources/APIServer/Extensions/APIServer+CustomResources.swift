import APIMachinery
import NIOHTTP1

extension APIServer {
    /// Starts the CustomResourceDefinition controllers once per server (bootstrap calls it).
    func startCustomResourceDefinitionController() {
        let key = Self.storeKey(CustomResourceDefinitions.group, "v1", "customresourcedefinitions")
        guard let definitions = stores[key] else { return }
        let storage = storage
        let context = context
        let controller = CustomResourceDefinitionController(
            definitions: definitions, storage: storage,
            makeStore: { definition in
                RegistryStore(
                    definition: definition, storage: storage, context: context, storagePrefix: context.storagePrefix,
                    watchCache: nil)
            },
            serve: { [weak self] custom in await self?.serveCustomResources(custom) })
        customResourceDefinitionController.withLockedValue { task in
            guard task == nil else { return }
            task = Task { await controller.run() }
        }
    }

    /// A custom resource request: the generic handler, with what upstream's custom resource handler does
    /// differently — no strategic merge patch, the scale subresource at the definition's paths, and the
    /// Warning of a deprecated version.
    func serveCustomResource(
        _ request: HTTPRequest, info: RequestInfo, store: RegistryStore, strategy: CustomResourceStrategy
    ) async throws -> HTTPResponse {
        var response: HTTPResponse
        if info.verb == "patch", Self.isStrategicMergePatch(request) {
            response = .error(
                .unsupportedMediaType(
                    "application/strategic-merge-patch+json",
                    accepted: PatchRequest.accepted.filter { $0 != "application/strategic-merge-patch+json" }))
        } else if info.subresource == "scale", let scale = strategy.scale {
            response = try await handleCustomResourceScale(request, info: info, store: store, scale: scale)
        } else {
            response = try await handleResource(request, info: info)
        }
        if let warning = strategy.deprecationWarning {
            let escaped = warning.replacingOccurrences(of: "\"", with: "\\\"")
            response.headers.add(name: "Warning", value: "299 - \"\(escaped)\"")
        }
        return response
    }

    static func isStrategicMergePatch(_ request: HTTPRequest) -> Bool {
        let contentType = (request.header("content-type") ?? "").lowercased()
        let mediaType = contentType.split(separator: ";").first.map { String($0).trimmingSpaces } ?? ""
        return mediaType == "application/strategic-merge-patch+json"
    }
}
