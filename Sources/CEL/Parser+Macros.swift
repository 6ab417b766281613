/// Calls by name: macros (`has`, `all`, `exists`, `exists_one`, `map`, `filter`) become their expanded
/// forms, `optional.*` its functions, and any other name must be a known function.
extension Parser {
    /// A call by name: a macro expanded here, else a known function (an unknown one is refused as
    /// cel-go's checker refuses it).
    func call(_ name: String, target: Expr?, arguments: [Expr], offset: Int) throws(CELError) -> Expr {
        if let macro = try expandMacro(name, target: target, arguments: arguments, offset: offset) { return macro }
        // `optional.of(x)` reads as a method of an `optional` variable but is a namespaced function.
        if case .identifier("optional", _) = target, let function = Function(rawValue: "optional." + name) {
            return .call(function, target: nil, arguments: arguments)
        }
        guard let function = Function(rawValue: name), !name.contains("_"), !name.contains("."),
            !name.hasPrefix("@")
        else {
            throw fail("undeclared reference to '\(name)' (in container '')", at: offset)
        }
        return .call(function, target: target, arguments: arguments)
    }

    private func expandMacro(
        _ name: String, target: Expr?, arguments: [Expr], offset: Int
    ) throws(CELError) -> Expr? {
        if name == "has" && target == nil && arguments.count == 1 {
            guard case .select(let operand, let field) = arguments[0] else {
                throw fail("invalid argument to has() macro", at: offset)
            }
            return .presence(operand, field: field)
        }
        guard let range = target else { return nil }
        let kind: Comprehension.Kind
        switch (name, arguments.count) {
        case ("all", 2): kind = .all
        case ("exists", 2): kind = .exists
        case ("exists_one", 2): kind = .existsOne
        case ("map", 2), ("map", 3): kind = .map
        case ("filter", 2): kind = .filter
        default: return nil
        }
        guard case .identifier(let variable, _) = arguments[0] else {
            throw fail("argument must be a simple name", at: offset)
        }
        var comprehension = Comprehension(kind: kind, range: range, variable: variable)
        if kind == .map {
            comprehension.transform = arguments[arguments.count - 1]
            if arguments.count == 3 { comprehension.predicate = arguments[1] }
        } else {
            comprehension.predicate = arguments[1]
        }
        return .comprehension(comprehension)
    }
}
