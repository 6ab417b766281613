#!/usr/bin/env python3
"""Generates Sources/APIMachinery/Protobuf/ProtobufFields.swift, the field table that
KubernetesProtobuf uses to turn Kubernetes protobuf request bodies into JSON.

Inputs: the kubernetes/api and kubernetes/apimachinery repositories at the release matching
our kubectl (v0.32.4 = Kubernetes 1.32.4). Inside a KubeSwift agent session obtain them with
the `fetch` tool:

    fetch github:kubernetes/api           -> /work/.mirror/kubernetes+api/repo
    fetch github:kubernetes/apimachinery  -> /work/.mirror/kubernetes+apimachinery/repo

(anywhere else: `git clone --bare https://github.com/kubernetes/api` and the same for
apimachinery). Then

    python3 scripts/generate-protobuf-fields.py \
        /work/.mirror/kubernetes+api/repo /work/.mirror/kubernetes+apimachinery/repo \
        [--ref v0.32.4] [--output Sources/APIMachinery/Protobuf/ProtobufFields.swift]

Each input may be a bare git directory (files are read with `git show REF:PATH`) or a plain
checkout (REF is then ignored).

Facts kept, for the messages reachable from the kinds in KINDS:
- from each package's generated.proto: message names, field numbers, field names, scalar or
  message types, repeated and map<K, V> fields;
- from the Go types (types.go and friends) of the same package: the JSON name, `,inline`
  (an embedded struct whose fields JSON flattens into the parent, e.g. Volume.VolumeSource)
  and whether a zero scalar is dropped from JSON (non-pointer field tagged `omitempty`).
  The proto alone cannot say this: gogo protobuf writes every non-pointer field, so a
  zero `minReadySeconds` is on the wire while Kubernetes' JSON omits it, and a pointer
  `replicas: 0` is on the wire and must stay in JSON.
- Go `type X []string` declarations that back a proto message (ExtraValue, Verbs): JSON is
  the bare array of the message's `items`.
No comments or code are copied.

Table format (one string literal, parsed once at run time by ProtobufSchema.swift):
    P alias package                 package alias used in type references
    K apiVersion kind alias.Message  a served kind
    alias.Message [=special]        a message; special is time, microtime, duration, quantity,
                                    intorstring, rawextension, fieldsv1 or list
      number,jsonName,type[,flags]  its fields (continuation lines start with a space);
                                    type is a scalar name, alias.Message, or map:K:V;
                                    flags: r repeated, o omit zero scalar, i inline
"""

import argparse
import os
import re
import subprocess
import sys

DEFAULT_REF = "v0.32.4"

# proto package -> (repository, directory, alias)
PACKAGES = {
    "k8s.io.api.core.v1": ("api", "core/v1", "core"),
    "k8s.io.api.apps.v1": ("api", "apps/v1", "apps"),
    "k8s.io.api.batch.v1": ("api", "batch/v1", "batch"),
    "k8s.io.api.coordination.v1": ("api", "coordination/v1", "coordination"),
    "k8s.io.api.events.v1": ("api", "events/v1", "events"),
    "k8s.io.api.rbac.v1": ("api", "rbac/v1", "rbac"),
    "k8s.io.api.discovery.v1": ("api", "discovery/v1", "discovery"),
    "k8s.io.api.policy.v1": ("api", "policy/v1", "policy"),
    "k8s.io.api.autoscaling.v1": ("api", "autoscaling/v1", "autoscaling"),
    "k8s.io.api.autoscaling.v2": ("api", "autoscaling/v2", "autoscalingv2"),
    "k8s.io.api.scheduling.v1": ("api", "scheduling/v1", "scheduling"),
    "k8s.io.api.certificates.v1": ("api", "certificates/v1", "certificates"),
    "k8s.io.api.storage.v1": ("api", "storage/v1", "storage"),
    "k8s.io.api.node.v1": ("api", "node/v1", "node"),
    "k8s.io.api.networking.v1": ("api", "networking/v1", "networking"),
    "k8s.io.api.admissionregistration.v1": ("api", "admissionregistration/v1", "admissionregistration"),
    "k8s.io.api.flowcontrol.v1": ("api", "flowcontrol/v1", "flowcontrol"),
    "k8s.io.api.authentication.v1": ("api", "authentication/v1", "authentication"),
    "k8s.io.api.authorization.v1": ("api", "authorization/v1", "authorization"),
    "k8s.io.apimachinery.pkg.apis.meta.v1": ("apimachinery", "pkg/apis/meta/v1", "meta"),
    "k8s.io.apimachinery.pkg.apis.meta.v1beta1": ("apimachinery", "pkg/apis/meta/v1beta1", "metav1beta1"),
    "k8s.io.apimachinery.pkg.api.resource": ("apimachinery", "pkg/api/resource", "resource"),
    "k8s.io.apimachinery.pkg.util.intstr": ("apimachinery", "pkg/util/intstr", "intstr"),
    "k8s.io.apimachinery.pkg.runtime": ("apimachinery", "pkg/runtime", "runtime"),
    "k8s.io.apimachinery.pkg.runtime.schema": ("apimachinery", "pkg/runtime/schema", "schema"),
}

# apiVersion, kind, message (package alias . name)
KINDS = [
    ("v1", "Namespace", "core.Namespace"),
    ("v1", "Pod", "core.Pod"),
    ("v1", "Service", "core.Service"),
    ("v1", "Endpoints", "core.Endpoints"),
    ("v1", "Node", "core.Node"),
    ("v1", "ConfigMap", "core.ConfigMap"),
    ("v1", "Secret", "core.Secret"),
    ("v1", "ServiceAccount", "core.ServiceAccount"),
    ("v1", "Event", "core.Event"),
    ("v1", "LimitRange", "core.LimitRange"),
    ("v1", "ResourceQuota", "core.ResourceQuota"),
    ("v1", "PersistentVolume", "core.PersistentVolume"),
    ("v1", "PersistentVolumeClaim", "core.PersistentVolumeClaim"),
    ("v1", "ReplicationController", "core.ReplicationController"),
    ("v1", "Binding", "core.Binding"),
    ("apps/v1", "Deployment", "apps.Deployment"),
    ("apps/v1", "ReplicaSet", "apps.ReplicaSet"),
    ("apps/v1", "StatefulSet", "apps.StatefulSet"),
    ("apps/v1", "DaemonSet", "apps.DaemonSet"),
    ("batch/v1", "Job", "batch.Job"),
    ("batch/v1", "CronJob", "batch.CronJob"),
    ("coordination.k8s.io/v1", "Lease", "coordination.Lease"),
    ("events.k8s.io/v1", "Event", "events.Event"),
    ("rbac.authorization.k8s.io/v1", "Role", "rbac.Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding", "rbac.RoleBinding"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole", "rbac.ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "rbac.ClusterRoleBinding"),
    ("discovery.k8s.io/v1", "EndpointSlice", "discovery.EndpointSlice"),
    ("policy/v1", "PodDisruptionBudget", "policy.PodDisruptionBudget"),
    ("policy/v1", "Eviction", "policy.Eviction"),
    ("autoscaling/v1", "Scale", "autoscaling.Scale"),
    ("v1", "PodTemplate", "core.PodTemplate"),
    ("apps/v1", "ControllerRevision", "apps.ControllerRevision"),
    ("autoscaling/v1", "HorizontalPodAutoscaler", "autoscaling.HorizontalPodAutoscaler"),
    ("autoscaling/v2", "HorizontalPodAutoscaler", "autoscalingv2.HorizontalPodAutoscaler"),
    ("scheduling.k8s.io/v1", "PriorityClass", "scheduling.PriorityClass"),
    ("certificates.k8s.io/v1", "CertificateSigningRequest", "certificates.CertificateSigningRequest"),
    ("storage.k8s.io/v1", "StorageClass", "storage.StorageClass"),
    ("storage.k8s.io/v1", "CSIDriver", "storage.CSIDriver"),
    ("storage.k8s.io/v1", "CSINode", "storage.CSINode"),
    ("storage.k8s.io/v1", "CSIStorageCapacity", "storage.CSIStorageCapacity"),
    ("storage.k8s.io/v1", "VolumeAttachment", "storage.VolumeAttachment"),
    ("node.k8s.io/v1", "RuntimeClass", "node.RuntimeClass"),
    ("networking.k8s.io/v1", "Ingress", "networking.Ingress"),
    ("networking.k8s.io/v1", "IngressClass", "networking.IngressClass"),
    ("networking.k8s.io/v1", "NetworkPolicy", "networking.NetworkPolicy"),
    ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", "admissionregistration.MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "admissionregistration.ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", "admissionregistration.ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding", "admissionregistration.ValidatingAdmissionPolicyBinding"),
    ("flowcontrol.apiserver.k8s.io/v1", "FlowSchema", "flowcontrol.FlowSchema"),
    ("flowcontrol.apiserver.k8s.io/v1", "PriorityLevelConfiguration", "flowcontrol.PriorityLevelConfiguration"),
    ("v1", "ComponentStatus", "core.ComponentStatus"),
    ("authentication.k8s.io/v1", "TokenRequest", "authentication.TokenRequest"),
    ("authentication.k8s.io/v1", "SelfSubjectReview", "authentication.SelfSubjectReview"),
    ("authentication.k8s.io/v1", "TokenReview", "authentication.TokenReview"),
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview", "authorization.SelfSubjectAccessReview"),
    ("authorization.k8s.io/v1", "SubjectAccessReview", "authorization.SubjectAccessReview"),
    ("authorization.k8s.io/v1", "LocalSubjectAccessReview", "authorization.LocalSubjectAccessReview"),
    ("authorization.k8s.io/v1", "SelfSubjectRulesReview", "authorization.SelfSubjectRulesReview"),
    # Typed clients send DeleteOptions under the group version of the resource they delete,
    # or under meta.k8s.io/v1; the decoder accepts kind DeleteOptions with any apiVersion.
    ("meta.k8s.io/v1", "DeleteOptions", "meta.DeleteOptions"),
    # What the API server answers besides objects and their lists: errors (Status under "v1", as
    # upstream's error responses name it), watch events (sent without the envelope) and the metadata-only
    # forms that `as=PartialObjectMetadata[List]` asks for (v1beta1's list numbers its fields the other way).
    ("v1", "Status", "meta.Status"),
    ("meta.k8s.io/v1", "Status", "meta.Status"),
    ("meta.k8s.io/v1", "WatchEvent", "meta.WatchEvent"),
    ("meta.k8s.io/v1", "PartialObjectMetadata", "meta.PartialObjectMetadata"),
    ("meta.k8s.io/v1", "PartialObjectMetadataList", "meta.PartialObjectMetadataList"),
    ("meta.k8s.io/v1beta1", "PartialObjectMetadata", "meta.PartialObjectMetadata"),
    ("meta.k8s.io/v1beta1", "PartialObjectMetadataList", "metav1beta1.PartialObjectMetadataList"),
]

# Messages whose JSON form is not an object of their fields (custom Go JSON marshalling).
SPECIAL = {
    "meta.Time": "time",
    "meta.MicroTime": "microtime",
    "meta.Duration": "duration",
    "meta.FieldsV1": "fieldsv1",
    "resource.Quantity": "quantity",
    "intstr.IntOrString": "intorstring",
    "runtime.RawExtension": "rawextension",
}

SCALARS = {
    "double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64",
    "fixed32", "fixed64", "sfixed32", "sfixed64", "bool", "string", "bytes",
}


class Source:
    """Reads files from a bare git directory at a ref, or from a plain checkout."""

    def __init__(self, path, ref):
        self.path = path
        self.ref = ref
        self.bare = os.path.isfile(os.path.join(path, "HEAD")) and os.path.isdir(
            os.path.join(path, "objects"))

    def read(self, name):
        if not self.bare:
            with open(os.path.join(self.path, name), encoding="utf-8") as handle:
                return handle.read()
        return subprocess.run(
            ["git", "--git-dir", self.path, "show", f"{self.ref}:{name}"],
            check=True, capture_output=True, text=True).stdout

    def list_dir(self, directory):
        if not self.bare:
            return sorted(os.listdir(os.path.join(self.path, directory)))
        out = subprocess.run(
            ["git", "--git-dir", self.path, "ls-tree", "--name-only", f"{self.ref}:{directory}"],
            check=True, capture_output=True, text=True).stdout
        return sorted(out.split())


FIELD_RE = re.compile(
    r"^(optional|repeated|required)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)\s*(\[.*\])?\s*;$")
MAP_RE = re.compile(r"^map\s*<\s*(\w+)\s*,\s*([\w.]+)\s*>\s+(\w+)\s*=\s*(\d+)\s*(\[.*\])?\s*;$")


def parse_proto(text):
    """Returns (package, {qualified message name: [field dicts]})."""
    package = None
    messages = {}
    stack = []  # open message names; None for other braces (oneof, enum, option blocks)
    for raw_line in text.splitlines():
        line = raw_line.split("//", 1)[0].strip()
        if not line:
            continue
        match = re.match(r"^package\s+([\w.]+)\s*;$", line)
        if match:
            package = match.group(1)
            continue
        match = re.match(r"^message\s+(\w+)\s*\{$", line)
        if match:
            outer = [name for name in stack if name is not None]
            name = f"{outer[-1] if outer else package}.{match.group(1)}"
            messages[name] = []
            stack.append(name)
            continue
        if line.endswith("{"):
            stack.append(None)
            continue
        if line == "}":
            if not stack:
                sys.exit("unbalanced braces in proto")
            stack.pop()
            continue
        current = stack[-1] if stack else None
        if current is None:
            continue
        match = FIELD_RE.match(line)
        if match:
            label, type_name, name, number = match.group(1, 2, 3, 4)
            messages[current].append({"number": int(number), "name": name, "type": type_name,
                                      "repeated": label == "repeated", "map": None})
            continue
        match = MAP_RE.match(line)
        if match:
            key, value, name, number = match.group(1, 2, 3, 4)
            messages[current].append({"number": int(number), "name": name, "type": value,
                                      "repeated": False, "map": key})
            continue
        if not line.startswith(("syntax", "import", "option", "reserved")):
            sys.exit(f"unrecognised proto line in {current}: {line}")
    return package, messages


GO_FIELD_RE = re.compile(r"^([^`]*?)\s*`([^`]*)`")


def parse_go(text):
    """Returns ({struct: {proto number: go field info}}, {slice wrapper type names})."""
    structs = {}
    wrappers = set()
    current = None
    depth = 0
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if line.startswith("//"):
            continue
        if current is None:
            match = re.match(r"^type\s+(\w+)\s+struct\s*\{\s*$", line)
            if match:
                current, depth = match.group(1), 1
                structs[current] = {}
                continue
            match = re.match(r"^type\s+(\w+)\s+\[\]\w+\s*$", line)
            if match:
                wrappers.add(match.group(1))
            continue
        depth += line.count("{") - line.count("}")
        if depth <= 0:
            current = None
            continue
        match = GO_FIELD_RE.match(line)
        if not match or depth != 1:
            continue
        declaration, tag = match.group(1).split(), match.group(2)
        proto_tag = re.search(r'protobuf:"([^"]*)"', tag)
        json_tag = re.search(r'json:"([^"]*)"', tag)
        if not proto_tag or not json_tag:
            continue
        parts = proto_tag.group(1).split(",")
        if len(parts) < 2 or not parts[1].isdigit():
            continue
        json_parts = json_tag.group(1).split(",")
        go_type = declaration[-1]
        structs[current][int(parts[1])] = {
            "json": json_parts[0],
            "omitempty": "omitempty" in json_parts[1:],
            "inline": "inline" in json_parts[1:] and json_parts[0] == "",
            "pointer": go_type.startswith("*"),
        }
    return structs, wrappers


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("api")
    parser.add_argument("apimachinery")
    parser.add_argument("--ref", default=DEFAULT_REF)
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--output", default=os.path.join(
        here, "..", "Sources", "APIMachinery", "Protobuf", "ProtobufFields.swift"))
    args = parser.parse_args()
    sources = {"api": Source(args.api, args.ref), "apimachinery": Source(args.apimachinery, args.ref)}

    messages = {}  # alias.Name -> fields
    go_structs = {}  # alias.Name -> {number: info}
    go_wrappers = set()
    alias_of = {package: alias for package, (_, _, alias) in PACKAGES.items()}
    for package, (repo, directory, alias) in PACKAGES.items():
        source = sources[repo]
        declared, parsed = parse_proto(source.read(f"{directory}/generated.proto"))
        if declared != package:
            sys.exit(f"{directory}/generated.proto declares package {declared}, expected {package}")
        for name, fields in parsed.items():
            messages[f"{alias}.{name[len(package) + 1:]}"] = (package, fields)
        for file_name in source.list_dir(directory):
            if not file_name.endswith(".go") or file_name.endswith("_test.go") or \
                    file_name.startswith("zz_generated") or file_name.startswith("generated.") or \
                    "swagger_doc" in file_name:
                continue
            structs, wrappers = parse_go(source.read(f"{directory}/{file_name}"))
            for name, info in structs.items():
                go_structs[f"{alias}.{name}"] = info
            go_wrappers.update(f"{alias}.{name}" for name in wrappers)

    def resolve(type_name, package):
        if type_name in SCALARS:
            return type_name
        if type_name.startswith("."):
            full = type_name[1:]
        else:
            full = f"{package}.{type_name}"
        for candidate_package, alias in alias_of.items():
            if full.startswith(candidate_package + ".") and \
                    f"{alias}.{full[len(candidate_package) + 1:]}" in messages:
                return f"{alias}.{full[len(candidate_package) + 1:]}"
        sys.exit(f"cannot resolve proto type {type_name} in {package}")

    # Every served kind's list (`PodList`: metadata = 1, items = 2), for list responses.
    kinds = list(KINDS)
    for api_version, kind, message in KINDS:
        if message + "List" in messages and not kind.endswith("List") and \
                (api_version, kind + "List") not in {(a, k) for a, k, _ in kinds}:
            kinds.append((api_version, kind + "List", message + "List"))

    reachable = []
    seen = set()
    queue = [message for _, _, message in kinds]
    while queue:
        name = queue.pop(0)
        if name in seen:
            continue
        if name not in messages:
            sys.exit(f"unknown message {name}")
        seen.add(name)
        reachable.append(name)
        if name in SPECIAL or name in go_wrappers:
            continue
        package, fields = messages[name]
        for field in fields:
            resolved = resolve(field["type"], package)
            if resolved not in SCALARS:
                queue.append(resolved)

    lines = [f"P {alias} {package}" for package, (_, _, alias) in PACKAGES.items()]
    lines += [f"K {api_version} {kind} {message}" for api_version, kind, message in kinds]
    warnings = []
    for name in sorted(reachable):
        package, fields = messages[name]
        if name in SPECIAL or name in go_wrappers:
            kind = SPECIAL.get(name, "list")
            if kind == "list" and [f["number"] for f in fields] != [1]:
                sys.exit(f"{name} is a Go slice type but not a single-field message")
            lines.append(f"{name} ={kind}")
            continue
        go_info = go_structs.get(name)
        if go_info is None:
            warnings.append(f"no Go struct for {name}; zero scalars are kept")
            go_info = {}
        entries = []
        for field in sorted(fields, key=lambda f: f["number"]):
            resolved = resolve(field["type"], package)
            info = go_info.get(field["number"])
            if info is None:
                warnings.append(f"no Go field for {name}.{field['name']} = {field['number']}")
                info = {"json": field["name"], "omitempty": False, "inline": False, "pointer": True}
            flags = ""
            if field["repeated"]:
                flags += "r"
            if info["inline"]:
                flags += "i"
                if resolved in SCALARS or field["repeated"] or field["map"]:
                    sys.exit(f"{name}.{field['name']} is inline but not a message")
            elif info["omitempty"] and not info["pointer"] and resolved in SCALARS and \
                    not field["repeated"] and not field["map"]:
                flags += "o"
            json_name = "-" if info["inline"] else info["json"]
            if not info["inline"] and not re.fullmatch(r"[A-Za-z_][\w$-]*", json_name):
                sys.exit(f"unexpected JSON name {json_name!r} in {name}")
            if field["map"]:
                if field["map"] not in SCALARS or field["map"] in ("bytes", "double", "float"):
                    sys.exit(f"unsupported map key type in {name}.{field['name']}")
                type_text = f"map:{field['map']}:{resolved}"
            else:
                type_text = resolved
            entry = f"{field['number']},{json_name},{type_text}"
            entries.append(entry + ("," + flags if flags else ""))
        lines.append(name)
        current = ""
        for entry in entries:
            if current and len(current) + len(entry) > 110:
                lines.append(current)
                current = ""
            current = f"{current} {entry}"
        if current:
            lines.append(current)

    for warning in warnings:
        print("warning:", warning, file=sys.stderr)
    body = "\n".join(lines)
    if '"""' in body or "\\" in body:
        sys.exit("table text would break the Swift string literal")
    swift = (
        "// Generated by scripts/generate-protobuf-fields.py from the kubernetes/api and\n"
        f"// kubernetes/apimachinery protobuf definitions and Go types at {args.ref}. Do not edit.\n"
        "// The format is described in the script's header.\n\n"
        "extension ProtobufSchema {\n"
        "    /// The field table of every message reachable from the kinds we decode.\n"
        "    static let table = \"\"\"\n"
        + "\n".join(("        " + line) if line else "" for line in body.split("\n"))
        + "\n        \"\"\"\n}\n"
    )
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as handle:
        handle.write(swift)
    print(f"wrote {args.output}: {len(reachable)} messages, {len(swift)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
