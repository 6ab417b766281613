/// A recursive-descent parser for CEL's grammar (cel-spec langdef), with cel-go's operator
/// precedence, its recursion and size limits, and its macros expanded as it goes.
struct Parser {
    /// cel-go's default limits: deeper or longer expressions are refused before they can exhaust the stack.
    static let maxRecursionDepth = 250
    static let maxCodePoints = 100_000

    private let source: String
    private let tokens: [Token]
    private var current = 0
    private var depth = 0

    init(source: String) throws(CELError) {
        let size = source.unicodeScalars.count
        if size > Self.maxCodePoints {
            throw CELError(
                .compile, "expression code point size exceeds limit: size: \(size), limit \(Self.maxCodePoints)")
        }
        self.source = source
        var lexer = Lexer(source: source)
        self.tokens = try lexer.tokenize()
    }

    /// A compile error in cel-go's format: position, message, and the line with a caret under the column.
    static func error(source: String, offset: Int, _ message: String) -> CELError {
        var line = 1
        var column = 0
        var lineText = String.UnicodeScalarView()
        var index = 0
        for scalar in source.unicodeScalars {
            if index == offset { break }
            if scalar == "\n" {
                line += 1
                column = 0
            } else {
                column += 1
            }
            index += 1
        }
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        if line - 1 < lines.count { lineText.append(contentsOf: lines[line - 1].unicodeScalars) }
        let snippet = "\n | \(String(lineText))\n | \(String(repeating: ".", count: column))^"
        return CELError(.compile, "ERROR: <input>:\(line):\(column + 1): \(message)\(snippet)")
    }

    private var token: Token { tokens[current] }

    func fail(_ message: String, at offset: Int? = nil) -> CELError {
        Self.error(source: source, offset: offset ?? token.offset, message)
    }

    private func mismatched(expecting: String) -> CELError {
        fail("Syntax error: mismatched input '\(token.text)' expecting \(expecting)")
    }

    private func isSymbol(_ symbol: String) -> Bool { token.kind == .symbol(symbol) }

    private mutating func accept(_ symbol: String) -> Bool {
        guard isSymbol(symbol) else { return false }
        current += 1
        return true
    }

    private mutating func expect(_ symbol: String) throws(CELError) {
        guard accept(symbol) else { throw mismatched(expecting: "'\(symbol)'") }
    }

    /// The whole input as one expression.
    mutating func parseExpression() throws(CELError) -> Expr {
        let expr = try expression()
        guard token.kind == .end else { throw fail("Syntax error: extraneous input '\(token.text)' expecting <EOF>") }
        return expr
    }

    private mutating func enter() throws(CELError) {
        depth += 1
        if depth > Self.maxRecursionDepth {
            throw fail("expression recursion limit exceeded: \(Self.maxRecursionDepth)")
        }
    }

    /// Counts one more operand of a left-associative chain (`a + b + c`, `a.b.c`): each nests the tree
    /// one level deeper, and the evaluator recurses as deep as the tree.
    private func extend(_ chain: inout Int) throws(CELError) {
        chain += 1
        if depth + chain > Self.maxRecursionDepth {
            throw fail("expression recursion limit exceeded: \(Self.maxRecursionDepth)")
        }
    }

    private mutating func expression() throws(CELError) -> Expr {
        try enter()
        defer { depth -= 1 }
        let condition = try logicalOr()
        guard accept("?") else { return condition }
        let whenTrue = try logicalOr()
        try expect(":")
        let whenFalse = try expression()
        return .conditional(condition, whenTrue, whenFalse)
    }

    private mutating func logicalOr() throws(CELError) -> Expr {
        var lhs = try logicalAnd()
        var chain = 0
        while accept("||") {
            try extend(&chain)
            lhs = .or(lhs, try logicalAnd())
        }
        return lhs
    }

    private mutating func logicalAnd() throws(CELError) -> Expr {
        var lhs = try relation()
        var chain = 0
        while accept("&&") {
            try extend(&chain)
            lhs = .and(lhs, try relation())
        }
        return lhs
    }

    private static let relations: [String: Function] = [
        "<": .less, "<=": .lessOrEqual, ">": .greater, ">=": .greaterOrEqual, "==": .equals, "!=": .notEquals,
        "in": .in,
    ]

    private mutating func relation() throws(CELError) -> Expr {
        var lhs = try addition()
        var chain = 0
        while case .symbol(let symbol) = token.kind, let function = Self.relations[symbol] {
            current += 1
            try extend(&chain)
            lhs = .call(function, target: nil, arguments: [lhs, try addition()])
        }
        return lhs
    }

    private mutating func addition() throws(CELError) -> Expr {
        var lhs = try multiplication()
        var chain = 0
        while true {
            if isSymbol("+") || isSymbol("-") { try extend(&chain) }
            if accept("+") {
                lhs = .call(.add, target: nil, arguments: [lhs, try multiplication()])
            } else if accept("-") {
                lhs = .call(.subtract, target: nil, arguments: [lhs, try multiplication()])
            } else {
                return lhs
            }
        }
    }

    private mutating func multiplication() throws(CELError) -> Expr {
        var lhs = try unary()
        var chain = 0
        while true {
            if isSymbol("*") || isSymbol("/") || isSymbol("%") { try extend(&chain) }
            let function: Function
            if accept("*") {
                function = .multiply
            } else if accept("/") {
                function = .divide
            } else if accept("%") {
                function = .modulo
            } else {
                return lhs
            }
            lhs = .call(function, target: nil, arguments: [lhs, try unary()])
        }
    }

    private mutating func unary() throws(CELError) -> Expr {
        try enter()
        defer { depth -= 1 }
        if isSymbol("!") {
            var count = 0
            while accept("!") { count += 1 }
            let operand = try member()
            // As cel-go: an even run of `!` cancels out, an odd run is one negation.
            return count % 2 == 0 ? operand : .call(.not, target: nil, arguments: [operand])
        }
        if isSymbol("-") {
            var count = 0
            while accept("-") { count += 1 }
            // `-` straight before a number is part of the literal, so `-9223372036854775808` is an int.
            if count % 2 == 1, case .int(let digits, let hex) = token.kind, !followedByMember() {
                let literal = try intLiteral(digits, hex: hex, negative: true)
                current += 1
                return try memberSuffixes(literal)
            }
            if count % 2 == 1, case .double(let value) = token.kind, !followedByMember() {
                current += 1
                return try memberSuffixes(.literal(.double(-value)))
            }
            let operand = try member()
            return count % 2 == 0 ? operand : .call(.negate, target: nil, arguments: [operand])
        }
        return try member()
    }

    /// Whether the token after the current one starts a member access, which binds tighter than `-`.
    private func followedByMember() -> Bool {
        guard current + 1 < tokens.count else { return false }
        let next = tokens[current + 1].kind
        return next == .symbol(".") || next == .symbol("[")
    }

    /// The int literal at the current token (not consumed), negated when a `-` preceded it.
    private func intLiteral(_ digits: String, hex: Bool, negative: Bool) throws(CELError) -> Expr {
        guard let magnitude = UInt64(digits, radix: hex ? 16 : 10) else {
            throw fail("invalid int literal")
        }
        if negative {
            guard magnitude <= Int64.min.magnitude else { throw fail("invalid int literal") }
            return .literal(.int(magnitude == Int64.min.magnitude ? .min : -Int64(magnitude)))
        }
        guard magnitude <= UInt64(Int64.max) else { throw fail("invalid int literal") }
        return .literal(.int(Int64(magnitude)))
    }

    private mutating func member() throws(CELError) -> Expr {
        try memberSuffixes(try primary())
    }

    private mutating func memberSuffixes(_ start: Expr) throws(CELError) -> Expr {
        var expr = start
        var chain = 0
        while true {
            if isSymbol(".") || isSymbol("[") { try extend(&chain) }
            if accept(".") {
                if accept("?") {
                    guard case .identifier(let name) = token.kind else { throw mismatched(expecting: "IDENTIFIER") }
                    current += 1
                    expr = .optionalSelect(expr, field: name)
                    continue
                }
                guard case .identifier(let name) = token.kind else { throw mismatched(expecting: "IDENTIFIER") }
                let nameOffset = token.offset
                current += 1
                if accept("(") {
                    let arguments = try argumentList(closing: ")")
                    expr = try call(name, target: expr, arguments: arguments, offset: nameOffset)
                } else {
                    expr = .select(expr, field: name)
                    // `google.protobuf.Duration` and its kin name types, not map lookups.
                    if let qualified = Self.qualifiedName(expr), let type = CELType.byIdentifier[qualified] {
                        expr = .literal(.type(type))
                    }
                }
            } else if accept("[") {
                let optional = accept("?")
                let index = try expression()
                try expect("]")
                expr = optional ? .optionalIndex(expr, index) : .index(expr, index)
            } else {
                return expr
            }
        }
    }

    /// `a.b.c` as one dotted name when it is only identifiers and selections.
    private static func qualifiedName(_ expr: Expr) -> String? {
        switch expr {
        case .identifier(let name, _): return name
        case .select(let operand, let field): return qualifiedName(operand).map { "\($0).\(field)" }
        default: return nil
        }
    }

    private mutating func argumentList(closing: String) throws(CELError) -> [Expr] {
        var arguments: [Expr] = []
        if accept(closing) { return arguments }
        repeat {
            if closing == "]" && isSymbol("]") { break }  // a trailing comma in a list literal
            arguments.append(try expression())
        } while accept(",")
        try expect(closing)
        return arguments
    }

    private mutating func primary() throws(CELError) -> Expr {
        try enter()
        defer { depth -= 1 }
        let start = token
        switch start.kind {
        case .int(let digits, let hex):
            let literal = try intLiteral(digits, hex: hex, negative: false)
            current += 1
            return literal
        case .uint(let value):
            current += 1
            return .literal(.uint(value))
        case .double(let value):
            current += 1
            return .literal(.double(value))
        case .string(let value):
            current += 1
            return .literal(.string(value))
        case .bytes(let value):
            current += 1
            return .literal(.bytes(value))
        case .identifier(let name):
            current += 1
            switch name {
            case "true": return .literal(.bool(true))
            case "false": return .literal(.bool(false))
            case "null": return .literal(.null)
            default: break
            }
            if Lexer.reserved.contains(name) { throw fail("reserved identifier: \(name)", at: start.offset) }
            if accept("(") {
                let arguments = try argumentList(closing: ")")
                return try call(name, target: nil, arguments: arguments, offset: start.offset)
            }
            if isSymbol("{") { throw fail("Syntax error: message construction is not supported") }
            return .identifier(name, offset: start.offset)
        case .symbol("("):
            current += 1
            let inner = try expression()
            try expect(")")
            return inner
        case .symbol("["):
            current += 1
            return .list(try argumentList(closing: "]"))
        case .symbol("{"):
            current += 1
            return try mapLiteral()
        case .symbol("."):
            current += 1
            guard case .identifier(let name) = token.kind else { throw mismatched(expecting: "IDENTIFIER") }
            current += 1
            return .identifier(name, offset: start.offset)
        default:
            throw fail(
                "Syntax error: mismatched input '\(start.text)' expecting {'[', '{', '(', '.', '-', '!', 'true', "
                    + "'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}")
        }
    }

    private mutating func mapLiteral() throws(CELError) -> Expr {
        var entries: [(key: Expr, value: Expr)] = []
        while !isSymbol("}") {
            let key = try expression()
            try expect(":")
            entries.append((key, try expression()))
            if !accept(",") { break }
        }
        try expect("}")
        return .map(entries)
    }
}
