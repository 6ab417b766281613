/// A `meta.k8s.io/v1` Table, what `kubectl get` asks for and prints as columns.
public struct Table: Sendable {
    /// A column's heading; priority 0 columns are shown by default, 1 only with `-o wide`.
    public struct Column: Sendable {
        public var name: String
        public var type: String
        public var format: String
        public var description: String
        public var priority: Int

        public init(
            _ name: String, type: String = "string", format: String = "", priority: Int = 0, description: String = ""
        ) {
            self.name = name
            self.type = type
            self.format = format
            self.priority = priority
            self.description = description
        }

        /// The NAME column every kind starts with.
        public static let name = Column(
            "Name", format: "name", description: "Name must be unique within a namespace.")
        /// The AGE column most kinds end with.
        public static let age = Column("Age", description: "CreationTimestamp is the time the object was created.")

        var json: JSON {
            [
                "name": .string(name), "type": .string(type), "format": .string(format),
                "description": .string(description), "priority": .int(Int64(priority)),
            ]
        }
    }

    public var columns: [Column]
    public var rows: [JSON]
    public var metadata: JSONObject

    public init(columns: [Column], rows: [JSON] = [], metadata: JSONObject = JSONObject()) {
        self.columns = columns
        self.rows = rows
        self.metadata = metadata
    }

    /// A row for `object`: its cells plus the object itself (or its metadata), as `includeObject` asks.
    public static func row(cells: [JSON], object: JSON) -> JSON {
        ["cells": .array(cells), "object": object]
    }

    public var json: JSON {
        [
            "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": .object(metadata),
            "columnDefinitions": .array(columns.map(\.json)), "rows": .array(rows),
        ]
    }
}
