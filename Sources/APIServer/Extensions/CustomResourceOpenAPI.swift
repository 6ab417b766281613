import APIMachinery
import Schemas
import StructuralSchema

extension ResourceDefinition {
    /// This resource as the OpenAPI documents publish a custom resource; nil for built-in resources. A version
    /// whose schema is not structural is published as a bare object, as upstream publishes it.
    var openAPICustomResource: OpenAPICustomResource? {
        guard let strategy = strategy as? CustomResourceStrategy else { return nil }
        let resource = OpenAPIResource(
            group: group, version: version, resource: self.resource, kind: kind, namespaced: namespaced,
            verbs: ResourceDefinition.allVerbs, subresources: subresources)
        return OpenAPICustomResource(
            resource: resource, listKind: strategy.listKind,
            openAPIV3Schema: strategy.schema == nil ? nil : strategy.openAPIV3Schema)
    }
}

extension SchemaNode {
    /// Whether any node of the schema has a `default`: only then do reads from storage pay for defaulting.
    var hasDefaults: Bool {
        if defaultValue != nil { return true }
        if properties.contains(where: { $0.schema.hasDefaults }) { return true }
        return items?.hasDefaults == true || additionalPropertiesSchema?.hasDefaults == true
    }
}
