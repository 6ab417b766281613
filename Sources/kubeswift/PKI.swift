import ArgumentParser
import Foundation
import Operations

/// `kubeswift pki`: the guide's certificates, keys, token and kubeconfigs, checked and rotated.
struct PKI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pki", abstract: "Generate, check and rotate the cluster's certificates.",
        subcommands: [GeneratePKI.self, CheckPKI.self, RotatePKI.self], defaultSubcommand: GeneratePKI.self)
}

/// Splits a comma-separated flag value.
func commaList(_ text: String) -> [String] {
    text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}

/// `kubeswift pki DIR --masters …`: the whole file set, keeping what exists.
struct GeneratePKI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write the guide's certificate set, token.csv and kubeconfigs (existing CA and files kept).")

    @Argument(help: "Directory to write into.")
    var directory: String

    @Option(help: "The masters' addresses, comma-separated.")
    var masters: String

    @Option(help: "The etcd members' addresses, comma-separated (default: the masters').")
    var etcd: String?

    @Option(help: "The load balancer's address.")
    var lb: String?

    @Option(help: "The port the load balancer listens on.")
    var lbPort: Int = 8443

    @Option(help: "The Service network; its first address goes into the API server certificate.")
    var serviceClusterIPRange: String = "10.254.0.0/16"

    @Flag(help: "Reissue every leaf certificate (the CA is kept).")
    var force = false

    func run() throws {
        let masterAddresses = commaList(masters)
        guard !masterAddresses.isEmpty else { throw ValidationError("--masters needs at least one address") }
        let serviceIP = try ServiceNetwork.firstAddress(ofCIDR: serviceClusterIPRange)
        var certificates = GuideCertificates.Options()
        var addresses = ["127.0.0.1"] + masterAddresses + (lb.map { [$0] } ?? []) + [serviceIP]
        var seen = Set<String>()
        addresses = addresses.filter { seen.insert($0).inserted }
        certificates.apiServerIPAddresses = addresses
        let cluster = lb.map { "https://\($0):\(lbPort)" } ?? "https://\(masterAddresses[0]):6443"
        let options = GuideCertificates.FileSetOptions(
            certificates: certificates, etcdIPAddresses: etcd.map(commaList) ?? masterAddresses,
            clusterServer: cluster, localServer: "https://127.0.0.1:6443")
        let written = try GuideCertificates.writeFileSet(directory: directory, options: options, force: force)
        print(written.isEmpty ? "\(directory): up to date" : "\(directory): wrote \(written.joined(separator: " "))")
    }
}

/// `kubeswift pki check DIR`: one line per problem, exit 1 when any.
struct CheckPKI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Check expiry, names, keys, chain and usages of a certificate directory.")

    @Argument(help: "The certificate directory.")
    var directory: String

    @Option(help: "Addresses the API server certificate must cover, comma-separated.")
    var addresses: String = ""

    func run() throws {
        let findings = try PKICheck.check(directory: directory, addresses: commaList(addresses))
        for finding in findings { print(finding) }
        guard findings.isEmpty else { throw ExitCode(1) }
        print("\(directory): all certificates valid")
    }
}

/// `kubeswift pki rotate DIR`: new leaves from the same CA, same names.
struct RotatePKI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate", abstract: "Reissue every serving and client certificate from the same CA.")

    @Argument(help: "The certificate directory.")
    var directory: String

    func run() throws {
        let written = try PKIRotation.rotate(directory: directory)
        print("\(directory): rotated \(written.joined(separator: " "))")
    }
}
