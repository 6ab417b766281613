import APIMachinery

/// What the aggregator needs from flags.
public struct AggregationConfiguration: Sendable {
    /// `--proxy-client-cert-file` and `--proxy-client-key-file`: the certificate this server presents to
    /// extension API servers, which they trust through their `--requestheader-client-ca-file`.
    public var proxyClientCertificateFile: String?
    public var proxyClientKeyFile: String?
    /// `--enable-aggregator-routing`: dial an endpoint of the service rather than its cluster IP.
    public var enableAggregatorRouting = false

    public init(
        proxyClientCertificateFile: String? = nil, proxyClientKeyFile: String? = nil,
        enableAggregatorRouting: Bool = false
    ) {
        self.proxyClientCertificateFile = proxyClientCertificateFile
        self.proxyClientKeyFile = proxyClientKeyFile
        self.enableAggregatorRouting = enableAggregatorRouting
    }
}

extension APIServer {
    /// Starts the APIService controllers once (kube-apiserver's start calls it after bootstrap): local
    /// APIServices are registered, service-backed ones checked, and their groups proxied and discovered.
    /// Throws when the proxy client's files cannot be read.
    public func startAggregation(_ configuration: AggregationConfiguration) throws {
        let key = Self.storeKey(APIServices.group, "v1", "apiservices")
        guard let apiServices = stores[key], let services = store(resource: "services"),
            let endpoints = store(resource: "endpoints")
        else { return }
        let transport = try AggregatorTransport(
            certificateFile: configuration.proxyClientCertificateFile, keyFile: configuration.proxyClientKeyFile)
        aggregator.transport = transport
        let definitions = stores[Self.storeKey(CustomResourceDefinitions.group, "v1", "customresourcedefinitions")]
        let watched = [apiServices.prefix, services.prefix, endpoints.prefix] + (definitions.map { [$0.prefix] } ?? [])
        var builtIns: [GroupVersion] = []
        for definition in builtInResources + Catalog.virtualResources.map(\.definition)
        where !builtIns.contains(definition.groupVersion) {
            builtIns.append(definition.groupVersion)
        }
        let controller = APIServiceController(
            apiServices: apiServices,
            availability: APIServiceAvailability(
                services: services, endpoints: endpoints, transport: transport,
                aggregatorRouting: configuration.enableAggregatorRouting),
            aggregator: aggregator, storage: storage, watchedPrefixes: watched, builtInGroupVersions: builtIns,
            customResourceDefinitions: definitions)
        aggregationController.withLockedValue { task in
            guard task == nil else { return }
            task = Task { await controller.run() }
        }
    }
}
