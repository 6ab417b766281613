/// Name and label syntax checks with upstream's messages (k8s.io/apimachinery/pkg/util/validation).
public enum NameValidation {
    static let subdomainMessage =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    static let labelMessage =
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    static let dns1035Message =
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
    static let qualifiedNameMessage =
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    static let labelValueMessage =
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

    static func isLowerAlnum(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
    static func isAlnum(_ byte: UInt8) -> Bool {
        isLowerAlnum(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    static func isLabelSyntax(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let first = bytes.first, let last = bytes.last, isLowerAlnum(first), isLowerAlnum(last) else {
            return false
        }
        return bytes.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
    }

    /// Problems with `value` as an RFC 1123 subdomain (most object names); empty when valid.
    public static func dns1123Subdomain(_ value: String) -> [String] {
        var problems: [String] = []
        if value.utf8.count > 253 { problems.append("must be no more than 253 characters") }
        let bytes = Array(value.utf8)
        let labels = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        if bytes.isEmpty || !labels.allSatisfy(isLabelSyntax) { problems.append(subdomainMessage) }
        return problems
    }

    /// Problems with `value` as an RFC 1123 label (namespace names, for example).
    public static func dns1123Label(_ value: String) -> [String] {
        var problems: [String] = []
        if value.utf8.count > 63 { problems.append("must be no more than 63 characters") }
        if !isLabelSyntax(ArraySlice(value.utf8)) { problems.append(labelMessage) }
        return problems
    }

    /// Problems with `value` as an RFC 1035 label (service names).
    public static func dns1035Label(_ value: String) -> [String] {
        var problems: [String] = []
        if value.utf8.count > 63 { problems.append("must be no more than 63 characters") }
        let bytes = Array(value.utf8)
        if let first = bytes.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first),
            isLabelSyntax(ArraySlice(bytes))
        {
        } else {
            problems.append(dns1035Message)
        }
        return problems
    }

    /// Problems with `value` as a path segment name (RBAC objects and other names used in URLs only).
    public static func pathSegmentName(_ value: String) -> [String] {
        if value == "." || value == ".." { return ["may not be '\(value)'"] }
        var problems: [String] = []
        for character in ["/", "%"] where value.contains(character) {
            problems.append("may not contain '\(character)'")
        }
        return problems
    }

    static func isQualifiedNamePart(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let first = bytes.first, let last = bytes.last, isAlnum(first), isAlnum(last) else { return false }
        return bytes.allSatisfy {
            isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
        }
    }

    /// Problems with `value` as a label or annotation key: `[prefix/]name`.
    public static func qualifiedName(_ value: String) -> [String] {
        let parts = value.split(separator: "/", omittingEmptySubsequences: false)
        var problems: [String] = []
        let name: Substring
        switch parts.count {
        case 1: name = parts[0]
        case 2:
            if parts[0].isEmpty {
                problems.append("prefix part must be non-empty")
            } else {
                problems += dns1123Subdomain(String(parts[0])).map { "prefix part " + $0 }
            }
            name = parts[1]
        default:
            return [
                "a qualified name " + qualifiedNameMessage.dropFirst("name part ".count)
                    + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            ]
        }
        if name.isEmpty {
            problems.append("name part must be non-empty")
        } else {
            if name.utf8.count > 63 { problems.append("name part must be no more than 63 characters") }
            if !isQualifiedNamePart(ArraySlice(name.utf8)) { problems.append(qualifiedNameMessage) }
        }
        return problems
    }

    /// Problems with `value` as a label value.
    public static func labelValue(_ value: String) -> [String] {
        if value.isEmpty { return [] }
        var problems: [String] = []
        if value.utf8.count > 63 { problems.append("must be no more than 63 characters") }
        if !isQualifiedNamePart(ArraySlice(value.utf8)) { problems.append(labelValueMessage) }
        return problems
    }

    static let configMapKeyMessage =
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
        + "'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"

    /// Problems with `key` as a key of a ConfigMap's or Secret's data, as upstream's `IsConfigMapKey`: it becomes
    /// a file name in a volume, so no path separators and no `.`, `..` or `..` prefix.
    public static func configMapKey(_ key: String) -> [String] {
        var problems: [String] = []
        if key.utf8.count > 253 { problems.append("must be no more than 253 characters") }
        let allowed = key.utf8.allSatisfy {
            isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
        }
        if key.isEmpty || !allowed { problems.append(configMapKeyMessage) }
        if key == "." {
            problems.append("must not be '.'")
        } else if key == ".." {
            problems.append("must not be '..'")
        } else if key.hasPrefix("..") {
            problems.append("must not start with '..'")
        }
        return problems
    }
}
