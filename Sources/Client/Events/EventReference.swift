extension ObjectReference {
    /// A reference to `object` for an event's `regarding` or `related`, as upstream's `reference.GetReference`:
    /// kind and apiVersion from the model's descriptor, name, namespace, uid and resourceVersion from its metadata.
    public init(to object: some KubernetesObject) {
        let resource = type(of: object).resource
        self.init(
            apiVersion: resource.apiVersion, kind: resource.kind, name: object.metadata.name,
            namespace: object.metadata.namespace, resourceVersion: object.metadata.resourceVersion,
            uid: object.metadata.uid)
    }
}
