/// Manifests shaped as an API server returns them, for the model round-trip tests.
enum ModelFixtures {
    static let pod = """
        {
          "apiVersion": "v1", "kind": "Pod",
          "metadata": {
            "name": "web-7d4b9c", "namespace": "shop", "uid": "5f0e2a56-1b7e-4c55-9d1b-0c5b8a1e6f10",
            "resourceVersion": "4711", "generation": 1, "creationTimestamp": "2024-05-01T10:00:00Z",
            "labels": {"app": "web", "pod-template-hash": "7d4b9c"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": "2024-05-01T09:59:00Z"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d4b9c",
              "uid": "0a1b2c3d-0000-4000-8000-000000000001", "controller": true, "blockOwnerDeletion": true}],
            "finalizers": ["example.com/cleanup"],
            "managedFields": [{"manager": "kube-scheduler", "operation": "Update", "apiVersion": "v1",
              "time": "2024-05-01T10:00:01Z", "fieldsType": "FieldsV1",
              "fieldsV1": {"f:spec": {"f:nodeName": {}}}, "subresource": "binding"}]
          },
          "spec": {
            "containers": [
              {
                "name": "web", "image": "registry.example.com/web:1.4.2", "imagePullPolicy": "IfNotPresent",
                "command": ["/web"], "args": ["--port=8080", "--metrics=9090"],
                "env": [{"name": "MODE", "value": "production"},
                        {"name": "POD_IP", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}}},
                        {"name": "CPU_LIMIT", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1m"}}}],
                "envFrom": [{"configMapRef": {"name": "web-config", "optional": true}}],
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"},
                          {"name": "metrics", "containerPort": 9090, "protocol": "TCP"}],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                              "limits": {"cpu": "500m", "memory": "256Mi", "ephemeral-storage": "1Gi"}},
                "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP",
                                  "httpHeaders": [{"name": "X-Probe", "value": "1"}]},
                                  "initialDelaySeconds": 10, "periodSeconds": 10, "timeoutSeconds": 1,
                                  "successThreshold": 1, "failureThreshold": 3},
                "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 5},
                "startupProbe": {"exec": {"command": ["cat", "/tmp/ready"]}, "failureThreshold": 30},
                "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
                "volumeMounts": [{"name": "data", "mountPath": "/data"},
                                 {"name": "config", "mountPath": "/etc/web", "readOnly": true},
                                 {"name": "token", "mountPath": "/var/run/secrets/tokens", "readOnly": true}],
                "securityContext": {"runAsNonRoot": true, "runAsUser": 1000, "allowPrivilegeEscalation": false,
                                    "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}},
                "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"
              },
              {"name": "sidecar", "image": "busybox:1.36", "command": ["sh", "-c", "tail -f /dev/null"],
               "resources": {}}
            ],
            "volumes": [
              {"name": "data", "emptyDir": {"sizeLimit": "500Mi"}},
              {"name": "config", "configMap": {"name": "web-config", "defaultMode": 420,
                                               "items": [{"key": "web.yaml", "path": "web.yaml"}]}},
              {"name": "token", "projected": {"sources": [{"serviceAccountToken": {"audience": "vault",
                "expirationSeconds": 3600, "path": "vault-token"}}]}}
            ],
            "affinity": {
              "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}]}]}},
              "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100,
                "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "web"}},
                                    "topologyKey": "kubernetes.io/hostname"}}]}
            },
            "tolerations": [
              {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
               "tolerationSeconds": 300},
              {"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule"}
            ],
            "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
              "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": {"app": "web"}}}],
            "nodeSelector": {"kubernetes.io/arch": "amd64"},
            "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "web", "nodeName": "node-1", "schedulerName": "default-scheduler",
            "priority": 0, "enableServiceLinks": true, "preemptionPolicy": "PreemptLowerPriority",
            "securityContext": {"fsGroup": 2000}
          },
          "status": {
            "phase": "Running", "qosClass": "Burstable", "hostIP": "10.0.0.11", "hostIPs": [{"ip": "10.0.0.11"}],
            "podIP": "10.244.1.7", "podIPs": [{"ip": "10.244.1.7"}], "startTime": "2024-05-01T10:00:01Z",
            "conditions": [{"type": "Ready", "status": "True",
                            "lastTransitionTime": "2024-05-01T10:00:12Z"}],
            "containerStatuses": [{"name": "web", "ready": true, "started": true, "restartCount": 0,
              "image": "registry.example.com/web:1.4.2", "imageID": "registry.example.com/web@sha256:abc",
              "containerID": "containerd://f00", "state": {"running": {"startedAt": "2024-05-01T10:00:02Z"}},
              "lastState": {}}]
          }
        }
        """

    static let node = """
        {
          "apiVersion": "v1", "kind": "Node",
          "metadata": {"name": "node-1", "uid": "1d7c2e4b-0000-4000-8000-000000000002", "resourceVersion": "99",
                       "labels": {"kubernetes.io/hostname": "node-1", "node-role.kubernetes.io/worker": ""},
                       "annotations": {"node.alpha.kubernetes.io/ttl": "0"}},
          "spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"], "providerID": "kind://node-1",
                   "taints": [{"key": "dedicated", "value": "web", "effect": "NoSchedule"},
                              {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute",
                               "timeAdded": "2024-05-01T10:05:00Z"}]},
          "status": {
            "capacity": {"cpu": "4", "memory": "16389212Ki", "pods": "110", "ephemeral-storage": "61255492Ki",
                         "hugepages-2Mi": "0"},
            "allocatable": {"cpu": "3800m", "memory": "15774812Ki", "pods": "110",
                            "ephemeral-storage": "56453061334", "hugepages-2Mi": "0"},
            "conditions": [
              {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory",
               "message": "kubelet has sufficient memory available", "lastHeartbeatTime": "2024-05-01T10:04:00Z",
               "lastTransitionTime": "2024-05-01T09:00:00Z"},
              {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status",
               "lastHeartbeatTime": "2024-05-01T10:04:00Z", "lastTransitionTime": "2024-05-01T09:00:30Z"}
            ],
            "addresses": [{"type": "InternalIP", "address": "10.0.0.11"}, {"type": "Hostname", "address": "node-1"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"machineID": "m1", "systemUUID": "s1", "bootID": "b1", "kernelVersion": "6.8.0",
                         "osImage": "Debian GNU/Linux 12", "containerRuntimeVersion": "containerd://1.7.22",
                         "kubeletVersion": "v1.32.0", "kubeProxyVersion": "", "operatingSystem": "linux",
                         "architecture": "amd64"},
            "images": [{"names": ["registry.example.com/web@sha256:abc", "registry.example.com/web:1.4.2"],
                        "sizeBytes": 52345678}],
            "volumesInUse": ["kubernetes.io/csi/ebs.csi.aws.com^vol-1"]
          }
        }
        """

    static let deployment = """
        {
          "apiVersion": "apps/v1", "kind": "Deployment",
          "metadata": {"name": "web", "namespace": "shop", "generation": 4,
                       "annotations": {"deployment.kubernetes.io/revision": "3"}},
          "spec": {
            "replicas": 3, "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
            "selector": {"matchLabels": {"app": "web"},
                         "matchExpressions": [{"key": "track", "operator": "NotIn", "values": ["canary"]}]},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                                                  "ports": [{"containerPort": 80}]}]}}
          },
          "status": {"observedGeneration": 4, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3,
                     "availableReplicas": 3,
                     "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                                     "lastUpdateTime": "2024-05-01T10:00:00Z",
                                     "lastTransitionTime": "2024-05-01T10:00:00Z"}]}
        }
        """

    static let lease = """
        {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
         "metadata": {"name": "kube-scheduler", "namespace": "kube-system", "resourceVersion": "812"},
         "spec": {"holderIdentity": "cp-1_3f2a", "leaseDurationSeconds": 15, "leaseTransitions": 2,
                  "acquireTime": "2024-05-01T09:00:00.000000Z", "renewTime": "2024-05-01T10:00:05.123456Z"}}
        """

    static let event = """
        {"apiVersion": "events.k8s.io/v1", "kind": "Event",
         "metadata": {"name": "web-7d4b9c.17c9a", "namespace": "shop"},
         "eventTime": "2024-05-01T10:00:00.000000Z", "reportingController": "default-scheduler",
         "reportingInstance": "default-scheduler-cp-1", "action": "Binding", "reason": "Scheduled",
         "type": "Normal", "note": "Successfully assigned shop/web-7d4b9c to node-1",
         "regarding": {"kind": "Pod", "namespace": "shop", "name": "web-7d4b9c", "apiVersion": "v1",
                       "uid": "5f0e2a56-1b7e-4c55-9d1b-0c5b8a1e6f10"},
         "series": {"count": 4, "lastObservedTime": "2024-05-01T10:03:00.000000Z"}}
        """
}
