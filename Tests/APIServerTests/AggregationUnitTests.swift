import APIMachinery
import Foundation
import NIOHTTP1
import NIOSSL
import Operations
import XCTest

@testable import APIServer

/// APIService validation with upstream's messages, the request-header authenticator, the headers the proxy
/// forwards, and how merged discovery orders groups.
final class AggregationUnitTests: XCTestCase {
    func apiService(_ name: String, _ spec: JSON) -> JSON {
        [
            "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": ["name": .string(name)],
            "spec": spec,
        ]
    }

    func messages(_ object: JSON) -> [String] { APIServiceValidation.validate(object).map(\.description) }

    func testValidAPIServicesPass() {
        XCTAssertEqual(
            messages(apiService("v1.", ["version": "v1", "groupPriorityMinimum": 18000, "versionPriority": 1])), [])
        XCTAssertEqual(
            messages(
                apiService(
                    "v1alpha1.wardle.example.com",
                    [
                        "group": "wardle.example.com", "version": "v1alpha1", "groupPriorityMinimum": 1000,
                        "versionPriority": 15, "service": ["namespace": "wardle", "name": "api", "port": 443],
                        "insecureSkipTLSVerify": true,
                    ])), [])
    }

    func testInvalidAPIServicesGetUpstreamsMessages() {
        XCTAssertEqual(
            messages(apiService("v2.", ["version": "v2", "groupPriorityMinimum": 0, "versionPriority": 1001])),
            [
                #"spec.group: Required value: only v1 may have an empty group and it better be legacy kube"#,
                #"spec.groupPriorityMinimum: Invalid value: 0: must be positive and less than 20000"#,
                #"spec.versionPriority: Invalid value: 1001: must be positive and less than 1000"#,
            ])
        XCTAssertEqual(
            messages(
                apiService(
                    "v1.a.example.com",
                    [
                        "group": "b.example.com", "version": "1", "groupPriorityMinimum": 1, "versionPriority": 1,
                        "caBundle": .string(Data("pem".utf8).base64EncodedString()), "insecureSkipTLSVerify": true,
                    ])),
            [
                #"metadata.name: Invalid value: "v1.a.example.com": must be `spec.version+"."+spec.group`: "1.b.example.com""#,
                #"spec.version: Invalid value: "1": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"#,
                #"spec.caBundle: Invalid value: "3 bytes": local APIServices may not have a caBundle"#,
                #"spec.insecureSkipTLSVerify: Invalid value: true: local APIServices may not have insecureSkipTLSVerify"#,
            ])
        XCTAssertEqual(
            messages(
                apiService(
                    "v1.b.example.com",
                    [
                        "group": "b.example.com", "version": "v1", "groupPriorityMinimum": 1, "versionPriority": 1,
                        "service": ["port": 0], "caBundle": .string(Data("pem".utf8).base64EncodedString()),
                        "insecureSkipTLSVerify": true,
                    ])),
            [
                "spec.service.namespace: Required value", "spec.service.name: Required value",
                "spec.service.port: Invalid value: 0: port is not valid: must be between 1 and 65535, inclusive",
                "spec.insecureSkipTLSVerify: Invalid value: true: may not be true if caBundle is present",
            ])
    }

    func testServicePortDefaultsTo443AndTheTableSaysWhereAndWhether() {
        var object = apiService(
            "v1.b.example.com",
            ["group": "b.example.com", "version": "v1", "service": ["namespace": "ns", "name": "api"]])
        APIServiceStrategy().applyDefaults(&object)
        XCTAssertEqual(object["spec"]?["service"]?["port"], 443)
        object["status"] = ["conditions": [["type": "Available", "status": "False", "reason": "MissingEndpoints"]]]
        let cells = APIServiceStrategy().cells(object)
        XCTAssertEqual(cells[1], "ns/api")
        XCTAssertEqual(cells[2], "False (MissingEndpoints)")
    }

    // MARK: request-header authentication

    struct FrontProxy {
        let authority: CertificateAuthority
        let chain: [NIOSSLCertificate]
    }

    func frontProxy(commonName: String = "front-proxy-client") throws -> FrontProxy {
        let authority = try CertificateAuthority.create(commonName: "front-proxy-ca")
        let client = try authority.issueClient(user: commonName)
        return FrontProxy(
            authority: authority, chain: try NIOSSLCertificate.fromPEMBytes(Array(client.certificatePEM.utf8)))
    }

    func authenticator(_ authority: CertificateAuthority, allowedNames: [String] = []) throws
        -> RequestHeaderAuthenticator
    {
        try RequestHeaderAuthenticator(
            caCertificates: try NIOSSLCertificate.fromPEMBytes(Array(authority.certificatePEM.utf8)),
            allowedNames: allowedNames, usernameHeaders: ["X-Remote-User"], groupHeaders: ["X-Remote-Group"],
            extraHeaderPrefixes: ["X-Remote-Extra-"])
    }

    func testRequestHeadersOfATrustedProxyNameTheUser() async throws {
        let proxy = try frontProxy()
        var headers: HTTPHeaders = ["X-Remote-User": "alice", "X-Remote-Group": "devs"]
        headers.add(name: "X-Remote-Group", value: "ops")
        headers.add(name: "x-remote-extra-Scopes%2Fread", value: "a")
        headers.add(name: "X-Remote-Extra-scopes%2fread", value: "b")
        let result = try await authenticator(proxy.authority, allowedNames: ["front-proxy-client"]).authenticate(
            chain: proxy.chain, headers: headers)
        XCTAssertEqual(
            result, .user(UserInfo(name: "alice", groups: ["devs", "ops"], extra: ["scopes/read": ["a", "b"]])))
    }

    func testFrontProxyCertificatesAreKubeadmsPairAndKeepTheirCA() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("front-proxy-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try FrontProxyCertificates.write(directory: directory)
        for name in FrontProxyCertificates.fileNames {
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/" + name), name)
        }
        let again = try FrontProxyCertificates.write(directory: directory)
        XCTAssertEqual(again.certificateAuthority.certificatePEM, first.certificateAuthority.certificatePEM)
        XCTAssertEqual(again.client.certificatePEM, first.client.certificatePEM)
        // The client certificate is what a server started with the pair's flags accepts as a front proxy.
        let flags = FrontProxyCertificates.apiServerFlags(directory: directory)
        XCTAssertTrue(flags.contains("--requestheader-allowed-names=front-proxy-client"))
        let chain = try NIOSSLCertificate.fromPEMFile(directory + "/front-proxy-client.pem")
        let result = try await authenticator(first.certificateAuthority, allowedNames: ["front-proxy-client"])
            .authenticate(chain: chain, headers: ["X-Remote-User": "alice"])
        XCTAssertEqual(result, .user(UserInfo(name: "alice", groups: [])))
    }

    func testAProxyOutsideTheAllowedNamesIsRefused() async throws {
        let proxy = try frontProxy(commonName: "intruder")
        let result = try await authenticator(proxy.authority, allowedNames: ["front-proxy-client"]).authenticate(
            chain: proxy.chain, headers: ["X-Remote-User": "alice"])
        XCTAssertEqual(result, .failed("x509: subject with cn=intruder is not in the allowed list"))
        // Any name will do when none are listed.
        let open = try await authenticator(proxy.authority).authenticate(
            chain: proxy.chain, headers: ["X-Remote-User": "alice"])
        XCTAssertEqual(open, .user(UserInfo(name: "alice", groups: [])))
    }

    func testMissingHeadersOrAnotherCAAreNotAFrontProxy() async throws {
        let proxy = try frontProxy()
        let trusted = try authenticator(proxy.authority)
        let noUser = await trusted.authenticate(chain: proxy.chain, headers: ["X-Remote-Group": "devs"])
        XCTAssertEqual(noUser, .notApplicable)
        let noCertificate = await trusted.authenticate(chain: [], headers: ["X-Remote-User": "alice"])
        XCTAssertEqual(noCertificate, .notApplicable)
        let other = try frontProxy()
        guard case .failed = await trusted.authenticate(chain: other.chain, headers: ["X-Remote-User": "alice"])
        else { return XCTFail("a certificate from another CA vouched for a user") }
    }

    // MARK: proxy and discovery

    func testForwardedHeadersCarryTheAuthenticatedUserOnly() {
        var headers: HTTPHeaders = [
            "Authorization": "Bearer secret", "Impersonate-User": "root", "X-Remote-User": "mallory",
            "X-Remote-Extra-Evil": "1", "Accept": "application/json", "Connection": "keep-alive", "Host": "front",
        ]
        headers.add(name: "X-Remote-Group", value: "system:masters")
        let user = UserInfo(name: "alice", groups: ["devs", "system:authenticated"], extra: ["scopes/read": ["x"]])
        headers.add(name: "X-Forwarded-For", value: "10.0.0.1")
        let forwarded = APIServer.forwardedHeaders(
            headers, user: user, host: "127.0.0.142:443", bodyLength: 0, clientAddress: "127.0.0.9")
        XCTAssertEqual(forwarded["X-Forwarded-For"], ["10.0.0.1, 127.0.0.9"])
        XCTAssertEqual(forwarded["X-Remote-User"], ["alice"])
        XCTAssertEqual(forwarded["X-Remote-Group"], ["devs", "system:authenticated"])
        XCTAssertEqual(forwarded["X-Remote-Extra-scopes%2Fread"], ["x"])
        XCTAssertEqual(forwarded["X-Remote-Extra-Evil"], [])
        XCTAssertEqual(forwarded["Authorization"], [])
        XCTAssertEqual(forwarded["Impersonate-User"], [])
        XCTAssertEqual(forwarded["Connection"], [])
        XCTAssertEqual(forwarded["Host"], ["127.0.0.142:443"])
        XCTAssertEqual(forwarded["Accept"], ["application/json"])
    }

    func testMergedDiscoveryOrdersGroupsByPriorityAndConvertsResourceLists() throws {
        let local = Discovery(resources: [Catalog.resources[0]], virtualResources: [])
        let list: JSON = [
            "kind": "APIResourceList", "groupVersion": "wardle.example.com/v1alpha1",
            "resources": [
                [
                    "name": "flunders", "singularName": "flunder", "namespaced": true, "kind": "Flunder",
                    "verbs": ["get"],
                ],
                [
                    "name": "flunders/status", "singularName": "", "namespaced": true, "kind": "Flunder",
                    "verbs": ["get"],
                ],
            ],
        ]
        let remote = [
            (GroupVersion(group: "wardle.example.com", version: "v1alpha1"), list),
            (GroupVersion(group: "wardle.example.com", version: "v1"), list),
            (GroupVersion(group: "zeta.example.com", version: "v1"), list),
        ]
        let merged = local.merging(remote: remote) { groupVersion in
            groupVersion.group == "zeta.example.com"
                ? Aggregator.Priority(group: 2000, version: 1) : Aggregator.Priority(group: 1000, version: 1)
        }
        let groups = try JSON.parse(merged.groupList)["groups"]?.arrayValue ?? []
        XCTAssertEqual(groups.compactMap { $0["name"]?.stringValue }, ["zeta.example.com", "wardle.example.com"])
        // Equal version priorities: GA before alpha.
        XCTAssertEqual(groups[1]["preferredVersion"]?["version"], "v1")
        let items = try JSON.parse(merged.aggregatedGroups)["items"]?.arrayValue ?? []
        let alpha = items[1]["versions"]?.arrayValue?[1]
        XCTAssertEqual(alpha?["version"], "v1alpha1")
        let flunders = alpha?["resources"]?.arrayValue?.first
        XCTAssertEqual(flunders?["resource"], "flunders")
        XCTAssertEqual(flunders?["scope"], "Namespaced")
        XCTAssertEqual(flunders?["subresources"]?.arrayValue?.first?["subresource"], "status")
    }

    func testKubeAwareVersionOrder() {
        let versions = ["v1alpha1", "foo1", "v2", "v11beta2", "v10beta3", "v1", "v12alpha1", "foo10", "v10", "v3beta1"]
        XCTAssertEqual(
            versions.sorted(by: KubeVersionOrder.precedes),
            ["v10", "v2", "v1", "v11beta2", "v10beta3", "v3beta1", "v12alpha1", "v1alpha1", "foo1", "foo10"])
    }
}
