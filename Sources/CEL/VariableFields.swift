extension CELProgram {
    /// The fields the expression selects on the variable `name` (`variables.a` and `has(variables.b)` give
    /// `["a", "b"]`), so a host can compute lazily bound members (admission policies' `variables`) only
    /// when an expression reads them. Nil when the variable is used otherwise (indexed, passed whole), in
    /// which case every member may be read.
    public func fieldsSelected(on name: String) -> Set<String>? {
        var fields: Set<String> = []
        return FieldCollector.collect(root, name, shadowed: false, into: &fields) ? fields : nil
    }
}

/// Walks an expression for `FieldCollector.collect`: false as soon as the variable appears outside a
/// field selection.
private enum FieldCollector {
    static func collect(_ expr: Expr, _ name: String, shadowed: Bool, into fields: inout Set<String>) -> Bool {
        func walk(_ child: Expr, shadowed inner: Bool = shadowed) -> Bool {
            collect(child, name, shadowed: inner, into: &fields)
        }
        switch expr {
        case .literal: return true
        case .identifier(let identifier, _): return shadowed || identifier != name
        case .select(let operand, let field), .presence(let operand, let field),
            .optionalSelect(let operand, let field):
            if !shadowed, case .identifier(name, _) = operand {
                fields.insert(field)
                return true
            }
            return walk(operand)
        case .index(let operand, let index), .optionalIndex(let operand, let index):
            return walk(operand) && walk(index)
        case .call(_, let target, let arguments):
            if let target, !walk(target) { return false }
            return arguments.allSatisfy { walk($0) }
        case .list(let items): return items.allSatisfy { walk($0) }
        case .map(let entries): return entries.allSatisfy { walk($0.key) && walk($0.value) }
        case .and(let lhs, let rhs), .or(let lhs, let rhs): return walk(lhs) && walk(rhs)
        case .conditional(let a, let b, let c): return walk(a) && walk(b) && walk(c)
        case .comprehension(let comprehension):
            guard walk(comprehension.range) else { return false }
            let inner = shadowed || comprehension.variable == name
            return [comprehension.predicate, comprehension.transform].allSatisfy {
                $0.map { walk($0, shadowed: inner) } ?? true
            }
        }
    }
}
