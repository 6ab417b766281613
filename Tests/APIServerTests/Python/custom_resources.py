"""Drives custom resources on a KubeSwift API server with the official Kubernetes Python client.

Usage: custom_resources.py KUBECONFIG NAMESPACE. Prints one line per check; exits non-zero on the first failure.
"""
import sys
import threading
import time

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

GROUP, VERSION, PLURAL = "py.kubeswift.test", "v1", "widgets"
NAME = f"{PLURAL}.{GROUP}"

DEFINITION = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": NAME},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": PLURAL, "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
        "versions": [{
            "name": VERSION, "served": True, "storage": True,
            "schema": {"openAPIV3Schema": {
                "type": "object",
                "properties": {
                    "spec": {
                        "type": "object",
                        "x-kubernetes-validations": [{
                            "rule": "self.replicas <= self.maxReplicas",
                            "message": "replicas must not exceed maxReplicas",
                        }],
                        "properties": {
                            "replicas": {"type": "integer", "minimum": 0, "default": 1},
                            "maxReplicas": {"type": "integer", "default": 10},
                            "color": {"type": "string", "enum": ["red", "blue"]},
                            "size": {
                                "type": "string",
                                "x-kubernetes-validations": [
                                    {"rule": "self == oldSelf", "message": "size is immutable"}],
                            },
                        },
                    },
                    "status": {
                        "type": "object",
                        "properties": {"replicas": {"type": "integer"}, "selector": {"type": "string"}},
                    },
                },
            }},
            "subresources": {
                "status": {},
                "scale": {
                    "specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas",
                    "labelSelectorPath": ".status.selector",
                },
            },
            "additionalPrinterColumns": [
                {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
                {"name": "Color", "type": "string", "jsonPath": ".spec.color"},
            ],
        }],
    },
}


def widget(name, spec, labels=None):
    metadata = {"name": name}
    if labels:
        metadata["labels"] = labels
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Widget", "metadata": metadata, "spec": spec}


def establish(extensions):
    deadline = time.time() + 20
    while time.time() < deadline:
        status = extensions.read_custom_resource_definition(NAME).status
        conditions = {c.type: c.status for c in (status.conditions or [])} if status else {}
        if conditions.get("Established") == "True":
            return status
        time.sleep(0.05)
    raise AssertionError("the definition was never Established")


def refused(call):
    """The ApiException `call` raises; fails when it succeeds."""
    try:
        call()
    except ApiException as error:
        return error
    raise AssertionError("expected an ApiException")


def main() -> None:
    kubeconfig, namespace = sys.argv[1], sys.argv[2]
    config.load_kube_config(config_file=kubeconfig)
    core = client.CoreV1Api()
    extensions = client.ApiextensionsV1Api()
    custom = client.CustomObjectsApi()
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))

    created = extensions.create_custom_resource_definition(client.V1CustomResourceDefinition.from_dict(DEFINITION))
    assert created.metadata.uid, created.metadata
    status = establish(extensions)
    assert status.accepted_names.kind == "Widget", status.accepted_names
    assert status.stored_versions == ["v1"], status.stored_versions
    print("definition established")

    start_rv = custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)["metadata"]["resourceVersion"]
    seen = []

    def watcher() -> None:
        stream = watch.Watch()
        for event in stream.stream(custom.list_namespaced_custom_object, GROUP, VERSION, namespace, PLURAL,
                                   label_selector="watched=yes", resource_version=start_rv, timeout_seconds=15):
            seen.append((event["type"], event["object"]["metadata"]["name"]))
            if len(seen) == 3:
                stream.stop()

    thread = threading.Thread(target=watcher)
    thread.start()
    time.sleep(0.5)

    # An unknown field is pruned (fieldValidation is not Strict); the schema's defaults fill the rest.
    w1 = custom.create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL,
        widget("w1", {"replicas": 2, "color": "red", "size": "small", "extra": 1}, {"tier": "a"}))
    assert w1["spec"] == {"replicas": 2, "color": "red", "size": "small", "maxReplicas": 10}, w1["spec"]
    got = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "w1")
    assert got["spec"] == w1["spec"] and got["metadata"]["generation"] == 1, got
    print("created, pruned and defaulted")

    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, widget("w2", {}, {"tier": "b"}))
    selected = custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, label_selector="tier=a")
    assert [item["metadata"]["name"] for item in selected["items"]] == ["w1"], selected["items"]
    assert selected["kind"] == "WidgetList", selected["kind"]
    table = custom.list_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, label_selector="tier=a",
        _headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"})
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Replicas", "Color"], table
    assert table["rows"][0]["cells"][:3] == ["w1", 2, "red"], table["rows"]
    print("listed with a label selector and printer columns")

    patched = custom.patch_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, "w1", {"spec": {"color": "blue"}})
    assert patched["spec"]["color"] == "blue" and patched["metadata"]["generation"] == 2, patched
    # An apply that creates answers 201, which the client's generated patch call does not decode: read it back.
    _, status_code, _ = custom.patch_namespaced_custom_object_with_http_info(
        GROUP, VERSION, namespace, PLURAL, "w3", widget("w3", {"color": "blue", "size": "large"}),
        field_manager="py-apply", _content_type="application/apply-patch+yaml")
    assert status_code == 201, status_code
    applied = custom.patch_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, "w3", widget("w3", {"color": "red", "size": "large"}),
        field_manager="py-apply", _content_type="application/apply-patch+yaml")
    assert applied["spec"] == {"color": "red", "size": "large", "replicas": 1, "maxReplicas": 10}, applied["spec"]
    assert applied["metadata"]["generation"] == 2, applied["metadata"]
    managers = [(entry["manager"], entry["operation"]) for entry in applied["metadata"]["managedFields"]]
    assert managers == [("py-apply", "Apply")], managers
    print("merge-patched and applied server-side")

    custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, PLURAL, "w1", {"status": {"replicas": 2, "selector": "app=w1"}})
    scale = custom.patch_namespaced_custom_object_scale(
        GROUP, VERSION, namespace, PLURAL, "w1", {"spec": {"replicas": 5}})
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 5, scale
    scale = custom.get_namespaced_custom_object_scale(GROUP, VERSION, namespace, PLURAL, "w1")
    assert scale["status"] == {"replicas": 2, "selector": "app=w1"}, scale["status"]
    assert custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "w1")["spec"]["replicas"] == 5
    print("scaled through the scale subresource")

    error = refused(lambda: custom.create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, widget("bad", {"color": "green"})))
    assert error.status == 422, error.status
    assert ('"message":"Widget.py.kubeswift.test \\"bad\\" is invalid: spec.color: Unsupported value: '
            '\\"green\\": supported values: \\"red\\", \\"blue\\""') in error.body, error.body
    error = refused(lambda: custom.create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, widget("bad", {"replicas": 20})))
    assert error.status == 422, error.status
    assert ('spec: Invalid value: \\"object\\": replicas must not exceed maxReplicas') in error.body, error.body
    print("422 as ApiException with upstream's message")

    error = refused(lambda: custom.patch_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, "w3", {"spec": {"size": "small"}}))
    assert error.status == 422, error.status
    assert 'spec.size: Invalid value: \\"string\\": size is immutable' in error.body, error.body
    unchanged = custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "w3", {"spec": {"size": "large"}})
    assert unchanged["spec"]["size"] == "large", unchanged
    print("transition rule refused a bad update")

    custom.create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, widget("watched", {}, {"watched": "yes"}))
    custom.patch_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, "watched", {"spec": {"color": "red"}})
    custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "watched")
    thread.join(timeout=20)
    assert seen == [("ADDED", "watched"), ("MODIFIED", "watched"), ("DELETED", "watched")], seen
    print("watch saw ADDED, MODIFIED, DELETED")

    extensions.delete_custom_resource_definition(NAME)
    deadline = time.time() + 20
    while True:
        try:
            extensions.read_custom_resource_definition(NAME)
        except ApiException as gone:
            assert gone.status == 404, gone.status
            break
        assert time.time() < deadline, "the definition was never deleted"
        time.sleep(0.05)
    error = refused(lambda: custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL))
    assert error.status == 404, error.status
    # Defined again, it finds none of the old objects in storage.
    extensions.create_custom_resource_definition(client.V1CustomResourceDefinition.from_dict(DEFINITION))
    establish(extensions)
    left = custom.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)["items"]
    assert left == [], left
    print("deleting the definition deleted its objects")


if __name__ == "__main__":
    main()
