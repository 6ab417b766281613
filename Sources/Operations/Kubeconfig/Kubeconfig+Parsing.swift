import Foundation
import Yams

/// Why a kubeconfig could not be read.
public enum KubeconfigError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The text is not valid YAML or JSON.
    case syntax(String)
    /// A field has the wrong type or an unusable value; `path` is like `clusters[0].cluster.server`.
    case invalidField(path: String, reason: String)
    /// The file could not be read or written.
    case file(path: String, reason: String)

    public var description: String {
        switch self {
        case .syntax(let message): return "kubeconfig: \(message)"
        case .invalidField(let path, let reason): return "kubeconfig: \(path): \(reason)"
        case .file(let path, let reason): return "kubeconfig \(path): \(reason)"
        }
    }
}

extension Kubeconfig {
    /// Parses a kubeconfig written as YAML (as kubectl writes it, or by hand) or as JSON.
    ///
    /// Unknown fields are ignored as kubectl ignores them; paths are returned as written
    /// (see ``load(fromFile:)`` for kubectl's resolution against the file's directory).
    public static func parse(_ text: String) throws -> Kubeconfig {
        let root = try ConfigValue.parse(text)
        return try decode(root)
    }

    /// Reads and parses a kubeconfig file, resolving relative paths against its directory.
    public static func load(fromFile path: String) throws -> Kubeconfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw KubeconfigError.file(path: path, reason: error.localizedDescription)
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(text).resolvingPaths(relativeTo: directory)
    }

    /// Writes the YAML rendering to `path` with mode 0600, since it may hold keys and tokens.
    public func write(toFile path: String) throws {
        do {
            try SecureFile.write(renderYAML(), to: path, mode: SecureFile.privateMode)
        } catch {
            throw KubeconfigError.file(path: path, reason: "\(error)")
        }
    }

    private static func decode(_ root: ConfigValue) throws -> Kubeconfig {
        var config = Kubeconfig()
        let top = try root.mapping(at: "")
        config.currentContext = try top["current-context"].string(at: "current-context") ?? ""
        config.clusters = try named(top["clusters"], list: "clusters", item: "cluster") {
            fields, path in
            Cluster(
                server: try fields["server"].string(at: path + ".server") ?? "",
                certificateAuthority: try fields["certificate-authority"].string(
                    at: path + ".certificate-authority"),
                certificateAuthorityData: try fields["certificate-authority-data"].base64(
                    at: path + ".certificate-authority-data"),
                insecureSkipTLSVerify: try fields["insecure-skip-tls-verify"].bool(
                    at: path + ".insecure-skip-tls-verify")
                    ?? false,
                tlsServerName: try fields["tls-server-name"].string(at: path + ".tls-server-name"))
        }
        config.users = try named(top["users"], list: "users", item: "user") { fields, path in
            User(
                clientCertificate: try fields["client-certificate"].string(
                    at: path + ".client-certificate"),
                clientCertificateData: try fields["client-certificate-data"].base64(
                    at: path + ".client-certificate-data"),
                clientKey: try fields["client-key"].string(at: path + ".client-key"),
                clientKeyData: try fields["client-key-data"].base64(at: path + ".client-key-data"),
                token: try fields["token"].string(at: path + ".token"),
                tokenFile: try fields["tokenFile"].string(at: path + ".tokenFile"),
                username: try fields["username"].string(at: path + ".username"),
                password: try fields["password"].string(at: path + ".password"))
        }
        config.contexts = try named(top["contexts"], list: "contexts", item: "context") {
            fields, path in
            Context(
                cluster: try fields["cluster"].string(at: path + ".cluster") ?? "",
                user: try fields["user"].string(at: path + ".user") ?? "",
                namespace: try fields["namespace"].string(at: path + ".namespace"))
        }
        return config
    }

    /// Decodes a list of `{name: …, <item>: {…}}` entries.
    private static func named<Value>(
        _ value: ConfigValue?, list: String, item: String,
        _ build: ([String: ConfigValue], String) throws -> Value
    ) throws -> [Named<Value>] {
        guard let value, !value.isNull else { return [] }
        guard case .list(let entries) = value else {
            throw KubeconfigError.invalidField(path: list, reason: "expected a list")
        }
        var result: [Named<Value>] = []
        for (index, entry) in entries.enumerated() {
            let path = "\(list)[\(index)]"
            let fields = try entry.mapping(at: path)
            let name = try fields["name"].string(at: path + ".name") ?? ""
            let body = fields[item].flatMap { $0.isNull ? nil : $0 }
            result.append(
                Named(name, try build(body?.mapping(at: path + "." + item) ?? [:], path + "." + item)))
        }
        return result
    }
}

/// A parsed YAML or JSON value, reduced to what a kubeconfig needs.
enum ConfigValue: Sendable {
    /// A scalar's text; `plain` is false for quoted YAML scalars and JSON strings, which are
    /// never null or boolean.
    case scalar(String, plain: Bool)
    case list([ConfigValue])
    case map([String: ConfigValue])

    /// Parses JSON when the text is a JSON object, YAML otherwise.
    static func parse(_ text: String) throws -> ConfigValue {
        let trimmed = text.drop { $0.isWhitespace || $0 == "\u{FEFF}" }
        // JSON through JSONDecoder: libyaml rejects some valid JSON (tab indentation).
        if trimmed.first == "{" {
            do {
                return try JSONDecoder().decode(ConfigValue.self, from: Data(trimmed.utf8))
            } catch {
                // A YAML flow mapping also starts with "{"; let the YAML reader have it.
            }
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw KubeconfigError.syntax("\(error)")
        }
        guard let node else { return .map([:]) }
        return ConfigValue(node)
    }

    init(_ node: Node) {
        if let mapping = node.mapping {
            var fields: [String: ConfigValue] = [:]
            for (key, value) in mapping {
                fields[key.string ?? ""] = ConfigValue(value)
            }
            self = .map(fields)
        } else if let sequence = node.sequence {
            self = .list(sequence.map(ConfigValue.init))
        } else if let scalar = node.scalar {
            self = .scalar(scalar.string, plain: scalar.style == .plain || scalar.style == .any)
        } else {
            self = .scalar("", plain: true)
        }
    }

    /// YAML's null: an empty, `~` or `null` plain scalar.
    var isNull: Bool {
        guard case .scalar(let text, true) = self else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(text)
    }

    func mapping(at path: String) throws -> [String: ConfigValue] {
        if isNull { return [:] }
        guard case .map(let fields) = self else {
            throw KubeconfigError.invalidField(
                path: path.isEmpty ? "(document)" : path, reason: "expected a mapping")
        }
        return fields
    }
}

extension ConfigValue: Decodable {
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .scalar("null", plain: true)
        } else if let value = try? container.decode(Bool.self) {
            self = .scalar(value ? "true" : "false", plain: true)
        } else if let value = try? container.decode(String.self) {
            self = .scalar(value, plain: false)
        } else if let value = try? container.decode(Double.self) {
            // Integers print without ".0", as YAML would have written them.
            let integral = value.rounded() == value && abs(value) < 1e15
            self = .scalar(integral ? String(Int64(value)) : String(value), plain: true)
        } else if let value = try? container.decode([ConfigValue].self) {
            self = .list(value)
        } else {
            self = .map(try container.decode([String: ConfigValue].self))
        }
    }
}

extension ConfigValue? {
    /// A string field; absent, null and empty all mean "not set", as in kubectl.
    func string(at path: String) throws -> String? {
        guard let self, !self.isNull else { return nil }
        guard case .scalar(let text, _) = self else {
            throw KubeconfigError.invalidField(path: path, reason: "expected a string")
        }
        return text.isEmpty ? nil : text
    }

    /// A boolean field; YAML 1.1 spellings are accepted as go-yaml accepts them.
    func bool(at path: String) throws -> Bool? {
        guard let text = try string(at: path) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on", "y": return true
        case "false", "no", "off", "n": return false
        default:
            throw KubeconfigError.invalidField(
                path: path, reason: "expected true or false, got \"\(text)\"")
        }
    }

    /// A `-data` field: base64 of the bytes.
    func base64(at path: String) throws -> Data? {
        guard let text = try string(at: path) else { return nil }
        // Tolerate line breaks that a hand-folded YAML value may carry; nothing else.
        let compact = text.filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: compact) else {
            throw KubeconfigError.invalidField(path: path, reason: "illegal base64 data")
        }
        return data
    }
}
