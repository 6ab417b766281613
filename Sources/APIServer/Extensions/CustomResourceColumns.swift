import APIMachinery

/// The table a version of a custom resource prints: NAME, then its `additionalPrinterColumns`, or AGE when it
/// declares none, with cells typed as upstream's custom resource table convertor types them.
struct CustomResourceColumns: Sendable {
    static let types = ["boolean", "date", "integer", "number", "string"]
    static let formats = ["byte", "date", "date-time", "double", "float", "int32", "int64", "password"]

    struct Column: Sendable {
        let header: Table.Column
        let type: String
        let path: JSONFieldPath?
    }

    let printed: [Column]

    /// The columns of one version entry of a definition's `spec.versions`.
    init(version: JSON) {
        let declared = version["additionalPrinterColumns"]?.arrayValue ?? []
        guard !declared.isEmpty else {
            printed = [
                Column(
                    header: .age, type: "date", path: JSONFieldPath(".metadata.creationTimestamp"))
            ]
            return
        }
        printed = declared.map { column in
            let type = column["type"]?.stringValue ?? "string"
            return Column(
                header: Table.Column(
                    column["name"]?.stringValue ?? "", type: type, format: column["format"]?.stringValue ?? "",
                    priority: Int(column["priority"]?.intValue ?? 0),
                    description: column["description"]?.stringValue ?? ""),
                type: type, path: JSONFieldPath(column["jsonPath"]?.stringValue ?? ""))
        }
    }

    var columns: [Table.Column] { [.name] + printed.map(\.header) }

    func cells(_ object: JSON) -> [JSON] {
        [Cells.name(object)]
            + printed.map { column in
                guard let value = column.path?.value(in: object), !value.isNull else { return .null }
                return Self.cell(value, type: column.type)
            }
    }

    /// One cell: strings print any value, the other types only a value of their own type (else nothing).
    static func cell(_ value: JSON, type: String) -> JSON {
        switch type {
        case "string":
            switch value {
            case .string: return value
            case .int(let number): return .string(String(number))
            case .double(let number): return .string(String(number))
            case .bool(let flag): return .string(String(flag))
            default: return .string(value.jsonString)
            }
        case "integer": return value.intValue.map(JSON.int) ?? .null
        case "number": return value.doubleValue.map(JSON.double) ?? .null
        case "boolean": return value.boolValue.map(JSON.bool) ?? .null
        case "date":
            guard let text = value.stringValue else { return .null }
            return .string(Timestamp.age(of: text))
        default: return .null
        }
    }
}

/// The JSONPath subset printer columns and scale paths use: `.a.b`, with list indexes such as `.a[0].b`.
struct JSONFieldPath: Sendable, Equatable {
    enum Step: Sendable, Equatable {
        case field(String)
        case index(Int)
    }

    let steps: [Step]

    /// Nil when `text` is not a path of this subset; braces around it (`{.spec.x}`) are allowed.
    init?(_ text: String) {
        var path = Substring(text)
        if path.hasPrefix("{"), path.hasSuffix("}") { path = path.dropFirst().dropLast() }
        guard path.hasPrefix(".") else { return nil }
        var steps: [Step] = []
        for segment in path.dropFirst().split(separator: ".", omittingEmptySubsequences: false) {
            var rest = segment
            let name = rest.prefix { $0 != "[" }
            guard !name.isEmpty else { return nil }
            steps.append(.field(String(name)))
            rest = rest.dropFirst(name.count)
            while rest.hasPrefix("[") {
                guard let close = rest.firstIndex(of: "]"),
                    let index = Int(rest[rest.index(after: rest.startIndex)..<close]),
                    index >= 0
                else { return nil }
                steps.append(.index(index))
                rest = rest[rest.index(after: close)...]
            }
            guard rest.isEmpty else { return nil }
        }
        self.steps = steps
    }

    /// The value the path names, or nil when some step is missing.
    func value(in object: JSON) -> JSON? {
        var current = object
        for step in steps {
            switch step {
            case .field(let name):
                guard let next = current[name] else { return nil }
                current = next
            case .index(let index):
                guard let items = current.arrayValue, index < items.count else { return nil }
                current = items[index]
            }
        }
        return current
    }

    /// The field names when the path has no indexes (scale paths), for writing a value.
    var fieldNames: [String]? {
        var names: [String] = []
        for step in steps {
            guard case .field(let name) = step else { return nil }
            names.append(name)
        }
        return names
    }
}
