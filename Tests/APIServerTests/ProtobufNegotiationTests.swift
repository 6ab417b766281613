import APIMachinery
import Foundation
import Operations
import XCTest

@testable import APIServer

/// `Accept` negotiation as upstream's `NegotiateMediaTypeOptions`, and the merge rules of the published
/// extension-apiserver-authentication data, without a server.
final class ProtobufNegotiationTests: XCTestCase {
    let full = ResponseFormat.Capabilities(table: true, protobuf: true)

    func format(_ accept: String?, _ capabilities: ResponseFormat.Capabilities? = nil, stream: Bool = false) throws
        -> ResponseFormat
    {
        try ResponseFormat.negotiate(accept: accept, capabilities: capabilities ?? full, stream: stream)
    }

    func testClausesInPreferenceOrder() throws {
        XCTAssertEqual(try format(nil), .json)
        XCTAssertEqual(try format("*/*"), .json)
        XCTAssertEqual(try format("application/vnd.kubernetes.protobuf, */*").media, .protobuf)
        XCTAssertEqual(try format("application/json;q=0.5, application/vnd.kubernetes.protobuf").media, .protobuf)
        // Equal q: a specific type goes before a wildcard, else the order sent.
        XCTAssertEqual(try format("*/*, application/vnd.kubernetes.protobuf").media, .protobuf)
        XCTAssertEqual(try format("application/*").media, .json)
        // A kind without a protobuf schema skips the protobuf clause.
        let noProtobuf = ResponseFormat.Capabilities(table: true, protobuf: false)
        XCTAssertEqual(try format("application/vnd.kubernetes.protobuf, application/json", noProtobuf), .json)
    }

    func testConversionsAndTheirLimits() throws {
        XCTAssertEqual(
            try format("application/json;as=Table;v=v1;g=meta.k8s.io").target, .table(version: "v1"))
        XCTAssertEqual(
            try format("application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1beta1"),
            ResponseFormat(media: .protobuf, target: .partialObjectMetadataList(version: "v1beta1")))
        // Table is JSON or YAML only, and only where the resource has one.
        XCTAssertEqual(
            try format("application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io, application/json"), .json)
        let review = ResponseFormat.Capabilities(table: false, protobuf: true)
        XCTAssertThrowsError(try format("application/json;as=Table;v=v1;g=meta.k8s.io", review)) { error in
            XCTAssertEqual((error as? APIError)?.code, 406)
        }
        for refused in [
            "application/json;as=Table;g=example.com;v=v1", "application/json;as=Table;g=meta.k8s.io;v=v2",
            "application/json;as=Widget;g=meta.k8s.io;v=v1", "application/json;g=meta.k8s.io;v=v1",
            "application/json;stream=events", "text/html",
        ] {
            XCTAssertThrowsError(try format(refused), refused)
        }
        XCTAssertEqual(try format("application/vnd.kubernetes.protobuf;stream=watch", stream: true).media, .protobuf)
        XCTAssertThrowsError(try format("application/yaml", stream: true)) { error in
            XCTAssertEqual(
                (error as? APIError)?.message,
                "only the following media types are accepted: application/json;stream=watch, "
                    + "application/vnd.kubernetes.protobuf;stream=watch")
        }
    }

    func testAuthenticationDataMergesWithWhatOtherServersPublished() throws {
        let first = try CertificateAuthority.create(commonName: "one").certificatePEM
        let second = try CertificateAuthority.create(commonName: "two").certificatePEM
        let trust = AuthenticationTrust(
            clientCAFile: "unused", requestHeaderClientCAFile: "unused", requestHeaderAllowedNames: ["proxy"],
            requestHeaderUsernameHeaders: ["X-Remote-User"])
        // Without a request-header CA only the client CA is published.
        let clientOnly = APIServer.authenticationData(
            existing: JSONObject(), trust: trust, clientCA: first, requestHeaderCA: "")
        XCTAssertEqual(clientOnly.keys, ["client-ca-file"])

        let existing: JSONObject = [
            "client-ca-file": .string(second), "requestheader-allowed-names": #"["other","proxy"]"#,
        ]
        let merged = APIServer.authenticationData(
            existing: existing, trust: trust, clientCA: first + first, requestHeaderCA: first)
        let clients = try XCTUnwrap(merged["client-ca-file"]?.stringValue)
        XCTAssertEqual(clients.components(separatedBy: "BEGIN CERTIFICATE").count - 1, 2, "each CA once")
        XCTAssertEqual(merged["requestheader-allowed-names"], #"["other","proxy"]"#)
        XCTAssertEqual(merged["requestheader-username-headers"], #"["X-Remote-User"]"#)
        XCTAssertEqual(merged["requestheader-group-headers"], "[]")
        XCTAssertEqual(
            Set(merged.keys),
            [
                "client-ca-file", "requestheader-client-ca-file", "requestheader-allowed-names",
                "requestheader-username-headers", "requestheader-group-headers", "requestheader-extra-headers-prefix",
            ])
        let expired = try CertificateAuthority.create(
            commonName: "old", lifetime: 3_600, now: Date(timeIntervalSinceNow: -86_400)
        ).certificatePEM
        XCTAssertEqual(APIServer.mergedBundle(expired, ""), "")
    }
}
