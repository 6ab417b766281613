import APIMachinery
import Foundation

/// Upstream's CertificateSigningRequest validation. Stored requests that predate a rule keep passing it, as
/// upstream relaxes each rule for objects that already break it.
extension CertificateSigningRequestStrategy {
    static func validate(_ object: JSON, old: JSON?) -> [FieldError] {
        let spec = object["spec"]
        var errors: [FieldError] = []
        let requestText = spec?["request"]?.stringValue ?? ""
        if case .failure(let error) = CertificatePEM.parseRequest(bytes(requestText)) {
            errors.append(.invalid("spec.request", .string(requestText), error.message))
        }
        let usages = spec?["usages"]?.arrayValue ?? []
        if usages.isEmpty { errors.append(.required("spec.usages", "usages must be provided")) }
        let oldUsages = old?["spec"]?["usages"]?.arrayValue ?? []
        if !oldUsages.contains(where: { !validUsages.contains($0.stringValue ?? "") }) {
            for (index, usage) in usages.enumerated() where !validUsages.contains(usage.stringValue ?? "") {
                errors.append(.notSupported("spec.usages[\(index)]", usage, validUsages))
            }
        }
        if Set(oldUsages).count == oldUsages.count {
            var seen = Set<JSON>()
            for (index, usage) in usages.enumerated() where !seen.insert(usage).inserted {
                errors.append(.duplicate("spec.usages[\(index)]", usage))
            }
        }
        let signerName = spec?["signerName"]?.stringValue ?? ""
        if signerName == legacyUnknownSigner, old?["spec"]?["signerName"]?.stringValue != legacyUnknownSigner {
            errors.append(
                .invalid(
                    "spec.signerName", .string(signerName), "the legacy signerName is not allowed via this API version")
            )
        } else {
            errors += validateSignerName(signerName, path: "spec.signerName")
        }
        if let seconds = spec?["expirationSeconds"]?.intValue, seconds < 600 {
            errors.append(
                .invalid(
                    "spec.expirationSeconds", .int(seconds),
                    "may not specify a duration less than 600 seconds (10 minutes)"))
        }
        errors += validateConditions(object, old: old)
        let certificate = object["status"]?["certificate"]?.stringValue ?? ""
        let oldCertificate = old?["status"]?["certificate"]?.stringValue
        if certificate != oldCertificate, let problem = CertificatePEM.certificateProblem(bytes(certificate)) {
            errors.append(.invalid("status.certificate", "<certificate data>", problem))
        }
        return errors
    }

    /// The bytes of a base64 `[]byte` field; text that is not base64 reads as no bytes.
    static func bytes(_ base64: String) -> [UInt8] { Data(base64Encoded: base64).map(Array.init) ?? [] }

    static func validateConditions(_ object: JSON, old: JSON?) -> [FieldError] {
        let oldConditions = old?["status"]?["conditions"]?.arrayValue ?? []
        let oldTypes = oldConditions.map { $0["type"]?.stringValue ?? "" }
        let allowBoth = oldTypes.contains("Approved") && oldTypes.contains("Denied")
        let allowDuplicates = Set(oldTypes).count != oldTypes.count
        let allowEmptyType = oldTypes.contains("")
        var errors: [FieldError] = []
        var seen = Set<String>()
        var approved = false
        var denied = false
        for (index, condition) in (object["status"]?["conditions"]?.arrayValue ?? []).enumerated() {
            let path = "status.conditions[\(index)]"
            let type = condition["type"]?.stringValue ?? ""
            if type.isEmpty, !allowEmptyType { errors.append(.required("\(path).type", "")) }
            let allowed = trueOnlyConditions.contains(type) ? ["True"] : ["False", "True", "Unknown"]
            let status = condition["status"]?.stringValue ?? ""
            if status.isEmpty {
                errors.append(.required("\(path).status", ""))
            } else if !allowed.contains(status) {
                errors.append(.notSupported("\(path).status", .string(status), allowed))
            }
            if !allowBoth {
                if type == "Approved" {
                    approved = true
                    if denied {
                        errors.append(
                            .invalid(
                                "\(path).type", .string(type), "Approved and Denied conditions are mutually exclusive"))
                    }
                } else if type == "Denied" {
                    denied = true
                    if approved {
                        errors.append(
                            .invalid(
                                "\(path).type", .string(type), "Approved and Denied conditions are mutually exclusive"))
                    }
                }
            }
            if !allowDuplicates, !seen.insert(type).inserted {
                errors.append(.duplicate("\(path).type", .string(type)))
            }
        }
        return errors
    }

    /// A signer name is `<domain with at least two labels>/<path of DNS subdomains>`, as upstream requires.
    static func validateSignerName(_ signerName: String, path: String) -> [FieldError] {
        if signerName.isEmpty { return [.required(path, "signerName must be provided")] }
        let segments = signerName.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard segments.count == 2 else {
            return [
                .invalid(
                    path, .string(signerName),
                    "must be a fully qualified domain and path of the form 'example.com/signer-name'")
            ]
        }
        var errors: [FieldError] = []
        let (domain, signerPath) = (segments[0], segments[1])
        if domain.count > 253 { errors.append(FieldError(.tooLong(253), path, value: .string(domain))) }
        let domainLabels = domain.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        for label in domainLabels {
            let problems = NameValidation.dns1123Label(label)
            guard problems.isEmpty else {
                errors += problems.map { .invalid(path, .string(domain), "validating label \"\(label)\": \($0)") }
                break
            }
        }
        if domainLabels.count < 2 {
            errors.append(
                .invalid(path, .string(domain), "should be a domain with at least two segments separated by dots"))
        }
        for label in signerPath.split(separator: ".", omittingEmptySubsequences: false).map(String.init) {
            let problems = NameValidation.dns1123Subdomain(label)
            guard problems.isEmpty else {
                errors += problems.map { .invalid(path, .string(signerPath), "validating label \"\(label)\": \($0)") }
                break
            }
        }
        let maximum = 253 + (253 + 63 + 1) + 1
        if signerName.count > maximum { errors.append(FieldError(.tooLong(maximum), path, value: .string(signerName))) }
        return errors
    }
}
