import APIMachinery

/// Upstream's defaults for what a pod spec holds besides its own fields: probes and lifecycle handlers,
/// environment selectors, and volumes (core/v1 `SetDefaults_Probe`, `SetDefaults_HTTPGetAction`,
/// `SetDefaults_ObjectFieldSelector`, `SetDefaults_Volume` and the volume sources' defaults).
extension PodSpecRules {
    /// Volume sources' defaulted fields, by source; PersistentVolumes share the ones their sources have.
    static let volumeSourceDefaults: [String: [(String, JSON)]] = [
        "secret": [("defaultMode", 420)], "configMap": [("defaultMode", 420)],
        "downwardAPI": [("defaultMode", 420)], "projected": [("defaultMode", 420)], "hostPath": [("type", "")],
        "iscsi": [("iscsiInterface", "default")],
        "rbd": [("pool", "rbd"), ("user", "admin"), ("keyring", "/etc/ceph/keyring")],
        "azureDisk": [("cachingMode", "ReadWrite"), ("fsType", "ext4"), ("readOnly", false), ("kind", "Shared")],
        "scaleIO": [("storageMode", "ThinProvisioned"), ("fsType", "xfs")],
    ]

    /// Probes' thresholds and handlers, lifecycle hooks' HTTP actions, and env's field selectors.
    static func applyHandlerDefaults(_ container: inout JSON) {
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            guard var value = container[probe], value.objectValue != nil else { continue }
            // Upstream defaults a zero as well as a missing value: a probe cannot be tuned to 0.
            for (field, fallback) in [("timeoutSeconds", 1), ("periodSeconds", 10), ("successThreshold", 1)]
            where value[field] == nil || value[field]?.intValue == 0 {
                value[field] = .int(Int64(fallback))
            }
            if value["failureThreshold"] == nil || value["failureThreshold"]?.intValue == 0 {
                value["failureThreshold"] = 3
            }
            defaultHTTPGet(&value)
            if var grpc = value["grpc"], grpc.objectValue != nil, grpc["service"] == nil {
                grpc["service"] = ""
                value["grpc"] = grpc
            }
            container[probe] = value
        }
        if var lifecycle = container["lifecycle"], lifecycle.objectValue != nil {
            for hook in ["postStart", "preStop"] {
                guard var handler = lifecycle[hook], handler.objectValue != nil else { continue }
                defaultHTTPGet(&handler)
                lifecycle[hook] = handler
            }
            container["lifecycle"] = lifecycle
        }
        if var env = container["env"]?.arrayValue {
            for index in env.indices {
                guard var source = env[index]["valueFrom"], source.objectValue != nil else { continue }
                defaultSelectors(&source)
                env[index]["valueFrom"] = source
            }
            container["env"] = .array(env)
        }
    }

    /// Each volume's source defaults; a volume that names no source is an emptyDir.
    static func applyVolumeDefaults(_ spec: inout JSON) {
        guard var volumes = spec["volumes"]?.arrayValue else { return }
        for index in volumes.indices {
            guard var volume = volumes[index].objectValue else { continue }
            if volume.keys.allSatisfy({ $0 == "name" }) { volume["emptyDir"] = .object(JSONObject()) }
            var value = JSON.object(volume)
            applySourceDefaults(&value)
            defaultItems(&value, source: "downwardAPI")
            if var projected = value["projected"], var sources = projected["sources"]?.arrayValue {
                for item in sources.indices {
                    defaultItems(&sources[item], source: "downwardAPI")
                    if var token = sources[item]["serviceAccountToken"], token.objectValue != nil,
                        token["expirationSeconds"] == nil
                    {
                        token["expirationSeconds"] = 3600
                        sources[item]["serviceAccountToken"] = token
                    }
                }
                projected["sources"] = .array(sources)
                value["projected"] = projected
            }
            if var claim = value[path: "ephemeral", "volumeClaimTemplate", "spec"], claim.objectValue != nil {
                if claim["volumeMode"] == nil { claim["volumeMode"] = "Filesystem" }
                value.set(["ephemeral", "volumeClaimTemplate", "spec"], to: claim)
            }
            volumes[index] = value
        }
        spec["volumes"] = .array(volumes)
    }

    /// The defaults of whichever sources `holder` (a volume or a PersistentVolume's spec) names.
    static func applySourceDefaults(_ holder: inout JSON) {
        for (source, defaults) in volumeSourceDefaults {
            guard var value = holder[source], value.objectValue != nil else { continue }
            for (field, fallback) in defaults where value[field] == nil { value[field] = fallback }
            holder[source] = value
        }
    }

    private static func defaultHTTPGet(_ handler: inout JSON) {
        guard var action = handler["httpGet"], action.objectValue != nil else { return }
        if (action["path"]?.stringValue ?? "").isEmpty { action["path"] = "/" }
        if (action["scheme"]?.stringValue ?? "").isEmpty { action["scheme"] = "HTTP" }
        handler["httpGet"] = action
    }

    /// A field selector's API version; a resource selector's divisor, which upstream always writes ("0" unset).
    private static func defaultSelectors(_ holder: inout JSON) {
        if var field = holder["fieldRef"], field.objectValue != nil, field["apiVersion"] == nil {
            field["apiVersion"] = "v1"
            holder["fieldRef"] = field
        }
        if var resource = holder["resourceFieldRef"], resource.objectValue != nil, resource["divisor"] == nil {
            resource["divisor"] = "0"
            holder["resourceFieldRef"] = resource
        }
    }

    private static func defaultItems(_ holder: inout JSON, source: String) {
        guard var items = holder[source]?["items"]?.arrayValue else { return }
        for index in items.indices where items[index].objectValue != nil { defaultSelectors(&items[index]) }
        holder.set([source, "items"], to: .array(items))
    }
}
