import APIMachinery
import StructuralSchema
import XCTest

/// Random schemas and documents from a fixed seed: nothing crashes, and pruning and defaulting are idempotent.
final class FuzzTests: XCTestCase {
    private struct SplitMix {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(bound))
        }
    }

    private func schema(_ rng: inout SplitMix, depth: Int) -> JSON {
        let types = ["string", "integer", "number", "boolean", "object", "array", ""]
        var node = JSONObject()
        let type = depth > 2 ? types[rng.next(4)] : types[rng.next(types.count)]
        if !type.isEmpty { node["type"] = .string(type) } else { node["x-kubernetes-preserve-unknown-fields"] = true }
        switch type {
        case "object":
            var properties = JSONObject()
            for index in 0..<rng.next(3) { properties["f\(index)"] = schema(&rng, depth: depth + 1) }
            node["properties"] = .object(properties)
            if rng.next(3) == 0 { node["required"] = ["f0"] }
        case "array":
            node["items"] = schema(&rng, depth: depth + 1)
            if rng.next(3) == 0 { node["maxItems"] = .int(Int64(rng.next(3))) }
        case "string":
            if rng.next(3) == 0 { node["enum"] = ["a", "b"] }
            if rng.next(3) == 0 { node["pattern"] = "^[a-c]*$" }
            if rng.next(3) == 0 { node["default"] = "a" }
            if rng.next(4) == 0 { node["format"] = ["date", "uuid", "ipv4", "byte"][rng.next(4)] }
        case "integer":
            if rng.next(3) == 0 { node["minimum"] = .int(Int64(rng.next(5))) }
            if rng.next(3) == 0 { node["default"] = 3 }
            if rng.next(4) == 0 { node["nullable"] = true }
        default:
            break
        }
        return .object(node)
    }

    private func value(_ rng: inout SplitMix, depth: Int) -> JSON {
        switch depth > 3 ? rng.next(5) : rng.next(7) {
        case 0: return .null
        case 1: return .bool(rng.next(2) == 0)
        case 2: return .int(Int64(rng.next(10)) - 3)
        case 3: return .double(Double(rng.next(100)) / 8)
        case 4: return .string(["a", "abc", "2024-01-01", "10.0.0.1", "zz"][rng.next(5)])
        case 5: return .array((0..<rng.next(3)).map { _ in value(&rng, depth: depth + 1) })
        default:
            var object = JSONObject()
            for index in 0..<rng.next(4) { object["f\(index)"] = value(&rng, depth: depth + 1) }
            return .object(object)
        }
    }

    func testRandomSchemasAndDocuments() {
        var rng = SplitMix(state: 15)
        var structural = 0
        for _ in 0..<300 {
            var root = schema(&rng, depth: 0)
            root["type"] = "object"
            root["x-kubernetes-preserve-unknown-fields"] = nil
            if root["properties"] == nil { root["properties"] = ["spec": schema(&rng, depth: 1)] }
            guard let schema = try? StructuralSchema(openAPIV3Schema: root) else { continue }
            structural += 1
            for _ in 0..<5 {
                var document = value(&rng, depth: 0)
                _ = schema.validate(document)
                schema.prune(&document)
                XCTAssertEqual(schema.prune(&document), [], "pruning twice removes nothing more")
                schema.applyDefaults(&document)
                let defaulted = document
                schema.applyDefaults(&document)
                XCTAssertEqual(document, defaulted, "defaulting twice changes nothing more")
                _ = schema.validateUpdate(document, old: defaulted)
            }
        }
        XCTAssertGreaterThan(structural, 100)
    }
}
