import APIMachinery

extension PodSecurityAdmission {
    /// The pod template of a pod controller upstream evaluates (nil for other kinds, or a template-less
    /// ReplicationController): the object to read its annotations and spec from.
    static func podTemplate(of resource: GroupResource, in object: JSON) -> JSON? {
        let template: JSON?
        switch (resource.group, resource.resource) {
        case ("", "podtemplates"): template = object["template"]
        case ("", "replicationcontrollers"), ("apps", "replicasets"), ("apps", "deployments"),
            ("apps", "statefulsets"), ("apps", "daemonsets"), ("batch", "jobs"):
            template = object["spec"]?["template"]
        case ("batch", "cronjobs"): template = object["spec"]?["jobTemplate"]?["spec"]?["template"]
        default: return nil
        }
        guard let template, !template.isNull else { return nil }
        return template
    }

    /// Upstream's `isSignificantPodUpdate`: a pod update is evaluated only when it can change what the checks
    /// see on a running pod (images, the seccomp annotations, containers added or removed, new ephemeral
    /// containers); the rest of a pod's spec is immutable.
    static func isSignificantUpdate(_ pod: JSON, _ old: JSON) -> Bool {
        let seccompPod = "seccomp.security.alpha.kubernetes.io/pod"
        let annotations = pod.annotations
        let oldAnnotations = old.annotations
        if annotations[seccompPod] != oldAnnotations[seccompPod] { return true }
        func containers(_ object: JSON, _ field: String) -> [JSON] { object["spec"]?[field]?.arrayValue ?? [] }
        func changed(_ container: JSON, _ oldContainer: JSON) -> Bool {
            if container["image"] != oldContainer["image"] { return true }
            let key = "container.seccomp.security.alpha.kubernetes.io/" + PodSecurityPod.name(container)
            return annotations[key] != oldAnnotations[key]
        }
        for field in ["containers", "initContainers"] {
            let new = containers(pod, field)
            let before = containers(old, field)
            if new.count != before.count { return true }
            if zip(new, before).contains(where: changed) { return true }
        }
        let oldEphemeral = containers(old, "ephemeralContainers")
        for container in containers(pod, "ephemeralContainers") {
            let name = PodSecurityPod.name(container)
            guard let before = oldEphemeral.first(where: { PodSecurityPod.name($0) == name }) else { return true }
            if changed(container, before) { return true }
        }
        return false
    }
}
