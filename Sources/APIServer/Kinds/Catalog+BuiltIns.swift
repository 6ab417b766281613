import APIMachinery

/// The rest of upstream v1.32's built-in kinds: templates and revisions, scheduling and runtime classes,
/// certificate requests, storage, networking, autoscaling and webhook configurations.
extension Catalog {
    static let builtIns: [ResourceDefinition] = [
        ResourceDefinition(resource: "podtemplates", kind: "PodTemplate", strategy: PodTemplateStrategy()),
        ResourceDefinition(
            group: "apps", resource: "controllerrevisions", kind: "ControllerRevision",
            strategy: ControllerRevisionStrategy()),
        ResourceDefinition(
            group: "scheduling.k8s.io", resource: "priorityclasses", kind: "PriorityClass", namespaced: false,
            shortNames: ["pc"], strategy: PriorityClassStrategy()),
        ResourceDefinition(
            group: "node.k8s.io", resource: "runtimeclasses", kind: "RuntimeClass", namespaced: false,
            strategy: RuntimeClassStrategy()),
        ResourceDefinition(
            group: "certificates.k8s.io", resource: "certificatesigningrequests", kind: "CertificateSigningRequest",
            namespaced: false, shortNames: ["csr"], subresources: ["status", "approval"],
            strategy: CertificateSigningRequestStrategy()),
        ResourceDefinition(
            group: "storage.k8s.io", resource: "storageclasses", kind: "StorageClass", namespaced: false,
            shortNames: ["sc"], strategy: StorageClassStrategy()),
        ResourceDefinition(
            group: "storage.k8s.io", resource: "csidrivers", kind: "CSIDriver", namespaced: false,
            strategy: CSIDriverStrategy()),
        ResourceDefinition(
            group: "storage.k8s.io", resource: "csinodes", kind: "CSINode", namespaced: false,
            strategy: CSINodeStrategy()),
        ResourceDefinition(
            group: "storage.k8s.io", resource: "csistoragecapacities", kind: "CSIStorageCapacity",
            strategy: CSIStorageCapacityStrategy()),
        ResourceDefinition(
            group: "storage.k8s.io", resource: "volumeattachments", kind: "VolumeAttachment", namespaced: false,
            subresources: ["status"], strategy: VolumeAttachmentStrategy()),
        ResourceDefinition(
            group: "networking.k8s.io", resource: "ingresses", kind: "Ingress", shortNames: ["ing"],
            subresources: ["status"], strategy: IngressStrategy()),
        ResourceDefinition(
            group: "networking.k8s.io", resource: "ingressclasses", kind: "IngressClass", namespaced: false,
            strategy: IngressClassStrategy()),
        ResourceDefinition(
            group: "networking.k8s.io", resource: "networkpolicies", kind: "NetworkPolicy", shortNames: ["netpol"],
            strategy: NetworkPolicyStrategy()),
        // autoscaling/v2 is stored and preferred; v1 is served from the same objects, as upstream serves both.
        ResourceDefinition(
            group: "autoscaling", version: "v2", resource: "horizontalpodautoscalers", kind: "HorizontalPodAutoscaler",
            shortNames: ["hpa"], categories: ["all"], subresources: ["status"],
            strategy: HorizontalPodAutoscalerStrategy()),
        ResourceDefinition(
            group: "autoscaling", version: "v1", resource: "horizontalpodautoscalers", kind: "HorizontalPodAutoscaler",
            shortNames: ["hpa"], categories: ["all"], subresources: ["status"],
            strategy: HorizontalPodAutoscalerStrategy(), conversion: AutoscalingConversion()),
        ResourceDefinition(
            group: "admissionregistration.k8s.io", resource: "mutatingwebhookconfigurations",
            kind: "MutatingWebhookConfiguration", namespaced: false,
            strategy: WebhookConfigurationStrategy(mutating: true)),
        ResourceDefinition(
            group: "admissionregistration.k8s.io", resource: "validatingwebhookconfigurations",
            kind: "ValidatingWebhookConfiguration", namespaced: false,
            strategy: WebhookConfigurationStrategy(mutating: false)),
        ResourceDefinition(
            group: "flowcontrol.apiserver.k8s.io", resource: "flowschemas", kind: "FlowSchema", namespaced: false,
            subresources: ["status"], strategy: FlowSchemaStrategy()),
        ResourceDefinition(
            group: "flowcontrol.apiserver.k8s.io", resource: "prioritylevelconfigurations",
            kind: "PriorityLevelConfiguration", namespaced: false, subresources: ["status"],
            strategy: PriorityLevelConfigurationStrategy()),
        ResourceDefinition(
            group: "admissionregistration.k8s.io", resource: "validatingadmissionpolicies",
            kind: "ValidatingAdmissionPolicy", namespaced: false, categories: ["api-extensions"],
            subresources: ["status"], strategy: ValidatingAdmissionPolicyStrategy()),
        ResourceDefinition(
            group: "admissionregistration.k8s.io", resource: "validatingadmissionpolicybindings",
            kind: "ValidatingAdmissionPolicyBinding", namespaced: false, categories: ["api-extensions"],
            strategy: ValidatingAdmissionPolicyBindingStrategy()),
        APIServices.definition,
    ]
}
