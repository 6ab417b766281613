"""Drives a KubeSwift API server with the official Kubernetes Python client: create, get, list, watch, delete.

Usage: official_client.py KUBECONFIG NAMESPACE. Prints one line per check; exits non-zero on the first failure.
"""
import sys
import threading
import time

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException


def main() -> None:
    kubeconfig, namespace = sys.argv[1], sys.argv[2]
    config.load_kube_config(config_file=kubeconfig)
    core = client.CoreV1Api()
    apps = client.AppsV1Api()

    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    print("namespace created")

    listed = core.list_namespaced_config_map(namespace)
    start_rv = listed.metadata.resource_version
    seen = []

    def watcher() -> None:
        stream = watch.Watch()
        for event in stream.stream(core.list_namespaced_config_map, namespace,
                                   resource_version=start_rv, timeout_seconds=10):
            seen.append((event["type"], event["object"].metadata.name))
            if len(seen) == 3:
                stream.stop()

    thread = threading.Thread(target=watcher)
    thread.start()
    time.sleep(0.5)

    body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py", labels={"from": "python"}), data={"k": "v"})
    created = core.create_namespaced_config_map(namespace, body)
    assert created.metadata.uid, "no uid"
    got = core.read_namespaced_config_map("py", namespace)
    assert got.data == {"k": "v"}, got.data
    got.data["k"] = "w"
    core.replace_namespaced_config_map("py", namespace, got)
    print("configmap created, read and replaced")

    selected = core.list_namespaced_config_map(namespace, label_selector="from=python")
    assert [item.metadata.name for item in selected.items] == ["py"], selected.items
    print("list with label selector")

    try:
        core.read_namespaced_config_map("missing", namespace)
        raise AssertionError("expected 404")
    except ApiException as error:
        assert error.status == 404, error.status
        assert '"reason":"NotFound"' in error.body, error.body
    print("404 as ApiException")

    core.delete_namespaced_config_map("py", namespace)
    thread.join(timeout=15)
    assert seen == [("ADDED", "py"), ("MODIFIED", "py"), ("DELETED", "py")], seen
    print("watch saw ADDED, MODIFIED, DELETED")

    deployment = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1DeploymentSpec(
            replicas=2,
            selector=client.V1LabelSelector(match_labels={"app": "web"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "web"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="web", image="nginx:1.25")]),
            ),
        ),
    )
    apps.create_namespaced_deployment(namespace, deployment)
    fetched = apps.read_namespaced_deployment("web", namespace)
    assert fetched.spec.strategy.type == "RollingUpdate", fetched.spec.strategy
    assert fetched.spec.template.spec.containers[0].termination_message_path == "/dev/termination-log"
    print("deployment created with server defaults")


if __name__ == "__main__":
    main()
