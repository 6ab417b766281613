import APIMachinery
import Foundation
import NIOConcurrencyHelpers
import Schemas

/// Server-side field validation (`fieldValidation=Ignore|Warn|Strict`): fields the kind's schema does not
/// have are dropped, as upstream's decoder drops them, and reported as an error or as Warning headers.
struct FieldValidation: Sendable {
    enum Mode: String, Sendable {
        case ignore = "Ignore"
        case warn = "Warn"
        case strict = "Strict"
    }

    let mode: Mode
    /// Warnings gathered while the request ran, sent back as `Warning: 299 - "…"` headers.
    let warnings = NIOLockedValueBox<[String]>([])

    init(query: [String: String]) throws(APIError) {
        guard let text = query["fieldValidation"], !text.isEmpty else {
            mode = .warn
            return
        }
        guard let mode = Mode(rawValue: text) else {
            throw APIError.badRequest(
                "fieldValidation: Unsupported value: \"\(text)\": supported values: \"Ignore\", \"Strict\", \"Warn\"")
        }
        self.mode = mode
    }

    /// Prunes `object` to its kind's schema, throwing 400 in Strict mode when something was unknown.
    func apply(_ object: inout JSON, definition: ResourceDefinition) throws(APIError) {
        let unknown = definition.strategy.pruneUnknownFields(&object, kind: definition.groupVersionKind)
        guard !unknown.isEmpty else { return }
        switch mode {
        case .ignore: return
        case .warn: warnings.withLockedValue { $0 += unknown.map(SchemaRegistry.unknownFieldMessage) }
        case .strict:
            let kind = definition.kind
            throw APIError.badRequest(
                "\(kind) in version \"\(definition.version)\" cannot be handled as a \(kind): "
                    + SchemaRegistry.strictDecodingMessage(unknown))
        }
    }

    /// Adds the gathered warnings to a response.
    func decorate(_ response: HTTPResponse) -> HTTPResponse {
        response.addingWarnings(warnings.withLockedValue { $0 })
    }
}
