/// Every controller this manager can run, in start-up order. A new controller is a file in this folder
/// with a `descriptor`, and one line here.
public enum ControllerRegistry {
    public static let all: [ControllerDescriptor] = [
        EndpointsController.descriptor,
        EndpointSliceController.descriptor,
        EndpointSliceMirroringController.descriptor,
        ServiceAccountsController.descriptor,
        RootCACertificatePublisher.descriptor,
        TokensController.descriptor,
        JobController.descriptor,
        CronJobController.descriptor,
        TTLAfterFinishedController.descriptor,
        PodGCController.descriptor,
        ReplicaSetController.descriptor,
        ReplicationManager.descriptor,
        DeploymentController.descriptor,
        NodeLifecycleController.descriptor,
        TaintEvictionController.descriptor,
        NodeIPAMController.descriptor,
        TTLController.descriptor,
        CertificateSigningController.descriptor,
        CertificateApprovingController.descriptor,
        CertificateCleanerController.descriptor,
        BootstrapSignerController.descriptor,
        TokenCleanerController.descriptor,
        GarbageCollectorController.descriptor,
        NamespaceController.descriptor,
        ResourceQuotaController.descriptor,
        DisruptionController.descriptor,
        StatefulSetController.descriptor,
        DaemonSetController.descriptor,
    ]
}
