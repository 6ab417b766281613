import APIMachinery

/// A ConfigMap named `name` holding `data`.
func configMap(_ name: String, _ data: [String: String]) -> JSON {
    var fields = JSONObject()
    for (key, value) in data.sorted(by: { $0.key < $1.key }) { fields[key] = .string(value) }
    return ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name)], "data": .object(fields)]
}
