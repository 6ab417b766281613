import APIMachinery

/// What `/version` says about the build. A plain checkout holds the unstamped values below;
/// `scripts/stamp-version.sh` writes the commit, tree state and date into this file for the length of a
/// release build and puts it back afterwards, so the binary knows its source and the tree stays clean.
public enum BuildInfo {
    public static let gitVersion = "v1.32.0-kubeswift"
    public static let gitCommit = "unknown"
    /// "clean" or "dirty" when stamped; "unknown" when the build was not stamped.
    public static let gitTreeState = "unknown"
    public static let buildDate = "1970-01-01T00:00:00Z"

    /// The `/version` body: upstream's `version.Info` with every field filled.
    static var versionJSON: JSON {
        [
            "major": "1", "minor": "32", "gitVersion": .string(gitVersion), "gitCommit": .string(gitCommit),
            "gitTreeState": .string(gitTreeState), "buildDate": .string(buildDate), "goVersion": "swift6",
            "compiler": "swiftc", "platform": .string(platform),
        ]
    }

    /// `os/arch` in Go's names, as upstream's `runtime.GOOS + "/" + runtime.GOARCH`.
    static var platform: String {
        #if os(Linux)
            let os = "linux"
        #elseif os(macOS)
            let os = "darwin"
        #else
            let os = "unknown"
        #endif
        #if arch(x86_64)
            return os + "/amd64"
        #elseif arch(arm64)
            return os + "/arm64"
        #else
            return os + "/unknown"
        #endif
    }
}
