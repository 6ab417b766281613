#!/usr/bin/env python3
"""Captures the protobuf request bodies kubectl sends for typed `create` commands, and the JSON
kubectl prints for the same command with --dry-run=client -o json, as test fixtures for
KubernetesProtobuf (Tests/APIMachineryTests/ProtobufTests.swift).

A throwaway HTTP server on 127.0.0.1 (a random free port) answers kubectl's discovery requests
with minimal legacy discovery documents, saves each POST body, and answers 201 with a small
object of the posted kind. Nothing leaves the machine.

Usage: capture-protobuf-fixtures.py [--kubectl /usr/bin/kubectl] [--output DIR]
Writes DIR/NAME.pb (the body as sent, `k8s\\0` envelope included) and DIR/NAME.json.
"""

import argparse
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading

# fixture name -> (kubectl arguments, arguments after `--`). --validate=false spares kubectl
# the OpenAPI download. `kubectl run` is absent: kubectl 1.32 sends its Pod as JSON.
COMMANDS = {
    "configmap": (["create", "configmap", "x", "--from-literal=a=b", "--from-literal=c=d"], []),
    "secret": (["create", "secret", "generic", "s", "--from-literal=k=v"], []),
    "deployment": (["create", "deployment", "d", "--image=nginx", "--replicas=3", "--port=80"], []),
    "namespace": (["create", "namespace", "n"], []),
    "service": (["create", "service", "clusterip", "svc", "--tcp=80:8080"], []),
    "serviceaccount": (["create", "serviceaccount", "sa"], []),
    "role": (["create", "role", "r", "--verb=get,list", "--resource=pods,deployments.apps"], []),
    "rolebinding": (["create", "rolebinding", "rb", "--role=r", "--user=u",
                     "--serviceaccount=default:sa"], []),
    "clusterrole": (["create", "clusterrole", "cr", "--verb=get", "--non-resource-url=/healthz"], []),
    "job": (["create", "job", "j", "--image=busybox"], ["sleep", "10"]),
    "cronjob": (["create", "cronjob", "cj", "--image=busybox", "--schedule=*/5 * * * *"], ["date"]),
    "quota": (["create", "quota", "q", "--hard=cpu=1500m,memory=1Gi,pods=10"], []),
    "pdb": (["create", "poddisruptionbudget", "pdb", "--selector=app=x", "--min-available=50%"], []),
    "pdb-int": (["create", "poddisruptionbudget", "pdb2", "--selector=app=y", "--max-unavailable=1"],
                []),
}

# `kubectl create token` has no --dry-run; its TokenRequest is checked field by field instead.
NO_DRY_RUN = {
    "token": (["create", "token", "sa", "--duration=10m", "--audience=api"], []),
}

# plural -> (groupVersion, kind, namespaced)
RESOURCES = {
    "configmaps": ("v1", "ConfigMap", True),
    "secrets": ("v1", "Secret", True),
    "namespaces": ("v1", "Namespace", False),
    "services": ("v1", "Service", True),
    "pods": ("v1", "Pod", True),
    "serviceaccounts": ("v1", "ServiceAccount", True),
    "resourcequotas": ("v1", "ResourceQuota", True),
    "deployments": ("apps/v1", "Deployment", True),
    "jobs": ("batch/v1", "Job", True),
    "cronjobs": ("batch/v1", "CronJob", True),
    "poddisruptionbudgets": ("policy/v1", "PodDisruptionBudget", True),
    "roles": ("rbac.authorization.k8s.io/v1", "Role", True),
    "rolebindings": ("rbac.authorization.k8s.io/v1", "RoleBinding", True),
    "clusterroles": ("rbac.authorization.k8s.io/v1", "ClusterRole", False),
    "token": ("authentication.k8s.io/v1", "TokenRequest", True),
}
GROUP_VERSIONS = sorted({version for plural, (version, _, _) in RESOURCES.items()
                         if "/" in version and plural != "token"})


def resource_list(group_version):
    resources = []
    for plural, (version, kind, namespaced) in RESOURCES.items():
        if version == group_version and plural != "token":
            resources.append({"name": plural, "singularName": kind.lower(), "namespaced": namespaced,
                              "kind": kind, "verbs": ["create", "delete", "get", "list", "patch",
                                                      "update", "watch"]})
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
            "resources": resources}


DISCOVERY = {
    "/api": {"kind": "APIVersions", "versions": ["v1"],
             "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]},
    "/api/v1": resource_list("v1"),
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        {"name": version.split("/")[0], "versions": [{"groupVersion": version, "version": "v1"}],
         "preferredVersion": {"groupVersion": version, "version": "v1"}}
        for version in GROUP_VERSIONS]},
    **{f"/apis/{version}": resource_list(version) for version in GROUP_VERSIONS},
}


class Handler(http.server.BaseHTTPRequestHandler):
    captured = []  # (path, content type, body)

    def log_message(self, *args):
        pass

    def reply(self, status, document):
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path in DISCOVERY:
            self.reply(200, DISCOVERY[path])
        else:
            self.reply(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404,
                             "reason": "NotFound", "message": f"{path} not found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        Handler.captured.append((self.path, self.headers.get("Content-Type", ""), body))
        plural = self.path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        version, kind, _ = RESOURCES.get(plural, ("v1", "Status", False))
        document = {"apiVersion": version, "kind": kind, "metadata": {"name": "captured"}}
        if kind == "TokenRequest":
            document["status"] = {"token": "captured", "expirationTimestamp": "2030-01-01T00:00:00Z"}
        self.reply(201, document)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--kubectl", default="/usr/bin/kubectl")
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--output", default=os.path.join(
        here, "..", "Tests", "APIMachineryTests", "Fixtures", "protobuf"))
    args = parser.parse_args()
    os.makedirs(args.output, exist_ok=True)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    with tempfile.TemporaryDirectory() as home:
        # An empty kubeconfig and HOME keep the caller's own cluster settings out of the capture.
        env = dict(os.environ, HOME=home, KUBECONFIG=os.path.join(home, "config"))
        base = [args.kubectl, f"--server=http://127.0.0.1:{port}", "--namespace=default"]
        try:
            for name, (command, trailing) in {**COMMANDS, **NO_DRY_RUN}.items():
                if command[0] == "create" and name not in NO_DRY_RUN:
                    command = command + ["--validate=false"]
                Handler.captured.clear()
                shown = "kubectl " + " ".join(command + (["--"] + trailing if trailing else []))
                run = subprocess.run(base + command + (["--"] + trailing if trailing else []),
                                     env=env, capture_output=True, text=True, timeout=60)
                if run.returncode != 0:
                    sys.exit(f"{shown} failed: {run.stderr.strip()}")
                posts = [entry for entry in Handler.captured if entry[2]]
                if len(posts) != 1:
                    sys.exit(f"{shown} sent {len(posts)} bodies, expected 1")
                path, content_type, body = posts[0]
                if not content_type.startswith("application/vnd.kubernetes.protobuf"):
                    sys.exit(f"{shown} sent {content_type}, not protobuf")
                with open(os.path.join(args.output, f"{name}.pb"), "wb") as handle:
                    handle.write(body)
                if name in NO_DRY_RUN:
                    print(f"{name}: POST {path} ({len(body)} bytes, {content_type})")
                    continue
                dry_run = command + ["--dry-run=client", "-o", "json"]
                dry = subprocess.run(base + dry_run + (["--"] + trailing if trailing else []),
                                     env=env, capture_output=True, text=True, timeout=60, check=True)
                with open(os.path.join(args.output, f"{name}.json"), "w", encoding="utf-8") as handle:
                    handle.write(json.dumps(json.loads(dry.stdout), indent=2, sort_keys=True) + "\n")
                print(f"{name}: POST {path} ({len(body)} bytes, {content_type})")
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
