import APIMachinery
import StructuralSchema

extension CustomResourceDefinitionView {
    /// The resources a definition serves: one per served version, under its accepted names, highest priority
    /// version first (discovery's preferred one), all stored under `/registry/<group>/<plural>` in the storage
    /// version's shape.
    var servedResources: [ResourceDefinition] {
        let names = acceptedNames
        guard let plural = names["plural"]?.stringValue, !plural.isEmpty, let kind = names["kind"]?.stringValue,
            !kind.isEmpty, let storageVersion
        else { return [] }
        let strings = { (field: String) in names[field]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        let served = versions.filter { $0["served"]?.boolValue == true }
            .sorted { first, second in
                Self.versionPriority(second["name"]?.stringValue ?? "")
                    .lexicographicallyPrecedes(Self.versionPriority(first["name"]?.stringValue ?? ""))
            }
        var fingerprint: JSONObject = [
            "uid": .string(object.uid ?? ""), "spec": spec, "acceptedNames": names, "terminating": .bool(isTerminating),
        ]
        fingerprint["storedVersion"] = .string(storageVersion)
        let storageSchema = versions.first { $0["name"]?.stringValue == storageVersion }?["schema"]?["openAPIV3Schema"]
        let readDefaults = storageSchema.flatMap { try? StructuralSchema(openAPIV3Schema: $0) }
            .flatMap { $0.root.hasDefaults ? $0 : nil }
        return served.compactMap { version -> ResourceDefinition? in
            guard let name = version["name"]?.stringValue, !name.isEmpty else { return nil }
            let subresources = version["subresources"]
            var scale: CustomResourceScale?
            if let paths = subresources?["scale"], let spec = paths["specReplicasPath"]?.stringValue,
                let status = paths["statusReplicasPath"]?.stringValue
            {
                scale = CustomResourceScale(
                    specReplicasPath: spec, statusReplicasPath: status,
                    labelSelectorPath: paths["labelSelectorPath"]?.stringValue)
            }
            var warning: String?
            if version["deprecated"]?.boolValue == true {
                warning = version["deprecationWarning"]?.stringValue ?? "\(group)/\(name) \(kind) is deprecated"
            }
            let openAPIV3Schema = version["schema"]?["openAPIV3Schema"]
            let strategy = CustomResourceStrategy(
                definitionName: self.name, hasStatus: subresources?["status"] != nil, scale: scale,
                printerColumns: CustomResourceColumns(version: version),
                schema: try? StructuralSchema(openAPIV3Schema: openAPIV3Schema ?? .null),
                openAPIV3Schema: openAPIV3Schema, listKind: names["listKind"]?.stringValue ?? kind + "List",
                readDefaults: readDefaults, terminating: isTerminating,
                deprecationWarning: warning, fingerprint: .object(fingerprint))
            // Several versions share the stored objects; a lone version without read defaults needs no
            // conversion (and keeps the raw read path).
            let conversion =
                versions.count > 1 || readDefaults != nil
                ? CustomResourceVersionConversion(
                    storageKind: GroupVersionKind(group: group, version: storageVersion, kind: kind),
                    servedAPIVersion: group + "/" + name, readDefaults: readDefaults) : nil
            var definition = ResourceDefinition(
                group: group, version: name, resource: plural, kind: kind, namespaced: namespaced,
                shortNames: strings("shortNames"), categories: strings("categories"),
                subresources: (subresources?["status"] != nil ? ["status"] : []) + (scale != nil ? ["scale"] : []),
                storageFolder: "\(group)/\(plural)", strategy: strategy, conversion: conversion)
            definition.singular = names["singular"]?.stringValue ?? kind.lowercased()
            if let registry = CustomResourceFieldSchemas.registry(
                kind: definition.groupVersionKind, openAPIV3Schema: version["schema"]?["openAPIV3Schema"])
            {
                definition.fieldSchemas = registry
            }
            return definition
        }
    }

    /// Upstream's kube-aware version order: GA before beta before alpha, higher numbers first, and versions
    /// that do not look like Kubernetes versions last, in name order (a larger value sorts first).
    static func versionPriority(_ version: String) -> [Int] {
        let bytes = Array(version.utf8)
        guard bytes.first == UInt8(ascii: "v") else { return [0, 0, 0, 0] + Self.reverseOrder(version) }
        var index = 1
        func number() -> Int? {
            let start = index
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 { index += 1 }
            return index > start ? Int(String(decoding: bytes[start..<index], as: UTF8.self)) : nil
        }
        guard let major = number() else { return [0, 0, 0, 0] + Self.reverseOrder(version) }
        if index == bytes.count { return [3, major, 0, 0] }
        let rest = String(decoding: bytes[index...], as: UTF8.self)
        for (stage, label) in [(2, "beta"), (1, "alpha")] where rest.hasPrefix(label) {
            index += label.utf8.count
            if let minor = number(), index == bytes.count { return [stage, major, minor, 0] }
        }
        return [0, 0, 0, 0] + Self.reverseOrder(version)
    }

    /// Non-Kubernetes versions sort by name ascending, so their bytes are negated for a descending sort.
    private static func reverseOrder(_ version: String) -> [Int] { version.utf8.map { -Int($0) } + [0] }
}
