import APIMachinery
import Schemas
import XCTest

/// `/openapi/v2` in gnostic's protobuf, read back with a wire walker written here from the proto's field numbers.
final class OpenAPIV2ProtobufTests: XCTestCase {
    private static let json: JSON = OpenAPIBuilder(resources: ServedResources.all).v2Document()
    private static let bytes = OpenAPIV2Protobuf.encode(json)

    func testDocumentHeaderAndSecurity() throws {
        let document = try Message(Self.bytes)
        XCTAssertEqual(document.strings(1), ["2.0"])
        let info = try XCTUnwrap(document.messages(2).first)
        XCTAssertEqual(info.strings(1), [Self.json["info"]?["title"]?.stringValue ?? "?"])
        // securityDefinitions → NamedSecurityDefinitionsItem "BearerToken" → apiKey (2).
        let named = try XCTUnwrap(document.messages(13).first?.messages(1).first)
        XCTAssertEqual(named.strings(1), ["BearerToken"])
        let apiKey = try XCTUnwrap(named.messages(2).first?.messages(2).first)
        XCTAssertEqual(apiKey.strings(1), ["apiKey"])
        XCTAssertEqual(apiKey.strings(2), ["authorization"])
        XCTAssertEqual(apiKey.strings(3), ["header"])
        let requirement = try XCTUnwrap(document.messages(12).first?.messages(1).first)
        XCTAssertEqual(requirement.strings(1), ["BearerToken"])
    }

    func testEveryDefinitionIsThereWithItsKindExtension() throws {
        let document = try Message(Self.bytes)
        let definitions = try XCTUnwrap(document.messages(9).first).messages(1)
        let expected = try XCTUnwrap(Self.json["definitions"]?.objectValue)
        XCTAssertEqual(definitions.map { $0.strings(1).first ?? "" }, expected.keys)

        let configMap = try XCTUnwrap(definitions.first { $0.strings(1) == ["io.k8s.api.core.v1.ConfigMap"] })
        let schema = try XCTUnwrap(configMap.messages(2).first)
        XCTAssertEqual(schema.messages(22).first?.strings(1), ["object"])
        // Vendor extension (31): NamedAny → Any.yaml holds the value's JSON, which YAML readers parse.
        let extensions = schema.messages(31)
        let gvk = try XCTUnwrap(extensions.first { $0.strings(1) == ["x-kubernetes-group-version-kind"] })
        let yaml = try XCTUnwrap(gvk.messages(2).first?.strings(2).first)
        XCTAssertEqual(
            try JSON.parse(Array(yaml.utf8)), expected["io.k8s.api.core.v1.ConfigMap"]?["x-kubernetes-group-version-kind"])
        // properties (25) → NamedSchema "data" → additionalProperties (21) → schema (1) of type string.
        let properties = try XCTUnwrap(schema.messages(25).first).messages(1)
        let data = try XCTUnwrap(properties.first { $0.strings(1) == ["data"] }?.messages(2).first)
        XCTAssertEqual(data.messages(22).first?.strings(1), ["object"])
        XCTAssertEqual(data.messages(21).first?.messages(1).first?.messages(22).first?.strings(1), ["string"])
        let metadata = try XCTUnwrap(properties.first { $0.strings(1) == ["metadata"] }?.messages(2).first)
        XCTAssertEqual(metadata.strings(1), ["#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"])
    }

    func testOperationsKeepParametersResponsesAndExtensions() throws {
        let document = try Message(Self.bytes)
        let paths = try XCTUnwrap(document.messages(8).first).messages(2)
        XCTAssertEqual(paths.count, Self.json["paths"]?.objectValue?.count)
        let path = "/api/v1/namespaces/{namespace}/configmaps/{name}"
        let item = try XCTUnwrap(paths.first { $0.strings(1) == [path] }?.messages(2).first)
        let get = try XCTUnwrap(item.messages(2).first)
        XCTAssertEqual(get.strings(5), [Self.json["paths"]?[path]?["get"]?["operationId"]?.stringValue ?? "?"])
        // Path-level parameters (9): `name` and `namespace` are path parameters (NonBodyParameter 2 → path 4).
        let pathParameters = item.messages(9).compactMap { $0.messages(1).first?.messages(2).first?.messages(4).first }
        XCTAssertEqual(Set(pathParameters.flatMap { $0.strings(4) }), ["name", "namespace"])
        XCTAssertTrue(pathParameters.allSatisfy { $0.varints(1) == [1] }, "path parameters are required")
        // Responses (9) → NamedResponseValue "200" → Response (1) → SchemaItem → Schema with the ConfigMap $ref.
        let ok = try XCTUnwrap(get.messages(9).first?.messages(1).first { $0.strings(1) == ["200"] })
        let response = try XCTUnwrap(ok.messages(2).first?.messages(1).first)
        XCTAssertEqual(
            response.messages(2).first?.messages(1).first?.strings(1), ["#/definitions/io.k8s.api.core.v1.ConfigMap"])
        XCTAssertTrue(get.messages(13).contains { $0.strings(1) == ["x-kubernetes-action"] })
        // The put's body parameter (Parameter 1 → BodyParameter).
        let put = try XCTUnwrap(item.messages(3).first)
        let body = try XCTUnwrap(put.messages(8).compactMap { $0.messages(1).first?.messages(1).first }.first)
        XCTAssertEqual(body.strings(3), ["body"])
        XCTAssertEqual(body.varints(4), [1])
    }
}

/// One protobuf message's fields by number, decoded lazily as strings, varints or nested messages.
private struct Message {
    var fields: [Int: [ArraySlice<UInt8>]] = [:]
    var varintFields: [Int: [UInt64]] = [:]

    init(_ bytes: some Collection<UInt8>) throws {
        let bytes = Array(bytes)
        var offset = 0
        func varint() throws -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard offset < bytes.count, shift < 64 else { throw DecodeError() }
                let byte = bytes[offset]
                offset += 1
                result |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return result }
                shift += 7
            }
        }
        while offset < bytes.count {
            let tag = try varint()
            let number = Int(tag >> 3)
            switch tag & 7 {
            case 0: varintFields[number, default: []].append(try varint())
            case 1: offset += 8
            case 2:
                let length = Int(try varint())
                guard offset + length <= bytes.count else { throw DecodeError() }
                fields[number, default: []].append(bytes[offset..<offset + length])
                offset += length
            default: throw DecodeError()
            }
        }
    }

    func strings(_ number: Int) -> [String] { (fields[number] ?? []).map { String(decoding: $0, as: UTF8.self) } }
    func messages(_ number: Int) -> [Message] { (fields[number] ?? []).compactMap { try? Message($0) } }
    func varints(_ number: Int) -> [UInt64] { varintFields[number] ?? [] }

    struct DecodeError: Error {}
}
