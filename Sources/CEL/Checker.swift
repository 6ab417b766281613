/// Refuses identifiers that name nothing, as cel-go's checker does with declared variables, so a
/// rule with a typo fails when its CRD is written rather than on every object.
struct Checker {
    let source: String
    let declared: Set<String>

    func check(_ expr: Expr, scope: Set<String> = []) throws(CELError) {
        switch expr {
        case .literal: return
        case .identifier(let name, let offset):
            if declared.contains(name) || scope.contains(name) || CELType.byIdentifier[name] != nil { return }
            throw Parser.error(source: source, offset: offset, "undeclared reference to '\(name)' (in container '')")
        case .select(let operand, _), .presence(let operand, _), .optionalSelect(let operand, _):
            try check(operand, scope: scope)
        case .index(let operand, let index), .optionalIndex(let operand, let index):
            try check(operand, scope: scope)
            try check(index, scope: scope)
        case .call(_, let target, let arguments):
            if let target { try check(target, scope: scope) }
            for argument in arguments { try check(argument, scope: scope) }
        case .list(let items):
            for item in items { try check(item, scope: scope) }
        case .map(let entries):
            for entry in entries {
                try check(entry.key, scope: scope)
                try check(entry.value, scope: scope)
            }
        case .and(let lhs, let rhs), .or(let lhs, let rhs):
            try check(lhs, scope: scope)
            try check(rhs, scope: scope)
        case .conditional(let condition, let whenTrue, let whenFalse):
            try check(condition, scope: scope)
            try check(whenTrue, scope: scope)
            try check(whenFalse, scope: scope)
        case .comprehension(let comprehension):
            try check(comprehension.range, scope: scope)
            let inner = scope.union([comprehension.variable])
            if let predicate = comprehension.predicate { try check(predicate, scope: inner) }
            if let transform = comprehension.transform { try check(transform, scope: inner) }
        }
    }

    /// Whether `name` is read free in `expr`.
    static func references(_ expr: Expr, _ name: String) -> Bool {
        switch expr {
        case .literal: return false
        case .identifier(let identifier, _): return identifier == name
        case .select(let operand, _), .presence(let operand, _), .optionalSelect(let operand, _):
            return references(operand, name)
        case .index(let operand, let index), .optionalIndex(let operand, let index):
            return references(operand, name) || references(index, name)
        case .call(_, let target, let arguments):
            return target.map { references($0, name) } == true || arguments.contains { references($0, name) }
        case .list(let items): return items.contains { references($0, name) }
        case .map(let entries): return entries.contains { references($0.key, name) || references($0.value, name) }
        case .and(let lhs, let rhs), .or(let lhs, let rhs): return references(lhs, name) || references(rhs, name)
        case .conditional(let a, let b, let c): return references(a, name) || references(b, name) || references(c, name)
        case .comprehension(let comprehension):
            if references(comprehension.range, name) { return true }
            if comprehension.variable == name { return false }
            return [comprehension.predicate, comprehension.transform].contains {
                $0.map { references($0, name) } == true
            }
        }
    }
}
