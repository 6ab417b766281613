import APIMachinery
import Component
import Foundation
import Logging
import XCTest

@testable import APIServer

/// Reading `--admission-control-config-file`: versions, YAML and JSON, embedded and relative-path plugin
/// documents, unknown plugins kept, and start-up errors that name the file.
final class AdmissionConfigurationFileTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("admission-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Writes `text` to `name` in this test's folder and returns its path.
    private func write(_ name: String, _ text: String) throws -> String {
        let path = folder + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private static let podSecurityBaseline = """
        apiVersion: pod-security.admission.config.k8s.io/v1
        kind: PodSecurityConfiguration
        defaults: {enforce: baseline, warn: restricted}
        exemptions: {namespaces: [kube-system], usernames: [admin], runtimeClasses: [kata]}
        """

    func testEmbeddedAndRelativePathDocumentsAndUnknownPlugins() throws {
        _ = try write("quota.yaml", "apiVersion: apiserver.config.k8s.io/v1\nkind: Configuration\n")
        let file = try write(
            "admission.yaml",
            """
            apiVersion: apiserver.config.k8s.io/v1
            kind: AdmissionConfiguration
            plugins:
            - name: PodSecurity
              configuration:
            \(Self.podSecurityBaseline.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
            - name: ResourceQuota
              path: quota.yaml
            - name: SomethingElse
              path: /nowhere.yaml
            """)
        let configuration = try AdmissionConfiguration.read(file: file)
        XCTAssertEqual(configuration.plugins.map(\.name), ["PodSecurity", "ResourceQuota", "SomethingElse"])
        XCTAssertEqual(configuration.plugins[1].path, folder + "/quota.yaml")
        XCTAssertEqual(configuration.plugins[2].path, "/nowhere.yaml")
        XCTAssertEqual(try configuration.document(for: "ResourceQuota")?["kind"], "Configuration")
        XCTAssertNil(try configuration.document(for: "LimitRanger"))

        let settings = AdmissionPluginSettings(configuration)
        XCTAssertEqual(settings.podSecurity.defaults.enforce.level, .baseline)
        XCTAssertEqual(settings.podSecurity.defaults.warn.level, .restricted)
        XCTAssertEqual(settings.podSecurity.defaults.audit.level, .privileged)
        XCTAssertEqual(settings.podSecurity.exemptNamespaces, ["kube-system"])
        XCTAssertEqual(settings.podSecurity.exemptUsernames, ["admin"])
        XCTAssertEqual(settings.podSecurity.exemptRuntimeClasses, ["kata"])
        XCTAssertTrue(settings.errors.isEmpty, "\(settings.errors)")
        // The unknown plugin's missing file is never read.
        XCTAssertNoThrow(try settings.check(enabled: ["PodSecurity", "ResourceQuota"]))
    }

    func testJSONAndLegacyVersionsAreRead() throws {
        _ = try write("ps.yaml", Self.podSecurityBaseline)
        for version in ["apiserver.config.k8s.io/v1alpha1", "apiserver.k8s.io/v1alpha1"] {
            let file = try write(
                "admission.json",
                #"{"apiVersion": "\#(version)", "kind": "AdmissionConfiguration", "plugins": [{"name": "PodSecurity", "path": "ps.yaml"}]}"#
            )
            let settings = AdmissionPluginSettings(try AdmissionConfiguration.read(file: file))
            XCTAssertEqual(settings.podSecurity.defaults.enforce.level, .baseline, version)
        }
    }

    func testEmbeddedConfigurationWinsOverPath() throws {
        let file = try write(
            "admission.yaml",
            """
            apiVersion: apiserver.config.k8s.io/v1
            kind: AdmissionConfiguration
            plugins:
            - name: PodSecurity
              path: missing.yaml
              configuration: {apiVersion: pod-security.admission.config.k8s.io/v1, kind: PodSecurityConfiguration, defaults: {enforce: restricted}}
            """)
        let settings = AdmissionPluginSettings(try AdmissionConfiguration.read(file: file))
        XCTAssertEqual(settings.podSecurity.defaults.enforce.level, .restricted)
    }

    func testBadFilesFailNamingTheFile() throws {
        let missing = folder + "/absent.yaml"
        XCTAssertThrowsError(try AdmissionConfiguration.read(file: missing)) { error in
            XCTAssertTrue("\(error)".hasPrefix("unable to read admission control configuration from \"\(missing)\""))
        }
        let cases: [(String, String)] = [
            ("plugins: []\n", "Object 'Kind' is missing"),
            ("kind: AdmissionConfiguration\n", "Object 'apiVersion' is missing"),
            (
                "apiVersion: v1\nkind: AdmissionConfiguration\n",
                #"no kind "AdmissionConfiguration" is registered for version "v1""#
            ),
            ("apiVersion: apiserver.config.k8s.io/v1\nkind: Foo\n", #"no kind "Foo" is registered"#),
            (
                "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins: [{path: x}]\n",
                "plugins[0].name: Required value"
            ),
            ("{not yaml: [", "error converting YAML to JSON"),
        ]
        for (text, problem) in cases {
            let file = try write("bad.yaml", text)
            XCTAssertThrowsError(try AdmissionConfiguration.read(file: file), text) { error in
                let message = "\(error)"
                XCTAssertTrue(
                    message.hasPrefix("unable to read admission control configuration from \"\(file)\" ["), message)
                XCTAssertTrue(message.contains(problem), message)
            }
        }
    }

    func testABadPluginDocumentFailsOnlyWhenItsPluginIsEnabled() throws {
        let file = try write(
            "admission.yaml",
            """
            apiVersion: apiserver.config.k8s.io/v1
            kind: AdmissionConfiguration
            plugins:
            - name: PodSecurity
              configuration: {apiVersion: pod-security.admission.config.k8s.io/v1, kind: PodSecurityConfiguration, defaults: {enforce: strict}}
            - name: ValidatingAdmissionWebhook
              configuration: {apiVersion: apiserver.config.k8s.io/v1, kind: WebhookAdmissionConfiguration, kubeConfigFile: relative}
            - name: MutatingAdmissionWebhook
              path: gone.yaml
            """)
        let settings = AdmissionPluginSettings(try AdmissionConfiguration.read(file: file))
        XCTAssertNoThrow(try settings.check(enabled: ["NamespaceLifecycle"]))
        XCTAssertThrowsError(try settings.check(enabled: ["PodSecurity"])) { error in
            XCTAssertEqual(
                "\(error)",
                #"couldn't init admission plugin "PodSecurity" (configured in "\#(file)"): "#
                    + #"defaults.enforce: Invalid value: "strict": must be one of privileged, baseline, restricted"#)
        }
        XCTAssertThrowsError(try settings.check(enabled: ["ValidatingAdmissionWebhook"])) { error in
            XCTAssertTrue("\(error)".hasSuffix(#"kubeConfigFile "relative" must be an absolute file path"#), "\(error)")
        }
        XCTAssertThrowsError(try settings.check(enabled: ["MutatingAdmissionWebhook"])) { error in
            XCTAssertEqual(
                "\(error)", "couldn't open admission plugin configuration \(folder)/gone.yaml (named in \"\(file)\")")
        }
    }

    func testTheFlagBuildsAConfiguredChain() throws {
        let file = try write(
            "admission.yaml",
            """
            apiVersion: apiserver.config.k8s.io/v1
            kind: AdmissionConfiguration
            plugins:
            - name: PodSecurity
              configuration: {apiVersion: pod-security.admission.config.k8s.io/v1, kind: PodSecurityConfiguration, defaults: {enforce: baseline}}
            """)
        var flags = FlagSet(APIServerCommand.flags)
        try flags.parse([
            "--admission-control=NamespaceLifecycle,PodSecurity", "--admission-control-config-file=\(file)",
        ])
        let chain = try APIServerCommand.admissionChain(flags, logger: Logger(label: "test"))
        let podSecurity = chain.plugins.compactMap { $0 as? PodSecurityAdmission }.first
        XCTAssertEqual(podSecurity?.configuration.defaults.enforce.level, .baseline)
    }
}
