import APIMachinery

extension APIServer {
    /// /openapi/v2 and /openapi/v3 documents; served from the Schemas module once it is wired in.
    func openAPI(_ request: HTTPRequest, parts: [String]) throws -> HTTPResponse? {
        nil
    }
}
