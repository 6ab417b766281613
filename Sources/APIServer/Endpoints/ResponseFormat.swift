import APIMachinery

/// How a response is encoded, chosen from `Accept` as upstream's `NegotiateMediaTypeOptions` chooses: the
/// clauses in preference order (q, then specific before wildcard), and for each the first of the server's
/// media types it matches whose parameters this endpoint can honour.
struct ResponseFormat: Sendable, Equatable {
    /// The media types upstream's built-in resources serve, in upstream's order.
    enum Media: String, Sendable, CaseIterable {
        case json = "application/json"
        case yaml = "application/yaml"
        case protobuf = "application/vnd.kubernetes.protobuf"
    }

    /// A metadata-only shape asked for with `;as=<kind>;g=meta.k8s.io;v=<version>`.
    enum Target: Sendable, Equatable {
        case table(version: String)
        case partialObjectMetadata(version: String)
        case partialObjectMetadataList(version: String)

        var apiVersion: String {
            switch self {
            case .table(let version), .partialObjectMetadata(let version), .partialObjectMetadataList(let version):
                return "meta.k8s.io/" + version
            }
        }
    }

    var media: Media
    var target: Target?

    /// JSON with no conversion, what an empty `Accept` gets.
    static let json = ResponseFormat(media: .json, target: nil)

    /// What the endpoint can serve besides plain objects.
    struct Capabilities: Sendable {
        /// Whether the resource converts to a Table (upstream: it has a TableConvertor; the review kinds do not).
        var table: Bool
        /// Whether the kind has a protobuf schema.
        var protobuf: Bool
    }

    /// Picks the format, or throws upstream's 406 naming what the endpoint offers; `stream` negotiates a watch,
    /// which YAML cannot carry.
    /// `capabilities` is evaluated only when the header could ask for more than JSON.
    static func negotiate(
        accept: String?, capabilities makeCapabilities: @autoclosure () -> Capabilities, stream: Bool = false
    ) throws(APIError) -> ResponseFormat {
        guard let accept, !accept.allSatisfy({ $0 == " " }) else { return .json }
        // What client-go and most tools send, answered without parsing clauses (perf: 2-3% of a GET).
        switch accept {
        case "application/json", "*/*", "application/json, */*": return .json
        case "application/vnd.kubernetes.protobuf, */*", "application/vnd.kubernetes.protobuf,*/*":
            return makeCapabilities().protobuf ? ResponseFormat(media: .protobuf, target: nil) : .json
        default: break
        }
        let capabilities = makeCapabilities()
        let offered: [Media] = stream ? [.json, .protobuf] : Media.allCases
        for clause in clauses(accept) {
            for media in offered where clause.matches(media) {
                if let format = acceptable(clause, media: media, capabilities: capabilities) { return format }
            }
        }
        throw APIError.notAcceptable(
            offered.map { stream ? $0.rawValue + ";stream=watch" : $0.rawValue })
    }

    /// The format for one matching clause, or nil when its parameters ask for something this endpoint lacks.
    private static func acceptable(_ clause: Clause, media: Media, capabilities: Capabilities) -> ResponseFormat? {
        if let stream = clause.parameters["stream"], !stream.isEmpty, stream != "watch" || media == .yaml {
            return nil
        }
        let converts = ["as", "g", "v"].contains { clause.parameters[$0] != nil }
        guard converts else {
            return media == .protobuf && !capabilities.protobuf ? nil : ResponseFormat(media: media, target: nil)
        }
        let kind = clause.parameters["as"] ?? ""
        let group = clause.parameters["g"] ?? ""
        let version = clause.parameters["v"] ?? ""
        guard group == "meta.k8s.io", version == "v1" || version == "v1beta1" else { return nil }
        switch kind {
        case "Table":
            guard capabilities.table, media == .json || media == .yaml else { return nil }
            return ResponseFormat(media: media, target: .table(version: version))
        case "PartialObjectMetadata":
            return ResponseFormat(media: media, target: .partialObjectMetadata(version: version))
        case "PartialObjectMetadataList":
            return ResponseFormat(media: media, target: .partialObjectMetadataList(version: version))
        default:
            return nil
        }
    }

    /// One `type/subtype;k=v` entry of an Accept header.
    struct Clause {
        var type: Substring
        var subtype: Substring
        var quality: Double
        var parameters: [String: String]

        func matches(_ media: Media) -> Bool {
            let parts = media.rawValue.split(separator: "/")
            guard parts.count == 2 else { return false }
            if type == "*" && subtype == "*" { return true }
            return type == parts[0] && (subtype == parts[1] || subtype == "*")
        }

        var specificity: Int { (type == "*" ? 0 : 1) + (subtype == "*" ? 0 : 1) }
    }

    /// The clauses in the order goautoneg sorts them: higher q first, then specific before wildcard, else as sent.
    static func clauses(_ header: String) -> [Clause] {
        var result: [Clause] = []
        for entry in header.split(separator: ",") {
            let pieces = entry.split(separator: ";").map { $0.trimmedWhitespace }
            guard let mediaRange = pieces.first, !mediaRange.isEmpty else { continue }
            let typeParts = mediaRange.lowercased().split(separator: "/", maxSplits: 1)
            let type = typeParts.first ?? "*"
            let subtype = typeParts.count > 1 ? typeParts[1] : "*"
            var quality = 1.0
            var parameters: [String: String] = [:]
            for parameter in pieces.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmedWhitespace }
                guard let key = pair.first, !key.isEmpty else { continue }
                let value = pair.count > 1 ? pair[1] : ""
                if key == "q" { quality = Double(value) ?? 1 } else { parameters[key] = value }
            }
            result.append(Clause(type: type, subtype: subtype, quality: quality, parameters: parameters))
        }
        return result.enumerated().sorted { lhs, rhs in
            if lhs.element.quality != rhs.element.quality { return lhs.element.quality > rhs.element.quality }
            if lhs.element.specificity != rhs.element.specificity {
                return lhs.element.specificity > rhs.element.specificity
            }
            return lhs.offset < rhs.offset
        }.map(\.element)
    }
}

extension StringProtocol {
    fileprivate var trimmedWhitespace: String {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return String(text)
    }
}
