#!/usr/bin/env python3
"""Generates Sources/Schemas/Generated/Definitions.swift from Kubernetes' published schemas.

Input: the JSON Schema rendering of the Kubernetes v1.32 OpenAPI definitions that the PyPI
package kubernetes-validate ships. Obtain it with

    pip download --no-deps -d /tmp/kv kubernetes-validate==1.37.0
    cd /tmp/kv && unzip -o -q *.whl
    python3 scripts/generate-schemas.py \
        /tmp/kv/kubernetes_validate/kubernetes-json-schema/v1.32.0-local/_definitions.json

Only schema facts are kept: definition names, types, formats, required fields, patch
strategies and merge keys, list/map types and group-version-kind extensions, for the
definitions reachable from the kinds KubeSwift serves. Upstream's description texts are all
dropped; a few kinds get a one-line description of our own (OWN_DESCRIPTIONS).

Normalisations:
- `type: [X, "null"]` becomes `type: X` (nullability is how JSON Schema spells "optional").
- `$ref: "#/$defs/NAME"` becomes `$ref: "NAME"`; the Swift side renders `#/definitions/` or
  `#/components/schemas/` as each OpenAPI version needs.
- The `oneOf` renderings of IntOrString and Quantity go back to upstream's OpenAPI form
  (`type: string, format: int-or-string` and `type: string`).
- The `enum` on apiVersion/kind (added by kubernetes-validate, absent upstream) and
  `x-kubernetes-unions` are dropped.
- x-kubernetes-group-version-kind lists keep only the group versions we serve.

Usage: generate-schemas.py DEFINITIONS_JSON [OUTPUT_SWIFT]
"""

import json
import os
import sys

# (group, version, kind) of every kind the API server serves.
SERVED_KINDS = [
    ("", "v1", k)
    for k in [
        "Namespace", "Pod", "Service", "Endpoints", "Node", "ConfigMap", "Secret",
        "ServiceAccount", "Event", "LimitRange", "ResourceQuota", "PersistentVolume",
        "PersistentVolumeClaim", "ReplicationController", "Binding", "PodTemplate", "ComponentStatus",
    ]
] + [
    ("apps", "v1", "Deployment"),
    ("apps", "v1", "ReplicaSet"),
    ("apps", "v1", "StatefulSet"),
    ("apps", "v1", "DaemonSet"),
    ("apps", "v1", "ControllerRevision"),
    ("batch", "v1", "Job"),
    ("batch", "v1", "CronJob"),
    ("coordination.k8s.io", "v1", "Lease"),
    ("events.k8s.io", "v1", "Event"),
    ("rbac.authorization.k8s.io", "v1", "Role"),
    ("rbac.authorization.k8s.io", "v1", "RoleBinding"),
    ("rbac.authorization.k8s.io", "v1", "ClusterRole"),
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding"),
    ("discovery.k8s.io", "v1", "EndpointSlice"),
    ("policy", "v1", "PodDisruptionBudget"),
    ("policy", "v1", "Eviction"),
    ("autoscaling", "v1", "Scale"),
    ("autoscaling", "v1", "HorizontalPodAutoscaler"),
    ("autoscaling", "v2", "HorizontalPodAutoscaler"),
    ("scheduling.k8s.io", "v1", "PriorityClass"),
    ("certificates.k8s.io", "v1", "CertificateSigningRequest"),
    ("storage.k8s.io", "v1", "StorageClass"),
    ("storage.k8s.io", "v1", "CSIDriver"),
    ("storage.k8s.io", "v1", "CSINode"),
    ("storage.k8s.io", "v1", "CSIStorageCapacity"),
    ("storage.k8s.io", "v1", "VolumeAttachment"),
    ("node.k8s.io", "v1", "RuntimeClass"),
    ("networking.k8s.io", "v1", "Ingress"),
    ("networking.k8s.io", "v1", "IngressClass"),
    ("networking.k8s.io", "v1", "NetworkPolicy"),
    ("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding"),
    ("flowcontrol.apiserver.k8s.io", "v1", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "v1", "PriorityLevelConfiguration"),
    ("apiregistration.k8s.io", "v1", "APIService"),
    ("authentication.k8s.io", "v1", "TokenRequest"),
    ("authentication.k8s.io", "v1", "TokenReview"),
    ("authentication.k8s.io", "v1", "SelfSubjectReview"),
    ("authorization.k8s.io", "v1", "SubjectAccessReview"),
    ("authorization.k8s.io", "v1", "LocalSubjectAccessReview"),
    ("authorization.k8s.io", "v1", "SelfSubjectAccessReview"),
    ("authorization.k8s.io", "v1", "SelfSubjectRulesReview"),
]

META = "io.k8s.apimachinery.pkg.apis.meta.v1."
META_ROOTS = [
    META + name
    for name in [
        "ObjectMeta", "ListMeta", "Status", "DeleteOptions", "WatchEvent", "Patch",
        "APIResourceList", "APIGroup", "APIGroupList", "APIVersions",
    ]
]

# Our own words, not upstream's; kept short on purpose.
OWN_DESCRIPTIONS = {
    "io.k8s.api.core.v1.Pod": "A group of containers scheduled together onto one node.",
    "io.k8s.api.core.v1.Service": "A stable virtual address in front of a set of pods.",
    "io.k8s.api.core.v1.ConfigMap": "Non-secret configuration as string or binary key-value pairs.",
    "io.k8s.api.core.v1.Secret": "Sensitive key-value data such as passwords, tokens and keys.",
    "io.k8s.api.core.v1.Namespace": "A scope for the names of namespaced objects.",
    "io.k8s.api.core.v1.Node": "A machine that runs pods.",
    "io.k8s.api.apps.v1.Deployment": "Keeps a number of identical pods running and rolls out changes to them.",
    "io.k8s.api.apps.v1.ReplicaSet": "Keeps a number of identical pods running.",
    "io.k8s.api.apps.v1.StatefulSet": "Runs pods with stable names and storage, in order.",
    "io.k8s.api.apps.v1.DaemonSet": "Runs one pod on each selected node.",
    "io.k8s.api.batch.v1.Job": "Runs pods until a number of them complete successfully.",
    "io.k8s.api.batch.v1.CronJob": "Creates jobs on a schedule.",
    "io.k8s.api.coordination.v1.Lease": "A lease held by one holder at a time, used for leader election.",
}

DROPPED_KEYS = {"description", "enum", "x-kubernetes-unions"}
REF_PREFIX = "#/$defs/"


def normalise(schema, name=None):
    """Returns a copy of one schema node with descriptions dropped and types simplified."""
    if "oneOf" in schema:
        kinds = sorted(alt["type"][0] if isinstance(alt["type"], list) else alt["type"] for alt in schema["oneOf"])
        if kinds == ["integer", "string"]:
            return {"format": "int-or-string", "type": "string"}
        if kinds == ["number", "string"]:
            return {"type": "string"}
        raise SystemExit(f"unexpected oneOf in {name}: {kinds}")
    out = {}
    for key, value in schema.items():
        if key in DROPPED_KEYS:
            continue
        if key == "type" and isinstance(value, list):
            types = [t for t in value if t != "null"]
            if len(types) != 1:
                raise SystemExit(f"unexpected type list {value} in {name}")
            value = types[0]
        elif key == "$ref":
            if not value.startswith(REF_PREFIX):
                raise SystemExit(f"unexpected $ref {value}")
            value = value[len(REF_PREFIX):]
        elif key == "properties":
            value = {prop: normalise(sub) for prop, sub in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            value = normalise(value)
        out[key] = value
    return out


def refs_of(schema):
    """Yields every definition name a schema node refers to."""
    if "$ref" in schema:
        yield schema["$ref"][len(REF_PREFIX):]
    for sub in schema.get("properties", {}).values():
        yield from refs_of(sub)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from refs_of(schema[key])
    for alternative in schema.get("oneOf", []):
        yield from refs_of(alternative)


def check_enums(definitions):
    """Fails if an enum appears anywhere but apiVersion/kind, so dropping enums loses no facts."""

    def walk(schema, where, field):
        if "enum" in schema and field not in ("apiVersion", "kind"):
            raise SystemExit(f"unexpected enum at {where}; keep it")
        for prop, sub in schema.get("properties", {}).items():
            walk(sub, f"{where}.{prop}", prop)
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict):
                walk(schema[key], f"{where}.{key}", None)

    for name, schema in definitions.items():
        walk(schema, name, None)


def main():
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__)
    source = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    target = sys.argv[2] if len(sys.argv) == 3 else os.path.join(
        here, "..", "Sources", "Schemas", "Generated", "Definitions.swift")
    with open(source, encoding="utf-8") as handle:
        definitions = json.load(handle)["$defs"]
    check_enums(definitions)

    by_gvk = {}
    for name, schema in definitions.items():
        for gvk in schema.get("x-kubernetes-group-version-kind", []):
            by_gvk.setdefault((gvk["group"], gvk["version"], gvk["kind"]), name)

    roots = []
    for group, version, kind in SERVED_KINDS:
        name = by_gvk.get((group, version, kind))
        if name is None:
            raise SystemExit(f"no definition for {group}/{version} {kind}")
        roots.append(name)
        if name + "List" in definitions:
            roots.append(name + "List")
    roots += META_ROOTS

    keep = set()
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in keep:
            continue
        if name not in definitions:
            raise SystemExit(f"missing definition {name}")
        keep.add(name)
        pending.extend(refs_of(definitions[name]))

    served_versions = {(group, version) for group, version, _ in SERVED_KINDS}
    output = {}
    for name in sorted(keep):
        schema = normalise(definitions[name], name)
        gvks = [
            {"group": g["group"], "kind": g["kind"], "version": g["version"]}
            for g in definitions[name].get("x-kubernetes-group-version-kind", [])
            if (g["group"], g["version"]) in served_versions
        ]
        if gvks:
            schema["x-kubernetes-group-version-kind"] = gvks
        elif "x-kubernetes-group-version-kind" in schema:
            del schema["x-kubernetes-group-version-kind"]
        if name in OWN_DESCRIPTIONS:
            schema["description"] = OWN_DESCRIPTIONS[name]
        output[name] = schema

    document = {"definitions": output, "version": "v1.32.0"}
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    delimiter = "#"
    while f'"{delimiter}' in text:
        delimiter += "#"
    swift = (
        "// generated by scripts/generate-schemas.py — do not edit.\n"
        "// Schema facts of the Kubernetes v1.32.0 API for the kinds KubeSwift serves;\n"
        "// upstream's description texts are not included.\n"
        "// swift-format-ignore-file\n\n"
        f"let generatedDefinitionsJSON = {delimiter}\"{text}\"{delimiter}\n"
    )
    with open(target, "w", encoding="utf-8") as handle:
        handle.write(swift)
    print(f"{len(output)} definitions, {len(text)} bytes of JSON -> {os.path.normpath(target)}")


if __name__ == "__main__":
    main()
