/// Walks an `Expr` with variables bound, counting runtime cost as it goes.
///
/// Errors are Swift errors rather than values; `&&`, `||` and the `all`/`exists` macros catch them to
/// give CEL's commutative absorption (`false && error` and `error && false` are both `false`). A
/// cost-limit error is never absorbed: it cancels the whole evaluation, as cel-go's tracker panics.
struct Interpreter {
    let variables: [String: CELValue]
    let costLimit: Int64
    private(set) var cost: Int64 = 0
    /// Comprehension variables, innermost last, so an inner macro's variable shadows an outer one.
    private var locals: [(name: String, value: CELValue)] = []
    /// Patterns compiled during this evaluation, so a regex inside a macro is compiled once.
    private var regexes: [String: RegexFunctions] = [:]

    init(variables: [String: CELValue], costLimit: Int64) {
        self.variables = variables
        self.costLimit = costLimit
    }

    /// Adds `amount` to the running cost and cancels the evaluation once it passes the limit.
    mutating func charge(_ amount: Int64 = 1) throws(CELError) {
        let (sum, overflow) = cost.addingReportingOverflow(amount)
        cost = overflow ? .max : sum
        if cost > costLimit { throw .costLimit }
    }

    mutating func evaluate(_ expr: Expr) throws(CELError) -> CELValue {
        switch expr {
        case .literal(let value):
            return value
        case .identifier(let name, _):
            try charge()
            return try lookup(name)
        case .select(let operand, let field):
            let base = try evaluate(operand)
            try charge()
            if case .optional(let wrapped) = base {
                // Selecting on an optional stays optional: none stays none, a present value is selected strictly.
                guard let wrapped else { return base }
                return .optional(try Self.select(wrapped, field))
            }
            return try Self.select(base, field)
        case .optionalSelect(let operand, let field):
            var base = try evaluate(operand)
            try charge()
            if case .optional(let wrapped) = base {
                guard let wrapped else { return base }
                base = wrapped
            }
            guard case .map(let map) = base else { throw .noSuchOverload }
            return .optional(map[field])
        case .optionalIndex(let operand, let index):
            var base = try evaluate(operand)
            let key = try evaluate(index)
            try charge()
            if case .optional(let wrapped) = base {
                guard let wrapped else { return base }
                base = wrapped
            }
            switch base {
            case .map(let map): return .optional(map[key])
            case .list(let items):
                guard case .int(let i) = key else { throw .noSuchOverload }
                return .optional(i >= 0 && i < items.count ? items[Int(i)] : nil)
            default: throw .noSuchOverload
            }
        case .presence(let operand, let field):
            let base = try evaluate(operand)
            try charge()
            guard case .map(let map) = base else { throw .evaluation("invalid type for field selection.") }
            return .bool(map[field] != nil)
        case .index(let operand, let index):
            let base = try evaluate(operand)
            let key = try evaluate(index)
            try charge()
            if case .optional(let wrapped) = base {
                guard let wrapped else { return base }
                return .optional(try Operators.index(wrapped, key))
            }
            return try Operators.index(base, key)
        case .call(let function, let target, let arguments):
            var values: [CELValue] = []
            values.reserveCapacity(arguments.count + 1)
            if let target { values.append(try evaluate(target)) }
            for argument in arguments { values.append(try evaluate(argument)) }
            try charge()
            return try call(function, method: target != nil, values)
        case .list(let items):
            var values: [CELValue] = []
            values.reserveCapacity(items.count)
            for item in items { values.append(try evaluate(item)) }
            try charge(10)
            return .list(values)
        case .map(let entries):
            var map = CELMap()
            for entry in entries {
                let key = try evaluate(entry.key)
                let value = try evaluate(entry.value)
                guard CELMap.key(key) != nil, key.type != .double else {
                    throw .evaluation("unsupported key type: \(key.type)")
                }
                guard map.insert(key: key, value: value) else { throw .evaluation("Failed with repeated key") }
            }
            try charge(30)
            return .map(map)
        case .and(let lhs, let rhs):
            return try logical(lhs, rhs, absorbing: false)
        case .or(let lhs, let rhs):
            return try logical(lhs, rhs, absorbing: true)
        case .conditional(let condition, let whenTrue, let whenFalse):
            guard case .bool(let chosen) = try evaluate(condition) else { throw .noSuchOverload }
            return try evaluate(chosen ? whenTrue : whenFalse)
        case .comprehension(let comprehension):
            return try evaluate(comprehension)
        }
    }

    private static func select(_ base: CELValue, _ field: String) throws(CELError) -> CELValue {
        guard case .map(let map) = base else { throw .noSuchOverload }
        guard let value = map[field] else { throw .evaluation("no such key: \(field)") }
        return value
    }

    mutating func regex(_ pattern: String) throws(CELError) -> RegexFunctions {
        if let cached = regexes[pattern] { return cached }
        let compiled = try RegexFunctions.compile(pattern)
        regexes[pattern] = compiled
        return compiled
    }

    private func lookup(_ name: String) throws(CELError) -> CELValue {
        for local in locals.reversed() where local.name == name { return local.value }
        if let value = variables[name] { return value }
        if let type = CELType.byIdentifier[name] { return .type(type) }
        throw .evaluation("no such attribute(s): \(name)")
    }

    /// `&&` (`absorbing: false`) and `||` (`absorbing: true`): the absorbing value on either side wins,
    /// even over an error on the other side; otherwise the left error, then the right one, surfaces.
    private mutating func logical(_ lhs: Expr, _ rhs: Expr, absorbing: Bool) throws(CELError) -> CELValue {
        var leftError: CELError?
        switch attempt(lhs) {
        case .success(.bool(let value)):
            if value == absorbing { return .bool(absorbing) }
        case .success:
            leftError = .noSuchOverload
        case .failure(let error):
            if error.kind == .costLimitExceeded { throw error }
            leftError = error
        }
        let right: CELValue
        switch attempt(rhs) {
        case .success(let value): right = value
        case .failure(let error):
            if error.kind == .costLimitExceeded { throw error }
            throw leftError ?? error
        }
        guard case .bool(let value) = right else { throw leftError ?? .noSuchOverload }
        if value == absorbing { return .bool(absorbing) }
        if let leftError { throw leftError }
        return .bool(!absorbing)
    }

    private mutating func attempt(_ expr: Expr) -> Result<CELValue, CELError> {
        do {
            return .success(try evaluate(expr))
        } catch {
            return .failure(error)
        }
    }

    private mutating func evaluate(
        _ expr: Expr, binding name: String, to value: CELValue
    ) throws(CELError) -> CELValue {
        locals.append((name, value))
        defer { locals.removeLast() }
        return try evaluate(expr)
    }

    private mutating func attempt(_ expr: Expr, binding name: String, to value: CELValue) -> Result<CELValue, CELError>
    {
        do {
            return .success(try evaluate(expr, binding: name, to: value))
        } catch {
            return .failure(error)
        }
    }

    private mutating func evaluate(_ comprehension: Comprehension) throws(CELError) -> CELValue {
        let items: [CELValue]
        switch try evaluate(comprehension.range) {
        case .list(let list): items = list
        case .map(let map): items = map.entries.map(\.key)
        default: throw .noSuchOverload
        }
        let name = comprehension.variable
        switch comprehension.kind {
        case .all, .exists:
            // The loop stops at the first deciding value; an error seen before it is absorbed, as
            // cel-go's `@not_strictly_false` loop condition does.
            let deciding = comprehension.kind == .exists
            guard let predicate = comprehension.predicate else { throw .noSuchOverload }
            var firstError: CELError?
            for item in items {
                try charge()
                switch attempt(predicate, binding: name, to: item) {
                case .success(.bool(let value)):
                    if value == deciding { return .bool(deciding) }
                case .success:
                    if firstError == nil { firstError = .noSuchOverload }
                case .failure(let error):
                    if error.kind == .costLimitExceeded { throw error }
                    if firstError == nil { firstError = error }
                }
            }
            if let firstError { throw firstError }
            return .bool(!deciding)
        case .existsOne:
            guard let predicate = comprehension.predicate else { throw .noSuchOverload }
            var count = 0
            for item in items {
                try charge()
                guard case .bool(let value) = try evaluate(predicate, binding: name, to: item) else {
                    throw .noSuchOverload
                }
                if value { count += 1 }
            }
            return .bool(count == 1)
        case .filter:
            guard let predicate = comprehension.predicate else { throw .noSuchOverload }
            var kept: [CELValue] = []
            for item in items {
                try charge()
                guard case .bool(let value) = try evaluate(predicate, binding: name, to: item) else {
                    throw .noSuchOverload
                }
                if value { kept.append(item) }
            }
            return .list(kept)
        case .map:
            guard let transform = comprehension.transform else { throw .noSuchOverload }
            var mapped: [CELValue] = []
            mapped.reserveCapacity(items.count)
            for item in items {
                try charge()
                if let predicate = comprehension.predicate {
                    guard case .bool(let keep) = try evaluate(predicate, binding: name, to: item) else {
                        throw .noSuchOverload
                    }
                    if !keep { continue }
                }
                mapped.append(try evaluate(transform, binding: name, to: item))
            }
            return .list(mapped)
        }
    }
}
