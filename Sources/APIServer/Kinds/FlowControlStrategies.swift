import APIMachinery
import Foundation

/// flowcontrol.apiserver.k8s.io/v1 FlowSchemas: cluster-scoped, with a status subresource, upstream's v1
/// defaults (`matchingPrecedence` 1000) and validation; the mandatory `exempt` and `catch-all` schemas must
/// keep their fixed spec. Requests are not queued by them here: the kinds are served for clients and tools.
struct FlowSchemaStrategy: Strategy {
    static let verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "proxy", "update", "watch"]

    var tracksGeneration: Bool { true }

    func applyDefaults(_ object: inout JSON) {
        if (object["spec"]?["matchingPrecedence"]?.intValue ?? 0) == 0 {
            object.set(["spec", "matchingPrecedence"], to: 1000)
        }
    }

    func validate(_ object: JSON) -> [FieldError] {
        let name = object.name ?? ""
        let spec = object["spec"] ?? .object(JSONObject())
        var errors: [FieldError] = []
        let precedence = spec["matchingPrecedence"]?.intValue ?? 0
        if precedence <= 0 {
            errors.append(.invalid("spec.matchingPrecedence", .int(precedence), "must be a positive value"))
        }
        if precedence > 10000 {
            errors.append(.invalid("spec.matchingPrecedence", .int(precedence), "must not be greater than 10000"))
        }
        if precedence == 1, name != "exempt" {
            errors.append(
                .invalid(
                    "spec.matchingPrecedence", .int(precedence),
                    "only the schema named 'exempt' may have matchingPrecedence 1"))
        }
        if let method = spec["distinguisherMethod"] {
            let type = method["type"] ?? .null
            if !["ByNamespace", "ByUser"].contains(type.stringValue ?? "") {
                errors.append(.notSupported("spec.distinguisherMethod.type", type, ["ByNamespace", "ByUser"]))
            }
        }
        let level = spec["priorityLevelConfiguration"]?["name"]?.stringValue ?? ""
        if level.isEmpty {
            errors.append(.required("spec.priorityLevelConfiguration.name", "must reference a priority level"))
        } else {
            errors += NameValidation.dns1123Subdomain(level).map {
                .invalid("spec.priorityLevelConfiguration.name", .string(level), $0)
            }
        }
        for (index, rule) in (spec["rules"]?.arrayValue ?? []).enumerated() {
            errors += FlowControlValidation.rule(rule, path: "spec.rules[\(index)]")
        }
        if let fixed = FlowControlBootstrap.mandatoryFlowSchemaSpecs[name], spec != fixed {
            errors.append(.invalid("spec", spec, "spec of '\(name)' must equal the fixed value"))
        }
        return errors + FlowControlValidation.conditions(object)
    }

    var columns: [Table.Column] {
        [
            .name, Table.Column("PriorityLevel"), Table.Column("MatchingPrecedence", type: "string"),
            Table.Column("DistinguisherMethod"), .age, Table.Column("MissingPL"),
        ]
    }

    func cells(_ object: JSON) -> [JSON] {
        let spec = object["spec"]
        let dangling = (object["status"]?["conditions"]?.arrayValue ?? []).first {
            $0["type"]?.stringValue == "Dangling"
        }
        return [
            Cells.name(object), Cells.string(spec?["priorityLevelConfiguration"]?["name"], default: ""),
            Cells.int(spec?["matchingPrecedence"]),
            Cells.string(spec?["distinguisherMethod"]?["type"], default: "*"), Cells.age(object),
            Cells.string(dangling?["status"], default: "?"),
        ]
    }
}

/// flowcontrol.apiserver.k8s.io/v1 PriorityLevelConfigurations: cluster-scoped, with a status subresource,
/// upstream's v1 defaults (30 shares, 64 queues, hand size 8, 50 queued per queue, nothing lent) and validation;
/// only `exempt` is of type Exempt, and the mandatory levels keep their fixed spec (`exempt` but its `exempt`).
struct PriorityLevelConfigurationStrategy: Strategy {
    var tracksGeneration: Bool { true }

    func applyDefaults(_ object: inout JSON) {
        if var limited = object["spec"]?["limited"], limited.objectValue != nil {
            if limited["nominalConcurrencyShares"] == nil { limited["nominalConcurrencyShares"] = 30 }
            if limited["lendablePercent"] == nil { limited["lendablePercent"] = 0 }
            if var queuing = limited["limitResponse"]?["queuing"], queuing.objectValue != nil {
                for (field, value) in [("queues", 64), ("handSize", 8), ("queueLengthLimit", 50)] as [(String, Int64)]
                where (queuing[field]?.intValue ?? 0) == 0 {
                    queuing[field] = .int(value)
                }
                limited.set(["limitResponse", "queuing"], to: queuing)
            }
            object.set(["spec", "limited"], to: limited)
        }
        if var exempt = object["spec"]?["exempt"], exempt.objectValue != nil {
            for field in ["nominalConcurrencyShares", "lendablePercent"] where exempt[field] == nil {
                exempt[field] = 0
            }
            object.set(["spec", "exempt"], to: exempt)
        }
    }

    func validate(_ object: JSON) -> [FieldError] {
        let name = object.name ?? ""
        let spec = object["spec"] ?? .object(JSONObject())
        let type = spec["type"] ?? .null
        var errors: [FieldError] = []
        if (name == "exempt") != (type.stringValue == "Exempt") {
            errors.append(.invalid("spec.type", type, "type must be 'Exempt' if and only if name is 'exempt'"))
        }
        switch type.stringValue {
        case "Exempt":
            if spec["limited"] != nil {
                errors.append(.forbidden("spec.limited", "must be nil if the type is not Limited"))
            }
            if let exempt = spec["exempt"] {
                if let shares = exempt["nominalConcurrencyShares"]?.intValue, shares < 0 {
                    errors.append(
                        .invalid("spec.exempt.nominalConcurrencyShares", .int(shares), "must be a non-negative integer")
                    )
                }
                errors += Self.lendable(exempt, path: "spec.exempt")
            }
        case "Limited":
            if spec["exempt"] != nil { errors.append(.forbidden("spec.exempt", "must be nil if the type is Limited")) }
            if let limited = spec["limited"] {
                errors += Self.limited(limited)
            } else {
                errors.append(.required("spec.limited", "must not be empty when type is Limited"))
            }
        default:
            errors.append(.notSupported("spec.type", type, ["Exempt", "Limited"]))
        }
        if let fixed = FlowControlBootstrap.mandatoryPriorityLevelSpecs[name] {
            var compared = spec
            if name == "exempt" { compared["exempt"] = fixed["exempt"] }
            if compared != fixed {
                let detail =
                    name == "exempt"
                    ? "spec of '\(name)' except the 'spec.exempt' field must equal the fixed value"
                    : "spec of '\(name)' must equal the fixed value"
                errors.append(.invalid("spec", spec, detail))
            }
        }
        return errors + FlowControlValidation.conditions(object)
    }

    private static func lendable(_ holder: JSON, path: String) -> [FieldError] {
        guard let percent = holder["lendablePercent"]?.intValue, !(0...100).contains(percent) else { return [] }
        return [.invalid(path + ".lendablePercent", .int(percent), "must be between 0 and 100, inclusive")]
    }

    private static func limited(_ limited: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        if let shares = limited["nominalConcurrencyShares"]?.intValue, shares < 0 {
            errors.append(
                .invalid("spec.limited.nominalConcurrencyShares", .int(shares), "must be a non-negative integer"))
        }
        let response = limited["limitResponse"] ?? .object(JSONObject())
        let responseType = response["type"] ?? .null
        switch responseType.stringValue {
        case "Reject":
            if response["queuing"] != nil {
                errors.append(
                    .forbidden(
                        "spec.limited.limitResponse.queuing", "must be nil if limited.limitResponse.type is not Limited"
                    ))
            }
        case "Queue":
            if let queuing = response["queuing"] {
                errors += queuingErrors(queuing, path: "spec.limited.limitResponse.queuing")
            } else {
                errors.append(
                    .required(
                        "spec.limited.limitResponse.queuing",
                        "must not be empty if limited.limitResponse.type is Limited"
                    ))
            }
        default:
            errors.append(.notSupported("spec.limited.limitResponse.type", responseType, ["Queue", "Reject"]))
        }
        errors += lendable(limited, path: "spec.limited")
        if let borrowing = limited["borrowingLimitPercent"]?.intValue, borrowing < 0 {
            errors.append(
                .invalid(
                    "spec.limited.borrowingLimitPercent", .int(borrowing),
                    "if specified, must be a non-negative integer"
                ))
        }
        return errors
    }

    /// Upstream's shuffle-sharding limits: positive sizes, at most 10^7 queues, a hand no larger than the deck
    /// and within 60 bits of entropy.
    private static func queuingErrors(_ queuing: JSON, path: String) -> [FieldError] {
        var errors: [FieldError] = []
        let limit = queuing["queueLengthLimit"]?.intValue ?? 0
        if limit <= 0 { errors.append(.invalid(path + ".queueLengthLimit", .int(limit), "must be positive")) }
        let queues = queuing["queues"]?.intValue ?? 0
        if queues <= 0 {
            errors.append(.invalid(path + ".queues", .int(queues), "must be positive"))
        } else if queues > 10_000_000 {
            errors.append(.invalid(path + ".queues", .int(queues), "must not be greater than 10000000"))
        }
        let hand = queuing["handSize"]?.intValue ?? 0
        if hand <= 0 {
            errors.append(.invalid(path + ".handSize", .int(hand), "must be positive"))
        } else if hand > queues {
            errors.append(.invalid(path + ".handSize", .int(hand), "should not be greater than queues (\(queues))"))
        } else if Int((log2(Double(queues)) * Double(hand)).rounded(.up)) > 60 {
            errors.append(
                .invalid(
                    path + ".handSize", .int(hand),
                    "required entropy bits of deckSize \(queues) and handSize \(hand) should not be greater than 60"))
        }
        return errors
    }

    var columns: [Table.Column] {
        [
            .name, Table.Column("Type"), Table.Column("NominalConcurrencyShares"), Table.Column("Queues"),
            Table.Column("HandSize"), Table.Column("QueueLengthLimit"), .age,
        ]
    }

    func cells(_ object: JSON) -> [JSON] {
        let limited = object["spec"]?["limited"]
        let queuing = limited?["limitResponse"]?["queuing"]
        func number(_ value: JSON?) -> JSON { value?.intValue.map { .string(String($0)) } ?? "<none>" }
        return [
            Cells.name(object), Cells.string(object["spec"]?["type"], default: ""),
            number(limited?["nominalConcurrencyShares"]), number(queuing?["queues"]), number(queuing?["handSize"]),
            number(queuing?["queueLengthLimit"]), Cells.age(object),
        ]
    }
}
