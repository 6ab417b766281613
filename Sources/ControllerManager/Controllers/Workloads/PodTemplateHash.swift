import APIMachinery
public import Client

/// The `pod-template-hash` a Deployment gives each of its ReplicaSets, as upstream's `ComputeHash`: FNV-32a
/// over a deterministic encoding of the pod template, then the collision count as four little-endian
/// bytes when set, printed in decimal and rendered in upstream's vowel-free "safe" alphabet.
///
/// Upstream hashes Go's `spew` dump of its struct; we hash the template's JSON with keys sorted at every
/// level, which is as deterministic, so the values differ from upstream's but look the same and change
/// exactly when the template (or the collision count) does.
public enum PodTemplateHash {
    /// The label and selector key (upstream's `DefaultDeploymentUniqueLabelKey`).
    public static let labelKey = "pod-template-hash"
    /// Upstream's `rand.SafeEncodeString` alphabet: no vowels, no 0/1/3, so no words and no look-alikes.
    static let alphabet = Array("bcdfghjklmnpqrstvwxz2456789".utf8)

    /// The hash for `template` with the Deployment's `collisionCount`.
    public static func compute(_ template: PodTemplateSpec, collisionCount: Int32?) -> String {
        var bytes: [UInt8] = []
        canonical(template.toJSON()).encode(into: &bytes)
        if let collisionCount {
            let value = UInt32(bitPattern: collisionCount)
            bytes += [UInt8(value & 0xff), UInt8(value >> 8 & 0xff), UInt8(value >> 16 & 0xff), UInt8(value >> 24)]
        }
        return safeEncode(String(fnv32a(bytes)))
    }

    /// FNV-1a, 32 bits.
    public static func fnv32a(_ bytes: [UInt8]) -> UInt32 {
        var hash: UInt32 = 0x811c_9dc5
        for byte in bytes {
            hash ^= UInt32(byte)
            hash = hash &* 0x0100_0193
        }
        return hash
    }

    /// Each byte of `text` replaced by the alphabet letter at its value modulo 27, as `rand.SafeEncodeString`.
    public static func safeEncode(_ text: String) -> String {
        String(decoding: text.utf8.map { alphabet[Int($0) % alphabet.count] }, as: UTF8.self)
    }

    /// `json` with object keys sorted at every level, so equal templates encode to equal bytes.
    static func canonical(_ json: JSON) -> JSON {
        switch json {
        case .object(let object):
            return .object(
                JSONObject(object.entries.sorted { $0.key < $1.key }.map { (key: $0.key, value: canonical($0.value)) }))
        case .array(let items):
            return .array(items.map(canonical))
        default:
            return json
        }
    }
}
