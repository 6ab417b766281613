import APIMachinery

/// Renders schema nodes as OpenAPI JSON, keys sorted as upstream's encoder sorts them.
struct OpenAPISchemaRenderer {
    enum Flavor {
        /// Swagger 2.0: `#/definitions/`, `$ref` may carry sibling extensions.
        case v2
        /// OpenAPI 3.0: `#/components/schemas/`; siblings of `$ref` are ignored there, so a
        /// reference with extensions is wrapped in `allOf`, as upstream does.
        case v3
    }

    let flavor: Flavor

    var referencePrefix: String { flavor == .v2 ? "#/definitions/" : "#/components/schemas/" }

    func reference(_ name: String) -> JSON { .object(["$ref": .string(referencePrefix + name)]) }

    /// A top-level definition.
    func definition(_ schema: Schema) -> JSON { render(schema) }

    func render(_ schema: Schema) -> JSON {
        var entries: [(key: String, value: JSON)] = []
        switch schema.type {
        case .reference(let name):
            if flavor == .v3 && hasSiblings(schema) {
                entries.append(("allOf", .array([reference(name)])))
            } else {
                entries.append(("$ref", .string(referencePrefix + name)))
            }
        case .object(let object):
            var properties: [(key: String, value: JSON)] = []
            for name in object.properties.keys.sorted() {
                if let property = object.properties[name] { properties.append((name, render(property))) }
            }
            entries.append(("properties", .object(JSONObject(properties))))
            if !object.required.isEmpty { entries.append(("required", .array(object.required.map(JSON.string)))) }
            entries.append(("type", "object"))
            if !object.groupVersionKinds.isEmpty {
                let kinds = object.groupVersionKinds.map { kind -> JSON in
                    ["group": .string(kind.group), "kind": .string(kind.kind), "version": .string(kind.version)]
                }
                entries.append(("x-kubernetes-group-version-kind", .array(kinds)))
            }
        case .map(let values):
            entries.append(("additionalProperties", render(values)))
            entries.append(("type", "object"))
        case .array(let items):
            entries.append(("items", render(items)))
            entries.append(("type", "array"))
        case .primitive(let type, let format):
            if let format { entries.append(("format", .string(format))) }
            entries.append(("type", .string(type.rawValue)))
        case .intOrString:
            entries.append(("format", "int-or-string"))
            entries.append(("type", "string"))
        case .any:
            entries.append(("type", "object"))
        }
        if let description = schema.description { entries.append(("description", .string(description))) }
        if !schema.listMapKeys.isEmpty {
            entries.append(("x-kubernetes-list-map-keys", .array(schema.listMapKeys.map(JSON.string))))
        }
        if let listType = schema.listType { entries.append(("x-kubernetes-list-type", .string(listType.rawValue))) }
        if let mapType = schema.mapType { entries.append(("x-kubernetes-map-type", .string(mapType.rawValue))) }
        if let key = schema.patchMergeKey { entries.append(("x-kubernetes-patch-merge-key", .string(key))) }
        if let strategy = schema.patchStrategy { entries.append(("x-kubernetes-patch-strategy", .string(strategy))) }
        entries.sort { $0.key < $1.key }
        return .object(JSONObject(entries))
    }

    private func hasSiblings(_ schema: Schema) -> Bool {
        schema.description != nil || schema.patchStrategy != nil || schema.patchMergeKey != nil
            || schema.listType != nil || !schema.listMapKeys.isEmpty || schema.mapType != nil
    }

    // MARK: Operations

    func parameter(_ parameter: APIParameter) -> JSON {
        var entries: [(key: String, value: JSON)] = [
            ("description", .string(parameter.description)),
            ("in", .string(parameter.location.rawValue)),
            ("name", .string(parameter.name)),
        ]
        if parameter.required { entries.append(("required", true)) }
        let type: JSON = ["type": .string(parameter.type.rawValue), "uniqueItems": true]
        if flavor == .v2 {
            entries.append(("type", .string(parameter.type.rawValue)))
            entries.append(("uniqueItems", true))
        } else {
            entries.append(("schema", type))
        }
        entries.sort { $0.key < $1.key }
        return .object(JSONObject(entries))
    }

    func operation(_ operation: APIOperation) -> JSON {
        var entries: [(key: String, value: JSON)] = [
            ("description", .string(operation.summary)),
            ("operationId", .string(operation.operationID)),
            ("tags", [.string(operation.tag)]),
        ]
        var parameters = operation.parameters.map(parameter)
        switch (flavor, operation.body) {
        case (.v2, .definition(let name)?):
            parameters.insert(["in": "body", "name": "body", "required": true, "schema": reference(name)], at: 0)
            entries.append(("consumes", ["*/*"]))
        case (.v2, .patch(let types)?):
            parameters.insert(
                ["in": "body", "name": "body", "required": true, "schema": reference(APIPathPlanner.patchDefinition)],
                at: 0)
            entries.append(("consumes", .array(types.map(JSON.string))))
        case (.v3, .definition(let name)?):
            entries.append(("requestBody", ["content": ["*/*": ["schema": reference(name)]], "required": true]))
        case (.v3, .patch(let types)?):
            let content = types.map { type -> (key: String, value: JSON) in
                (type, ["schema": reference(APIPathPlanner.patchDefinition)])
            }
            entries.append(("requestBody", ["content": .object(JSONObject(content)), "required": true]))
        case (_, nil):
            if flavor == .v2 { entries.append(("consumes", ["*/*"])) }
        }
        if !parameters.isEmpty { entries.append(("parameters", .array(parameters))) }
        if flavor == .v2 {
            entries.append(("produces", ["application/json"]))
            entries.append(("schemes", ["https"]))
        }
        var responses: [(key: String, value: JSON)] = []
        for (code, definition) in operation.responses {
            responses.append((code, response(code: code, definition: definition)))
        }
        entries.append(("responses", .object(JSONObject(responses))))
        if !operation.action.isEmpty { entries.append(("x-kubernetes-action", .string(operation.action))) }
        if let kind = operation.kind {
            entries.append(
                (
                    "x-kubernetes-group-version-kind",
                    ["group": .string(kind.group), "kind": .string(kind.kind), "version": .string(kind.version)]
                ))
        }
        entries.sort { $0.key < $1.key }
        return .object(JSONObject(entries))
    }

    private func response(code: String, definition: String?) -> JSON {
        let text: String
        switch code {
        case "200": text = "OK"
        case "201": text = "Created"
        case "202": text = "Accepted"
        case "401": text = "Unauthorized"
        default: text = code
        }
        guard let definition else { return ["description": .string(text)] }
        if flavor == .v2 { return ["description": .string(text), "schema": reference(definition)] }
        return ["content": ["application/json": ["schema": reference(definition)]], "description": .string(text)]
    }

    func path(_ path: APIPath) -> JSON {
        var entries: [(key: String, value: JSON)] = path.operations.map { ($0.method, operation($0)) }
        if !path.parameters.isEmpty { entries.append(("parameters", .array(path.parameters.map(parameter)))) }
        entries.sort { $0.key < $1.key }
        return .object(JSONObject(entries))
    }
}
