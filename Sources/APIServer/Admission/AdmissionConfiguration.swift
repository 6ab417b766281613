public import APIMachinery
import Foundation
import Operations

/// Upstream's `AdmissionConfiguration` (`--admission-control-config-file`): per plugin, either an embedded
/// `configuration` document or a `path` to one, relative to the file's folder. Entries for plugins this
/// server does not know are kept and ignored, as upstream keeps them.
public struct AdmissionConfiguration: Sendable {
    /// One `plugins[]` entry.
    public struct Plugin: Sendable, Hashable {
        public var name: String
        /// The embedded document; it wins over `path` when both are set, as upstream reads them.
        public var configuration: JSON?
        /// An absolute path (relative ones are resolved against the configuration file's folder).
        public var path: String?
    }

    /// The API versions upstream's kube-apiserver decodes an `AdmissionConfiguration` in.
    static let apiVersions: Set<String> = [
        "apiserver.config.k8s.io/v1", "apiserver.config.k8s.io/v1alpha1", "apiserver.k8s.io/v1alpha1",
    ]

    public var plugins: [Plugin]
    /// The file read, named in errors; empty when no file was given.
    public var file: String

    /// No file: every plugin takes its defaults.
    public init() {
        plugins = []
        file = ""
    }

    /// Reads `file` as upstream's `ReadAdmissionConfiguration` does; every failure names the file.
    public static func read(file: String) throws(AdmissionConfigurationError) -> AdmissionConfiguration {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw AdmissionConfigurationError(
                file: file,
                "unable to read admission control configuration from \"\(file)\" [no such file or unreadable]")
        }
        return try parse(Array(data), file: file)
    }

    /// Decodes the bytes of `file` (YAML or JSON).
    static func parse(_ bytes: [UInt8], file: String) throws(AdmissionConfigurationError) -> AdmissionConfiguration {
        func failure(_ problem: String) -> AdmissionConfigurationError {
            AdmissionConfigurationError(
                file: file, "unable to read admission control configuration from \"\(file)\" [\(problem)]")
        }
        let document: JSON?
        do {
            document = try YAMLDocument.decode(bytes)
        } catch {
            throw failure(error.description)
        }
        guard let document, document.objectValue != nil else { throw failure("not an object") }
        guard let kind = document["kind"]?.stringValue, !kind.isEmpty else {
            throw failure("Object 'Kind' is missing")
        }
        guard let apiVersion = document["apiVersion"]?.stringValue, !apiVersion.isEmpty else {
            throw failure("Object 'apiVersion' is missing")
        }
        guard kind == "AdmissionConfiguration", apiVersions.contains(apiVersion) else {
            throw failure("no kind \"\(kind)\" is registered for version \"\(apiVersion)\"")
        }
        let folder = (file as NSString).deletingLastPathComponent
        var plugins: [Plugin] = []
        for (index, entry) in (document["plugins"]?.arrayValue ?? []).enumerated() {
            guard entry.objectValue != nil else { throw failure("plugins[\(index)]: not an object") }
            guard let name = entry["name"]?.stringValue else { throw failure("plugins[\(index)].name: Required value") }
            var configuration = entry["configuration"]
            if configuration == .null { configuration = nil }
            if let configuration, configuration.objectValue == nil {
                throw failure("plugins[\(index)].configuration: must be an object")
            }
            var path = entry["path"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            if let relative = path, !relative.hasPrefix("/") {
                path = (folder as NSString).appendingPathComponent(relative)
            }
            plugins.append(Plugin(name: name, configuration: configuration, path: path))
        }
        var result = AdmissionConfiguration()
        result.plugins = plugins
        result.file = file
        return result
    }

    /// The plugin's own document: the first entry naming it, its embedded document or else its file;
    /// nil when the plugin is not configured (it takes its defaults).
    public func document(for name: String) throws(AdmissionConfigurationError) -> JSON? {
        guard let plugin = plugins.first(where: { $0.name == name }) else { return nil }
        if let configuration = plugin.configuration { return configuration }
        guard let path = plugin.path else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AdmissionConfigurationError(
                file: file, "couldn't open admission plugin configuration \(path) (named in \"\(file)\")")
        }
        do {
            return try YAMLDocument.decode(Array(data))
        } catch {
            throw AdmissionConfigurationError(
                file: file, "couldn't read admission plugin configuration \(path) (named in \"\(file)\"): \(error)")
        }
    }
}

/// An admission configuration the server cannot start with; the message names the file.
public struct AdmissionConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var message: String
    public var description: String { message }

    init(file: String, _ message: String) {
        self.file = file
        self.message = message
    }
}
