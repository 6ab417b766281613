// Realistic objects exercising many fields of their kinds; every field exists in the v1.32 schema.

enum TestObjects {
    static let pod = #"""
        {
          "apiVersion": "v1",
          "kind": "Pod",
          "metadata": {
            "name": "web-7d9c5b8f6-x2x9z",
            "generateName": "web-7d9c5b8f6-",
            "namespace": "default",
            "uid": "0b7e0a47-1c2f-4a3c-9a55-7f0d5d2b6c11",
            "resourceVersion": "4711",
            "generation": 1,
            "creationTimestamp": "2024-05-01T10:00:00Z",
            "deletionTimestamp": "2024-05-01T11:00:00Z",
            "deletionGracePeriodSeconds": 30,
            "labels": {"app": "web", "pod-template-hash": "7d9c5b8f6"},
            "annotations": {"example.com/note": "free text", "kubectl.kubernetes.io/last-applied-configuration": "{\"x\":1}"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d9c5b8f6", "uid": "5f1e", "controller": true, "blockOwnerDeletion": true}],
            "finalizers": ["example.com/cleanup"],
            "managedFields": [{"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1", "time": "2024-05-01T10:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}, "f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {".": {}}}}}, "subresource": "status"}]
          },
          "spec": {
            "volumes": [
              {"name": "config", "configMap": {"name": "web-config", "items": [{"key": "a", "path": "a.conf", "mode": 420}], "defaultMode": 420, "optional": true}},
              {"name": "secret", "secret": {"secretName": "web-secret", "defaultMode": 256}},
              {"name": "scratch", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
              {"name": "host", "hostPath": {"path": "/var/log", "type": "Directory"}},
              {"name": "data", "persistentVolumeClaim": {"claimName": "web-data", "readOnly": false}},
              {"name": "token", "projected": {"sources": [{"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}, {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}], "defaultMode": 420}}
            ],
            "initContainers": [{"name": "init", "image": "busybox:1.36", "command": ["sh", "-c", "true"], "restartPolicy": "Always", "resources": {}}],
            "containers": [
              {
                "name": "web",
                "image": "nginx:1.27",
                "command": ["nginx"],
                "args": ["-g", "daemon off;"],
                "workingDir": "/srv",
                "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}, {"containerPort": 443, "hostPort": 8443, "hostIP": "0.0.0.0"}],
                "envFrom": [{"prefix": "CFG_", "configMapRef": {"name": "web-env", "optional": true}}, {"secretRef": {"name": "web-secret-env"}}],
                "env": [
                  {"name": "MODE", "value": "prod"},
                  {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                  {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "web-secret", "key": "password"}}},
                  {"name": "LIMIT", "valueFrom": {"resourceFieldRef": {"containerName": "web", "resource": "limits.memory", "divisor": "1Mi"}}}
                ],
                "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": 0.25, "memory": "128Mi"}, "claims": [{"name": "gpu"}]},
                "resizePolicy": [{"resourceName": "cpu", "restartPolicy": "NotRequired"}],
                "volumeMounts": [{"name": "config", "mountPath": "/etc/web", "readOnly": true, "subPath": "a.conf", "mountPropagation": "None", "recursiveReadOnly": "Disabled"}],
                "volumeDevices": [{"name": "raw", "devicePath": "/dev/xvda"}],
                "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP", "httpHeaders": [{"name": "X-Probe", "value": "1"}]}, "initialDelaySeconds": 3, "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3, "terminationGracePeriodSeconds": 5},
                "readinessProbe": {"exec": {"command": ["cat", "/tmp/ready"]}},
                "startupProbe": {"tcpSocket": {"port": 80}},
                "lifecycle": {"postStart": {"exec": {"command": ["true"]}}, "preStop": {"sleep": {"seconds": 5}}},
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "imagePullPolicy": "IfNotPresent",
                "securityContext": {"capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]}, "privileged": false, "seLinuxOptions": {"level": "s0:c1"}, "runAsUser": 1000, "runAsNonRoot": true, "readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false, "seccompProfile": {"type": "RuntimeDefault"}, "appArmorProfile": {"type": "Localhost", "localhostProfile": "web"}},
                "stdin": false,
                "stdinOnce": false,
                "tty": false
              }
            ],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "activeDeadlineSeconds": 3600,
            "dnsPolicy": "ClusterFirst",
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "serviceAccountName": "web",
            "serviceAccount": "web",
            "automountServiceAccountToken": false,
            "nodeName": "node-1",
            "hostNetwork": false,
            "shareProcessNamespace": true,
            "securityContext": {"fsGroup": 2000, "runAsGroup": 3000, "supplementalGroups": [4000], "sysctls": [{"name": "net.core.somaxconn", "value": "1024"}], "fsGroupChangePolicy": "OnRootMismatch"},
            "imagePullSecrets": [{"name": "registry"}],
            "hostname": "web",
            "subdomain": "web-headless",
            "affinity": {
              "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]}]}},
              "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}}]}
            },
            "schedulerName": "default-scheduler",
            "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}],
            "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["db.local"]}],
            "priorityClassName": "high",
            "priority": 1000,
            "dnsConfig": {"nameservers": ["1.1.1.1"], "searches": ["svc.local"], "options": [{"name": "ndots", "value": "2"}]},
            "readinessGates": [{"conditionType": "example.com/ready"}],
            "runtimeClassName": "runc",
            "enableServiceLinks": true,
            "preemptionPolicy": "PreemptLowerPriority",
            "overhead": {"cpu": "10m"},
            "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]}, "minDomains": 2, "nodeAffinityPolicy": "Honor", "matchLabelKeys": ["pod-template-hash"]}],
            "setHostnameAsFQDN": false,
            "os": {"name": "linux"},
            "hostUsers": true,
            "schedulingGates": [{"name": "example.com/gate"}],
            "resourceClaims": [{"name": "gpu", "resourceClaimTemplateName": "gpu-template"}]
          },
          "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2024-05-01T10:00:05Z", "reason": "", "message": ""}],
            "message": "",
            "reason": "",
            "nominatedNodeName": "",
            "hostIP": "192.168.1.10",
            "hostIPs": [{"ip": "192.168.1.10"}],
            "podIP": "10.244.1.7",
            "podIPs": [{"ip": "10.244.1.7"}, {"ip": "fd00::7"}],
            "startTime": "2024-05-01T10:00:01Z",
            "initContainerStatuses": [{"name": "init", "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": "2024-05-01T10:00:02Z", "finishedAt": "2024-05-01T10:00:03Z", "containerID": "containerd://aa"}}, "lastState": {}, "ready": true, "restartCount": 0, "image": "busybox:1.36", "imageID": "sha256:aa", "containerID": "containerd://aa"}],
            "containerStatuses": [{"name": "web", "state": {"running": {"startedAt": "2024-05-01T10:00:04Z"}}, "lastState": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}}, "ready": true, "restartCount": 2, "image": "nginx:1.27", "imageID": "sha256:bb", "containerID": "containerd://bb", "started": true, "allocatedResources": {"cpu": "250m"}, "resources": {"limits": {"cpu": "500m"}}, "volumeMounts": [{"name": "config", "mountPath": "/etc/web", "readOnly": true}], "user": {"linux": {"uid": 1000, "gid": 3000, "supplementalGroups": [4000]}}}],
            "qosClass": "Burstable",
            "resize": "",
            "resourceClaimStatuses": [{"name": "gpu", "resourceClaimName": "web-gpu"}]
          }
        }
        """#

    static let deployment = #"""
        {
          "apiVersion": "apps/v1",
          "kind": "Deployment",
          "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}, "annotations": {"deployment.kubernetes.io/revision": "3"}, "generation": 4, "resourceVersion": "99", "uid": "d1"},
          "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]},
            "template": {
              "metadata": {"labels": {"app": "web"}, "annotations": {"kubectl.kubernetes.io/restartedAt": "2024-05-01T10:00:00Z"}},
              "spec": {
                "containers": [{"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}], "resources": {"requests": {"cpu": "100m"}}, "volumeMounts": [{"name": "cache", "mountPath": "/cache"}]}],
                "volumes": [{"name": "cache", "ephemeral": {"volumeClaimTemplate": {"metadata": {"labels": {"a": "b"}}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}, "storageClassName": "fast", "volumeMode": "Filesystem"}}}}],
                "terminationGracePeriodSeconds": 30
              }
            },
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": 1}},
            "minReadySeconds": 5,
            "revisionHistoryLimit": 10,
            "paused": false,
            "progressDeadlineSeconds": 600
          },
          "status": {
            "observedGeneration": 4,
            "replicas": 3,
            "updatedReplicas": 3,
            "readyReplicas": 3,
            "availableReplicas": 3,
            "unavailableReplicas": 0,
            "conditions": [{"type": "Available", "status": "True", "lastUpdateTime": "2024-05-01T10:00:00Z", "lastTransitionTime": "2024-05-01T10:00:00Z", "reason": "MinimumReplicasAvailable", "message": "ok"}],
            "collisionCount": 0
          }
        }
        """#

    static let service = #"""
        {
          "apiVersion": "v1",
          "kind": "Service",
          "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
          "spec": {
            "ports": [{"name": "http", "protocol": "TCP", "appProtocol": "http", "port": 80, "targetPort": "http", "nodePort": 30080}, {"name": "https", "port": 443, "targetPort": 8443}],
            "selector": {"app": "web"},
            "clusterIP": "10.254.0.10",
            "clusterIPs": ["10.254.0.10"],
            "type": "NodePort",
            "externalIPs": ["192.0.2.1"],
            "sessionAffinity": "ClientIP",
            "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}},
            "loadBalancerSourceRanges": ["0.0.0.0/0"],
            "externalTrafficPolicy": "Cluster",
            "internalTrafficPolicy": "Cluster",
            "healthCheckNodePort": 0,
            "publishNotReadyAddresses": false,
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "allocateLoadBalancerNodePorts": true,
            "trafficDistribution": "PreferClose"
          },
          "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.5", "ipMode": "VIP", "ports": [{"port": 80, "protocol": "TCP", "error": "none"}]}]}, "conditions": [{"type": "Ready", "status": "True", "observedGeneration": 1, "lastTransitionTime": "2024-05-01T10:00:00Z", "reason": "ok", "message": "ok"}]}
        }
        """#
}
