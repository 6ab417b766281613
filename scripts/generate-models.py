#!/usr/bin/env python3
"""Generates the typed client models in Sources/Client/Models/Generated/ from Kubernetes' schemas.

Input: the same file scripts/generate-schemas.py reads, the JSON Schema rendering of the Kubernetes
v1.32 OpenAPI definitions that the PyPI package kubernetes-validate ships. Run from the repository root:

    pip download --no-deps -d /tmp/kv kubernetes-validate==1.37.0
    cd /tmp/kv && unzip -o -q *.whl && cd -
    python3 scripts/generate-models.py \
        /tmp/kv/kubernetes_validate/kubernetes-json-schema/v1.32.0-local/_definitions.json

(`swift` must be on PATH: the script runs `swift format` with the repository's .swift-format on its output.)

It writes one file per API group-version (CoreV1.swift, AppsV1.swift, MetaV1.swift, …), holding a
struct for each kind in KINDS and for every definition reachable from them, plus IntOrString.swift and
ModelKinds.swift (the list of generated kinds). Only schema facts are used (names, types, formats, required fields); upstream's descriptions are
not copied. The output depends only on the input file and the public type names found in
Sources/APIMachinery and Sources/Client (see naming), so running it twice gives the same files.

Naming: a struct is named after upstream's Go type (`Pod`, `PodSpec`, `ObjectMeta`). When that name is
also the name of another generated type or of a public type in APIMachinery or Client, every type of
that name outside core/v1 gets its package's prefix: the API group's first label and the version
(`EventsV1Event`, `DiscoveryV1EndpointPort`), or `Meta` for apimachinery's meta/v1 (`MetaLabelSelector`),
whose types every group shares. Core/v1 keeps the bare name (`Event`) unless it collides with a public
type, when it becomes `CoreV1<Name>`.

Shape of each struct (the runtime half is Sources/Client/Models/ModelCoding.swift):
- properties are named as the JSON fields, in the schema's order (Swift keywords in backticks);
- string → String, int32/int64 → Int32/Int64, number → Double, boolean → Bool, Quantity → Quantity,
  IntOrString → IntOrString, Time/MicroTime → String as sent, free-form objects (RawExtension,
  FieldsV1, untyped objects) → JSON;
- scalars and nested structs are optional (nil = absent), nested structs `@Boxed` (one heap box, so an
  absent one costs a pointer, not its inline size) and decoded through `ModelField.boxed`, which shares one box
  among decodes of the same source JSON (SharedDecodedValues.swift); arrays and maps are non-optional, default
  empty and left out of the JSON when empty; a kind's metadata, spec and status are non-optional,
  metadata always written, spec and status left out when they encode to `{}`;
- a public init with every parameter defaulted: required fields first, in the order the schema lists them
  as required (upstream's Go field order), then the rest in schema order;
- fields the model does not know are kept in `unknownFields` and written back after the known ones;
- a kind always writes apiVersion and kind, from its ResourceDescriptor when they were absent.

Usage: generate-models.py DEFINITIONS_JSON [OUTPUT_DIRECTORY]
"""

import json
import os
import re
import subprocess
import sys

REF_PREFIX = "#/$defs/"
API = "io.k8s.api."
META = "io.k8s.apimachinery.pkg.apis.meta.v1."

# API group name of each upstream package, by the package's first label.
GROUPS = {
    "core": "",
    "apps": "apps",
    "batch": "batch",
    "coordination": "coordination.k8s.io",
    "events": "events.k8s.io",
    "discovery": "discovery.k8s.io",
    "policy": "policy",
    "scheduling": "scheduling.k8s.io",
    "certificates": "certificates.k8s.io",
    "storage": "storage.k8s.io",
    "node": "node.k8s.io",
    "networking": "networking.k8s.io",
    "autoscaling": "autoscaling",
}

# (package, kind, plural resource, namespaced) of every kind that gets a KubernetesObject model.
# Eviction is created through pods/<name>/eviction; `evictions` is the name client-go gives it.
KINDS = [
    ("core.v1", "Pod", "pods", True),
    ("core.v1", "Node", "nodes", False),
    ("core.v1", "Namespace", "namespaces", False),
    ("core.v1", "Service", "services", True),
    ("core.v1", "Endpoints", "endpoints", True),
    ("core.v1", "ConfigMap", "configmaps", True),
    ("core.v1", "Secret", "secrets", True),
    ("core.v1", "ServiceAccount", "serviceaccounts", True),
    ("core.v1", "Event", "events", True),
    ("core.v1", "ResourceQuota", "resourcequotas", True),
    ("core.v1", "LimitRange", "limitranges", True),
    ("core.v1", "PersistentVolume", "persistentvolumes", False),
    ("core.v1", "PersistentVolumeClaim", "persistentvolumeclaims", True),
    ("core.v1", "ReplicationController", "replicationcontrollers", True),
    ("core.v1", "Binding", "bindings", True),
    ("core.v1", "PodTemplate", "podtemplates", True),
    ("apps.v1", "Deployment", "deployments", True),
    ("apps.v1", "ReplicaSet", "replicasets", True),
    ("apps.v1", "StatefulSet", "statefulsets", True),
    ("apps.v1", "DaemonSet", "daemonsets", True),
    ("apps.v1", "ControllerRevision", "controllerrevisions", True),
    ("batch.v1", "Job", "jobs", True),
    ("batch.v1", "CronJob", "cronjobs", True),
    ("coordination.v1", "Lease", "leases", True),
    ("events.v1", "Event", "events", True),
    ("discovery.v1", "EndpointSlice", "endpointslices", True),
    ("policy.v1", "PodDisruptionBudget", "poddisruptionbudgets", True),
    ("policy.v1", "Eviction", "evictions", True),
    ("scheduling.v1", "PriorityClass", "priorityclasses", False),
    ("certificates.v1", "CertificateSigningRequest", "certificatesigningrequests", False),
    ("storage.v1", "StorageClass", "storageclasses", False),
    ("storage.v1", "CSINode", "csinodes", False),
    ("storage.v1", "CSIDriver", "csidrivers", False),
    ("storage.v1", "VolumeAttachment", "volumeattachments", False),
    ("storage.v1", "CSIStorageCapacity", "csistoragecapacities", True),
    ("node.v1", "RuntimeClass", "runtimeclasses", False),
    ("networking.v1", "Ingress", "ingresses", True),
    ("networking.v1", "IngressClass", "ingressclasses", False),
    ("networking.v1", "NetworkPolicy", "networkpolicies", True),
    ("autoscaling.v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True),
]

# Definitions that are not structs: what a field referring to them holds.
SPECIAL = {
    "io.k8s.apimachinery.pkg.api.resource.Quantity": "Quantity",
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": "IntOrString",
    META + "Time": "String",
    META + "MicroTime": "String",
}

KEYWORDS = {
    "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init", "inout",
    "internal", "let", "open", "operator", "private", "precedencegroup", "protocol", "public", "rethrows",
    "static", "struct", "subscript", "typealias", "var", "break", "case", "catch", "continue", "default",
    "defer", "do", "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return", "throw", "switch",
    "where", "while", "Any", "as", "false", "is", "nil", "self", "Self", "super", "throws", "true", "try",
    "Type", "Protocol",
}

HEADER = "// Generated by scripts/generate-models.py from Kubernetes v1.32's schemas. Do not edit.\n\n"


def ref_name(schema):
    ref = schema["$ref"]
    if not ref.startswith(REF_PREFIX):
        raise SystemExit(f"unexpected $ref {ref}")
    return ref[len(REF_PREFIX):]


def single_type(schema, where):
    """The one non-null JSON type of a schema node (kubernetes-validate spells optional as [T, null])."""
    value = schema.get("type")
    if isinstance(value, list):
        types = [t for t in value if t != "null"]
        if len(types) != 1:
            raise SystemExit(f"unexpected type list {value} at {where}")
        return types[0]
    return value


def package_of(name):
    """`core.v1` for io.k8s.api.core.v1.Pod, `meta.v1` for meta/v1 types."""
    if name.startswith(API):
        return name[len(API):].rsplit(".", 1)[0]
    if name.startswith(META):
        return "meta.v1"
    raise SystemExit(f"no package for {name}")


def is_free_form(schema):
    """An object the models keep as plain JSON: no declared properties or value type."""
    return single_type(schema, "") == "object" and "properties" not in schema and "additionalProperties" not in schema


def reachable(defs, roots):
    """Every struct definition reachable from `roots`, in a stable order."""
    seen, stack = set(), list(reversed(roots))
    order = []
    while stack:
        name = stack.pop()
        if name in seen or name in SPECIAL or is_free_form(defs[name]):
            continue
        seen.add(name)
        order.append(name)
        found = []
        for prop in defs[name].get("properties", {}).values():
            node = prop
            while True:
                if "$ref" in node:
                    found.append(ref_name(node))
                    break
                kind = single_type(node, name)
                if kind == "array":
                    node = node["items"]
                elif kind == "object" and isinstance(node.get("additionalProperties"), dict):
                    node = node["additionalProperties"]
                else:
                    break
        stack.extend(reversed(found))
    return order


def public_type_names(root):
    """Public type names declared in APIMachinery and in Client outside the generated models."""
    pattern = re.compile(r"^public (?:struct|enum|final class|class|actor|protocol|typealias) (\w+)", re.M)
    names = set()
    generated = os.path.join(root, "Sources", "Client", "Models", "Generated")
    for module in ("APIMachinery", "Client"):
        for directory, _, files in os.walk(os.path.join(root, "Sources", module)):
            if directory.startswith(generated):
                continue
            for file in files:
                if file.endswith(".swift"):
                    with open(os.path.join(directory, file), encoding="utf-8") as handle:
                        names.update(pattern.findall(handle.read()))
    return names


def prefix_of(package):
    label, version = package.split(".")
    if label == "meta":
        return "Meta"
    return label[0].upper() + label[1:] + version[0].upper() + version[1:]


def swift_names(structs, taken):
    """Swift type name of every struct definition, by the collision rule in the header."""
    by_name = {}
    for name in structs:
        by_name.setdefault(name.rsplit(".", 1)[1], []).append(name)
    names = {}
    for short, owners in by_name.items():
        for owner in owners:
            package = package_of(owner)
            if short in taken:
                names[owner] = ("CoreV1" if package == "core.v1" else prefix_of(package)) + short
            elif len(owners) > 1 and package != "core.v1":
                names[owner] = prefix_of(package) + short
            else:
                names[owner] = short
    if len(set(names.values())) != len(names):
        raise SystemExit("type names still collide after prefixing")
    return names


def identifier(name):
    """The Swift spelling of a JSON field name; names Swift cannot spell stop the generator."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise SystemExit(f"field name {name!r} is not a Swift identifier")
    return f"`{name}`" if name in KEYWORDS else name


class Field:
    """One property of a generated struct."""

    def __init__(self, json_name, swift_type, container, kind_part=None):
        self.json_name = json_name
        self.ident = identifier(json_name)
        self.swift_type = swift_type  # element type for arrays and maps
        self.container = container  # "value", "array" or "map"
        self.kind_part = kind_part  # "metadata", "spec" or "status" of a kind, else None

    @property
    def declared_type(self):
        if self.kind_part:
            return self.swift_type
        if self.container == "array":
            return f"[{self.swift_type}]"
        if self.container == "map":
            return f"[String: {self.swift_type}]"
        return f"{self.swift_type}?"

    @property
    def default(self):
        if self.kind_part:
            return f"{self.swift_type}()"
        return {"array": "[]", "map": "[:]"}.get(self.container, "nil")


def value_type(schema, names, where):
    """The Swift type a schema node holds, and whether it is a value, an array or a map of it."""
    if "$ref" in schema:
        target = ref_name(schema)
        if target in SPECIAL:
            return SPECIAL[target], "value"
        if target in names:
            return names[target], "value"
        return "JSON", "value"  # free-form definitions: RawExtension, FieldsV1
    kind = single_type(schema, where)
    if kind == "array":
        inner, container = value_type(schema["items"], names, where)
        return (inner if container == "value" else f"[{inner}]"), "array"
    if kind == "object":
        if isinstance(schema.get("additionalProperties"), dict):
            inner, container = value_type(schema["additionalProperties"], names, where)
            if container != "value" and container != "array":
                raise SystemExit(f"nested map at {where}")
            return (inner if container == "value" else f"[{inner}]"), "map"
        return "JSON", "value"
    if kind == "string":
        return "String", "value"
    if kind == "boolean":
        return "Bool", "value"
    if kind == "number":
        return "Double", "value"
    if kind == "integer":
        fmt = schema.get("format")
        if fmt == "int32":
            return "Int32", "value"
        if fmt in ("int64", None):
            return "Int64", "value"
    raise SystemExit(f"unsupported schema at {where}: {schema}")


def render_struct(definition, schema, swift_name, names, kind):
    structs = set(names.values())
    package = package_of(definition)
    label, version = package.split(".")
    where_text = f"{GROUPS.get(label) or label}/{version}"
    go_name = definition.rsplit(".", 1)[1]
    fields = []
    for json_name, prop in schema.get("properties", {}).items():
        swift_type, container = value_type(prop, names, f"{definition}.{json_name}")
        part = json_name if kind and json_name in ("metadata", "spec", "status") else None
        fields.append(Field(json_name, swift_type, container, part))
    # Required fields lead, in the `required` list's order (upstream's Go field order), so calls read
    # naturally: `Taint(key:effect:)`, `Container(name:image:)`.
    required = schema.get("required", [])
    type_fields = [f for f in fields if kind and f.json_name in ("apiVersion", "kind")]
    init_fields = [f for f in fields if f not in type_fields]
    by_name = {f.json_name: f for f in init_fields}
    init_fields = [by_name[r] for r in required if r in by_name] + [
        f for f in init_fields if f.json_name not in required
    ]
    conformance = "KubernetesObject" if kind else "JSONModel"
    lines = []
    lines.append(f"/// {where_text} `{go_name}`{' (a kind)' if kind else ''}.")
    lines.append(f"public struct {swift_name}: {conformance}, ModelValue {{")
    if kind:
        group, resource, namespaced = kind
        version = package.split(".")[1]
        lines.append(
            f"    public static let resource = ResourceDescriptor(\n"
            f'        group: "{group}", version: "{version}", kind: "{go_name}", resource: "{resource}",\n'
            f"        namespaced: {'true' if namespaced else 'false'})"
        )
        lines.append("")
    for field in fields:
        if field in type_fields:
            lines.append("    /// As read; `toJSON()` writes the descriptor's when nil.")
        if field.json_name[0].isupper():
            lines.append("    // swift-format-ignore: AlwaysUseLowerCamelCase")
            lines.append("    /// Upstream's JSON name, capitalised.")
        # Optional nested structs are boxed (see Boxed.swift): inline, an absent one costs its whole size.
        boxed = "@Boxed " if field.container == "value" and not field.kind_part and field.swift_type in structs else ""
        lines.append(f"    {boxed}public var {field.ident}: {field.declared_type}")
    lines.append("    /// Fields this model does not know, written back after the known ones.")
    lines.append("    public var unknownFields = JSONObject()")
    lines.append("")
    params = ", ".join(f"{f.ident}: {f.declared_type} = {f.default}" for f in init_fields)
    lines.append(f"    public init({params}) {{")
    for field in init_fields:
        lines.append(f"        self.{field.ident} = {field.ident}")
    lines.append("    }")
    lines.append("")
    lines.append("    public init(json: JSON) throws(ModelError) {")
    lines.append("        self.init()")
    lines.append("        for entry in try ModelField.object(json) {")
    lines.append("            switch entry.key {")
    for field in fields:
        key = json.dumps(field.json_name)
        if field.kind_part:
            reader = f"try ModelField.value(entry.value, {key}) ?? {field.swift_type}()"
        elif field.container == "array":
            reader = f"try ModelField.array(entry.value, {key})"
        elif field.container == "map":
            reader = f"try ModelField.map(entry.value, {key})"
        elif field.container == "value" and field.swift_type in structs:
            # Into the wrapper's storage, so an empty object can share one box.
            lines.append(f"            case {key}: self._{field.json_name} = try ModelField.boxed(entry.value, {key})")
            continue
        else:
            reader = f"try ModelField.value(entry.value, {key})"
        lines.append(f"            case {key}: self.{field.ident} = {reader}")
    lines.append("            default: unknownFields.entries.append(entry)")
    lines.append("            }")
    lines.append("        }")
    lines.append("    }")
    lines.append("")
    lines.append("    public func toJSON() -> JSON {")
    lines.append("        var object = JSONObject()")
    lines.append(f"        object.entries.reserveCapacity({len(fields)} + unknownFields.count)")
    for field in fields:
        key = json.dumps(field.json_name)
        # A field named `object` (autoscaling's MetricSpec) would be shadowed by the local being built.
        value = f"self.{field.ident}" if field.ident == "object" else field.ident
        if field in type_fields:
            source = "apiVersion" if field.json_name == "apiVersion" else "kind"
            lines.append(f"        object.entries.append(({key}, .string({field.ident} ?? Self.resource.{source})))")
        elif field.kind_part == "metadata":
            lines.append(f"        object.entries.append(({key}, {field.ident}.toJSON()))")
        elif field.kind_part:
            lines.append(f"        object.putUnlessEmpty({key}, {value})")
        elif field.container == "array":
            lines.append(f"        object.putArray({key}, {value})")
        elif field.container == "map":
            lines.append(f"        object.putMap({key}, {value})")
        else:
            lines.append(f"        object.put({key}, {value})")
    lines.append("        object.entries.append(contentsOf: unknownFields.entries)")
    lines.append("        return .object(object)")
    lines.append("    }")
    lines.append("}")
    return "\n".join(lines)


INT_OR_STRING = '''/// A field that holds either an integer or a string (upstream's `intstr.IntOrString`), such as a port
/// (`8080` or `http`) or a rollout bound (`1` or `25%`).
public enum IntOrString: JSONModel, ModelValue, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    case int(Int32)
    case string(String)

    public init(integerLiteral value: Int32) { self = .int(value) }
    public init(stringLiteral value: String) { self = .string(value) }

    public init(json: JSON) throws(ModelError) {
        switch json {
        case .string(let value): self = .string(value)
        case .int, .double: self = .int(try Int32(modelJSON: json))
        default: throw .expected("integer or string", got: json)
        }
    }

    public func toJSON() -> JSON {
        switch self {
        case .int(let value): return .int(Int64(value))
        case .string(let value): return .string(value)
        }
    }
}
'''

MODEL_KINDS = """/// The kinds that have generated models.
public enum ModelKinds {
    /// Every generated `KubernetesObject` type, in the generator's order.
    public static let all: [any KubernetesObject.Type] = [
KINDS,
    ]
}
"""


def file_name(package):
    label, version = package.split(".")
    return label[0].upper() + label[1:] + version[0].upper() + version[1:] + ".swift"


def main():
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    output = sys.argv[2] if len(sys.argv) == 3 else os.path.join(root, "Sources", "Client", "Models", "Generated")
    with open(sys.argv[1], encoding="utf-8") as handle:
        defs = json.load(handle)["$defs"]

    kinds = {}
    for package, kind, resource, namespaced in KINDS:
        definition = f"{API}{package}.{kind}"
        if definition not in defs:
            raise SystemExit(f"{definition} is not in the input")
        kinds[definition] = (GROUPS[package.split(".")[0]], resource, namespaced)
    structs = reachable(defs, list(kinds))
    names = swift_names(structs, public_type_names(root))

    files = {}
    for definition in sorted(structs, key=lambda n: (package_of(n), names[n])):
        body = render_struct(definition, defs[definition], names[definition], names, kinds.get(definition))
        files.setdefault(file_name(package_of(definition)), []).append(body)

    os.makedirs(output, exist_ok=True)
    for existing in os.listdir(output):
        if existing.endswith(".swift"):
            os.remove(os.path.join(output, existing))
    for name, bodies in sorted(files.items()):
        with open(os.path.join(output, name), "w", encoding="utf-8") as handle:
            handle.write(HEADER + "public import APIMachinery\n\n" + "\n\n".join(bodies) + "\n")
    with open(os.path.join(output, "IntOrString.swift"), "w", encoding="utf-8") as handle:
        handle.write(HEADER + "public import APIMachinery\n\n" + INT_OR_STRING)
    kind_names = ",\n".join(f"        {names[definition]}.self" for definition in kinds)
    with open(os.path.join(output, "ModelKinds.swift"), "w", encoding="utf-8") as handle:
        handle.write(HEADER + MODEL_KINDS.replace("KINDS", kind_names))
    written = sorted(os.path.join(output, name) for name in list(files) + ["IntOrString.swift", "ModelKinds.swift"])
    # The generated text is laid out by the repository's formatter, so regenerating gives no diff.
    subprocess.run(["swift", "format", "--in-place", *written], check=True, cwd=root)
    renamed = sorted(f"{d} → {n}" for d, n in names.items() if n != d.rsplit(".", 1)[1])
    print(f"{len(structs)} models in {len(files) + 2} files; prefixed: {', '.join(renamed)}")


if __name__ == "__main__":
    main()
