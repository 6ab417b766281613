/// One token of CEL's grammar, with the scalar offset it starts at (for error positions).
struct Token: Sendable {
    enum Kind: Sendable, Equatable {
        /// Decimal or hex digits of an int literal; range-checked by the parser, which knows about a
        /// leading minus (`-9223372036854775808`).
        case int(String, hex: Bool)
        case uint(UInt64)
        case double(Double)
        case string(String)
        case bytes([UInt8])
        case identifier(String)
        /// An operator or punctuation, including keyword operators `in`.
        case symbol(String)
        case end
    }

    var kind: Kind
    var offset: Int
    /// The token's text, for messages such as `mismatched input '<text>'`.
    var text: String
}

/// Splits CEL source into tokens, following the lexical rules of cel-spec's langdef.
struct Lexer {
    private let scalars: [Unicode.Scalar]
    private let source: String
    private var position = 0

    init(source: String) {
        self.source = source
        self.scalars = Array(source.unicodeScalars)
    }

    static let reserved: Set<String> = [
        "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop", "package",
        "namespace", "return", "var", "void", "while",
    ]

    private static let symbols2: Set<String> = ["==", "!=", "<=", ">=", "&&", "||"]
    private static let symbols1: Set<Character> = [
        "<", ">", "!", "+", "-", "*", "/", "%", "?", ":", ".", ",", "[", "]", "(", ")", "{", "}",
    ]

    mutating func tokenize() throws(CELError) -> [Token] {
        var tokens: [Token] = []
        while true {
            let token = try next()
            tokens.append(token)
            if token.kind == .end { return tokens }
        }
    }

    private func peek(_ ahead: Int = 0) -> Unicode.Scalar? {
        position + ahead < scalars.count ? scalars[position + ahead] : nil
    }

    private func text(from start: Int) -> String {
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars[start..<position])
        return String(out)
    }

    private mutating func skipSpaceAndComments() {
        while let c = peek() {
            if c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{0C}" {
                position += 1
            } else if c == "/" && peek(1) == "/" {
                while let d = peek(), d != "\n" { position += 1 }
            } else {
                return
            }
        }
    }

    private mutating func next() throws(CELError) -> Token {
        skipSpaceAndComments()
        let start = position
        guard let c = peek() else { return Token(kind: .end, offset: start, text: "<EOF>") }
        if c.isDigit || (c == "." && peek(1)?.isDigit == true) { return try number() }
        if c == "\"" || c == "'" { return try quoted(start: start, raw: false, bytes: false) }
        if c.isIdentifierStart {
            while let d = peek(), d.isIdentifierStart || d.isDigit { position += 1 }
            let word = text(from: start)
            if let quote = peek(), quote == "\"" || quote == "'" {
                let lower = word.lowercased()
                if ["r", "b", "rb", "br"].contains(lower) {
                    return try quoted(start: start, raw: lower.contains("r"), bytes: lower.contains("b"))
                }
            }
            if word == "in" { return Token(kind: .symbol("in"), offset: start, text: word) }
            return Token(kind: .identifier(word), offset: start, text: word)
        }
        if let d = peek(1) {
            let pair = String(Character(c)) + String(Character(d))
            if Self.symbols2.contains(pair) {
                position += 2
                return Token(kind: .symbol(pair), offset: start, text: pair)
            }
        }
        if Self.symbols1.contains(Character(c)) {
            position += 1
            return Token(kind: .symbol(String(Character(c))), offset: start, text: String(Character(c)))
        }
        throw Parser.error(
            source: source, offset: start, "Syntax error: token recognition error at: '\(Character(c))'")
    }

    private mutating func number() throws(CELError) -> Token {
        let start = position
        if peek() == "0", let x = peek(1), x == "x" || x == "X", peek(2)?.isHexDigit == true {
            position += 2
            let digitsStart = position
            while peek()?.isHexDigit == true { position += 1 }
            let digits = text(from: digitsStart)
            if let u = peek(), u == "u" || u == "U" {
                position += 1
                guard let value = UInt64(digits, radix: 16) else {
                    throw Parser.error(source: source, offset: start, "invalid uint literal")
                }
                return Token(kind: .uint(value), offset: start, text: text(from: start))
            }
            return Token(kind: .int(digits, hex: true), offset: start, text: text(from: start))
        }
        while peek()?.isDigit == true { position += 1 }
        var isDouble = false
        if peek() == ".", peek(1)?.isDigit == true {
            isDouble = true
            position += 1
            while peek()?.isDigit == true { position += 1 }
        }
        if let e = peek(), e == "e" || e == "E" {
            var ahead = 1
            if let sign = peek(1), sign == "+" || sign == "-" { ahead = 2 }
            if peek(ahead)?.isDigit == true {
                isDouble = true
                position += ahead
                while peek()?.isDigit == true { position += 1 }
            }
        }
        let literal = text(from: start)
        if isDouble {
            guard let value = Double(literal) else {
                throw Parser.error(source: source, offset: start, "invalid double literal")
            }
            return Token(kind: .double(value), offset: start, text: literal)
        }
        if let u = peek(), u == "u" || u == "U" {
            position += 1
            guard let value = UInt64(literal) else {
                throw Parser.error(source: source, offset: start, "invalid uint literal")
            }
            return Token(kind: .uint(value), offset: start, text: text(from: start))
        }
        return Token(kind: .int(literal, hex: false), offset: start, text: literal)
    }

    private mutating func quoted(start: Int, raw: Bool, bytes: Bool) throws(CELError) -> Token {
        guard let quote = peek() else { throw unterminated(start) }
        let triple = peek(1) == quote && peek(2) == quote
        position += triple ? 3 : 1
        var out: [UInt8] = []
        while true {
            guard let c = peek() else { throw unterminated(start) }
            if c == quote && (!triple || (peek(1) == quote && peek(2) == quote)) {
                position += triple ? 3 : 1
                break
            }
            if !triple && (c == "\n" || c == "\r") { throw unterminated(start) }
            if c == "\\" && !raw {
                try escape(into: &out, bytes: bytes, start: start)
                continue
            }
            if raw && c == "\\", let d = peek(1), d == quote {
                // A raw string still lets `\'` through as two characters rather than ending the string.
                out.append(contentsOf: Array("\\".utf8) + Array(String(Character(d)).utf8))
                position += 2
                continue
            }
            out.append(contentsOf: Array(String(Character(c)).utf8))
            position += 1
        }
        let text = self.text(from: start)
        if bytes { return Token(kind: .bytes(out), offset: start, text: text) }
        guard let string = String(validating: out, as: UTF8.self) else {
            throw Parser.error(source: source, offset: start, "Syntax error: invalid UTF-8 in string literal")
        }
        return Token(kind: .string(string), offset: start, text: text)
    }

    private func unterminated(_ start: Int) -> CELError {
        Parser.error(source: source, offset: start, "Syntax error: token recognition error at: '\(text(from: start))'")
    }

    private mutating func escape(into out: inout [UInt8], bytes: Bool, start: Int) throws(CELError) {
        let escapeStart = position
        position += 1
        guard let c = peek() else { throw unterminated(start) }
        position += 1
        let simple: [Unicode.Scalar: UInt8] = [
            "a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, "?": 63, "\"": 34, "'": 39,
            "`": 96,
        ]
        if let byte = simple[c] {
            out.append(byte)
            return
        }
        func hex(_ count: Int) throws(CELError) -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<count {
                guard let d = peek(), let digit = d.hexValue else { throw invalidEscape(escapeStart) }
                value = value * 16 + digit
                position += 1
            }
            return value
        }
        switch c {
        case "x", "X":
            let value = try hex(2)
            if bytes {
                out.append(UInt8(value))
            } else if let scalar = Unicode.Scalar(value) {
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            }
        case "u", "U":
            let value = try hex(c == "u" ? 4 : 8)
            guard let scalar = Unicode.Scalar(value) else { throw invalidEscape(escapeStart) }
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
        case "0"..."3":
            var value = UInt32(c.value - 48)
            for _ in 0..<2 {
                guard let d = peek(), ("0"..."7").contains(d) else { throw invalidEscape(escapeStart) }
                value = value * 8 + (d.value - 48)
                position += 1
            }
            if bytes {
                out.append(UInt8(value))
            } else if let scalar = Unicode.Scalar(value) {
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            }
        default:
            throw invalidEscape(escapeStart)
        }
    }

    private func invalidEscape(_ offset: Int) -> CELError {
        Parser.error(source: source, offset: offset, "Syntax error: invalid escape sequence")
    }
}

extension Unicode.Scalar {
    fileprivate var isDigit: Bool { ("0"..."9").contains(self) }
    fileprivate var isHexDigit: Bool { hexValue != nil }
    fileprivate var isIdentifierStart: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) || self == "_" }
    fileprivate var hexValue: UInt32? {
        switch self {
        case "0"..."9": return value - 48
        case "a"..."f": return value - 87
        case "A"..."F": return value - 55
        default: return nil
        }
    }
}
