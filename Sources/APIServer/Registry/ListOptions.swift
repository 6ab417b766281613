import APIMachinery
import Foundation

/// The list and watch parameters of a request, parsed once for every kind.
struct ListOptions: Sendable {
    var labelSelector = LabelSelector.everything
    var fieldSelector = FieldSelector()
    var limit = 0
    var continueToken: ContinueToken?
    var resourceVersion: String?
    var resourceVersionMatch: String?
    var watch = false
    var allowWatchBookmarks = false
    var timeoutSeconds: Int?
    var sendInitialEvents: Bool?

    init() {}

    init(query: [String: String]) throws(APIError) {
        if let text = query["labelSelector"], !text.isEmpty { labelSelector = try LabelSelector(parsing: text) }
        if let text = query["fieldSelector"], !text.isEmpty { fieldSelector = try FieldSelector(parsing: text) }
        if let text = query["limit"], !text.isEmpty {
            guard let value = Int(text), value >= 0 else { throw APIError.badRequest("invalid limit: \(text)") }
            limit = value
        }
        if let text = query["continue"], !text.isEmpty { continueToken = try ContinueToken(encoded: text) }
        resourceVersion = query["resourceVersion"].flatMap { $0.isEmpty ? nil : $0 }
        resourceVersionMatch = query["resourceVersionMatch"].flatMap { $0.isEmpty ? nil : $0 }
        watch = query["watch"].map(Self.isTrue) ?? false
        allowWatchBookmarks = query["allowWatchBookmarks"].map(Self.isTrue) ?? false
        if let text = query["timeoutSeconds"], !text.isEmpty {
            guard let value = Int(text), value >= 0 else {
                throw APIError.badRequest("invalid timeoutSeconds: \(text)")
            }
            timeoutSeconds = value
        }
        sendInitialEvents = query["sendInitialEvents"].map(Self.isTrue)
        if continueToken != nil, let resourceVersion, resourceVersion != "0" {
            throw APIError.badRequest("specifying resource version is not allowed when using continue")
        }
        if watch {
            try validateWatch()
        } else if let match = resourceVersionMatch {
            guard ["Exact", "NotOlderThan"].contains(match) else {
                throw APIError.badRequest(
                    "resourceVersionMatch: Unsupported value: \"\(match)\": supported values: \"Exact\", \"NotOlderThan\""
                )
            }
            guard resourceVersion != nil else {
                throw APIError.badRequest("resourceVersionMatch is forbidden unless resourceVersion is provided")
            }
            if match == "Exact", resourceVersion == "0" {
                throw APIError.badRequest("resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"")
            }
        }
    }

    static func isTrue(_ text: String) -> Bool { text == "true" || text == "1" }

    /// The revision a request names, or 400 when it is not a number.
    static func revision(_ text: String) throws(APIError) -> Int64 {
        guard let value = Int64(text), value >= 0 else {
            throw APIError.badRequest("invalid resource version \"\(text)\"")
        }
        return value
    }

    /// Upstream's rules for a watch: `resourceVersionMatch` goes only with `sendInitialEvents`, and then it must be
    /// NotOlderThan and bookmarks allowed (the end of the initial events is a bookmark).
    private func validateWatch() throws(APIError) {
        if sendInitialEvents != nil {
            guard resourceVersionMatch == "NotOlderThan" else {
                throw APIError.badRequest("sendInitialEvents requires setting resourceVersionMatch to NotOlderThan")
            }
            guard allowWatchBookmarks else {
                throw APIError.badRequest("sendInitialEvents requires setting allowWatchBookmarks to true")
            }
        } else if resourceVersionMatch != nil {
            throw APIError.badRequest(
                "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided")
        }
    }
}

/// The opaque `continue` token: the revision of the first page and the key to resume after, base64 JSON as upstream.
struct ContinueToken: Sendable, Equatable {
    var revision: Int64
    var startKey: String

    init(revision: Int64, startKey: String) {
        self.revision = revision
        self.startKey = startKey
    }

    init(encoded: String) throws(APIError) {
        guard let data = Data(base64Encoded: Self.padded(encoded)),
            let json = try? JSON.parse(Array(data)),
            json["v"]?.stringValue == "meta.k8s.io/v1",
            let revision = json["rv"]?.intValue, let start = json["start"]?.stringValue
        else {
            throw APIError.badRequest(
                "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
        }
        self.revision = revision
        self.startKey = start
    }

    var encoded: String {
        let json: JSON = ["v": "meta.k8s.io/v1", "rv": .int(revision), "start": .string(startKey)]
        return Data(json.encoded()).base64EncodedString()
    }

    private static func padded(_ text: String) -> String {
        let remainder = text.count % 4
        return remainder == 0 ? text : text + String(repeating: "=", count: 4 - remainder)
    }
}
