import Foundation

extension Kubeconfig {
    /// The kubeconfig as YAML, in the layout `kubectl config view --raw` prints (keys sorted,
    /// lists of `name` + object), readable by kubectl and by ``parse(_:)``.
    public func renderYAML() -> String {
        var out = "apiVersion: v1\n"
        out += clusters.isEmpty ? "clusters: []\n" : "clusters:\n"
        for entry in clusters {
            let cluster = entry.value
            out += "- cluster:\n"
            out += Self.field("certificate-authority", cluster.certificateAuthority, indent: 4)
            out += Self.field(
                "certificate-authority-data", cluster.certificateAuthorityData?.base64EncodedString(),
                indent: 4)
            if cluster.insecureSkipTLSVerify {
                out += "    insecure-skip-tls-verify: true\n"
            }
            out += Self.field("server", cluster.server, indent: 4)
            out += Self.field("tls-server-name", cluster.tlsServerName, indent: 4)
            out += "  name: \(YAMLScalar.quote(entry.name))\n"
        }
        out += contexts.isEmpty ? "contexts: []\n" : "contexts:\n"
        for entry in contexts {
            let context = entry.value
            out += "- context:\n"
            out += Self.field("cluster", context.cluster, indent: 4)
            out += Self.field("namespace", context.namespace, indent: 4)
            out += Self.field("user", context.user, indent: 4)
            out += "  name: \(YAMLScalar.quote(entry.name))\n"
        }
        out += "current-context: \(YAMLScalar.quote(currentContext))\n"
        out += "kind: Config\n"
        out += "preferences: {}\n"
        out += users.isEmpty ? "users: []\n" : "users:\n"
        for entry in users {
            let user = entry.value
            out += "- name: \(YAMLScalar.quote(entry.name))\n"
            let body =
                Self.field("client-certificate", user.clientCertificate, indent: 4)
                + Self.field(
                    "client-certificate-data", user.clientCertificateData?.base64EncodedString(), indent: 4)
                + Self.field("client-key", user.clientKey, indent: 4)
                + Self.field("client-key-data", user.clientKeyData?.base64EncodedString(), indent: 4)
                + Self.field("password", user.password, indent: 4)
                + Self.field("token", user.token, indent: 4)
                + Self.field("tokenFile", user.tokenFile, indent: 4)
                + Self.field("username", user.username, indent: 4)
            // An empty mapping must be written as {}; "user:" alone would mean null.
            out += body.isEmpty ? "  user: {}\n" : "  user:\n" + body
        }
        return out
    }

    /// One `key: value` line, or nothing when the value is absent (kubectl omits empty fields).
    private static func field(_ key: String, _ value: String?, indent: Int) -> String {
        guard let value, !value.isEmpty else { return "" }
        return String(repeating: " ", count: indent) + key + ": " + YAMLScalar.quote(value) + "\n"
    }
}

/// Writes a string as a YAML scalar that every YAML 1.1 and 1.2 reader (go-yaml in kubectl,
/// libyaml in Yams) reads back as the same string.
enum YAMLScalar {
    /// Plain scalars that YAML 1.1 would turn into booleans or null.
    private static let reservedWords: Set<String> = [
        "y", "yes", "n", "no", "true", "false", "on", "off", "null", "~",
    ]

    /// Characters allowed in an unquoted scalar. Leaving out `#`, `,`, `[`, `{`, `&`, `*`, `!`,
    /// `|`, `>`, `'`, `"`, `%`, `@`, `` ` `` and spaces keeps every indicator out.
    private static func isPlainCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", ".", "/", ":", "-", "_", "+", "=": return true
        default: return false
        }
    }

    /// The text unquoted when that is unambiguous, else double-quoted with escapes.
    static func quote(_ text: String) -> String {
        if isSafePlain(text) { return text }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            // C0 and C1 controls, DEL, and the Unicode line/paragraph separators that YAML 1.1
            // counts as line breaks: escape so the value stays on one line and survives intact.
            case "\u{00}"..."\u{1F}", "\u{7F}"..."\u{9F}", "\u{2028}", "\u{2029}", "\u{FEFF}":
                out += String(format: "\\u%04X", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func isSafePlain(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last else {
            return false
        }
        // A leading digit, sign or dot could read as a number (10.0.0.1 is fine in 1.2 but
        // 1.1 readers have sexagesimal and underscore rules); only letters may start plain.
        guard ("a"..."z").contains(first) || ("A"..."Z").contains(first) else { return false }
        // "key:" at the end of a plain scalar would start a mapping.
        guard last != ":" else { return false }
        guard !reservedWords.contains(text.lowercased()) else { return false }
        return text.unicodeScalars.allSatisfy(isPlainCharacter)
    }
}
