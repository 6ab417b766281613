#!/usr/bin/env bash
# Regenerates Sources/EtcdStore/Generated/ from etcd's own protobuf definitions.
#
# The protos come from Debian's golang-etcd-server-dev (etcd 3.4). We keep only the messages and
# services the EtcdStore client speaks (KV, Watch, Lease, Maintenance.Status), with etcd's field
# numbers, and drop the gogoproto and google.api (grpc-gateway) imports and options, which only
# affect Go code. The generated Swift is committed: building the package needs no protoc.
#
# Needs: protoc (Debian's protobuf-compiler) and protoc-gen-swift from swift-protobuf 1.39.0
# (PROTOC_GEN_SWIFT=/path/to/protoc-gen-swift, default: on PATH or /tmp/swift-protobuf/.build/release).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/Sources/EtcdStore/Generated"
source_dir="${ETCD_PROTO_DIR:-/usr/share/gocode/src/go.etcd.io/etcd}"
plugin="${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift || echo /tmp/swift-protobuf/.build/release/protoc-gen-swift)}"

[[ -f "$source_dir/etcdserver/etcdserverpb/rpc.proto" ]] || {
    echo "etcd protos not found in $source_dir (apt-get install golang-etcd-server-dev)" >&2
    exit 1
}
[[ -x "$plugin" ]] || { echo "protoc-gen-swift not found at $plugin" >&2; exit 1; }
command -v protoc > /dev/null || { echo "protoc not found (apt-get install protobuf-compiler)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 - "$source_dir" "$work" << 'PYTHON'
import re
import sys

source, work = sys.argv[1], sys.argv[2]

KEEP_MESSAGES = {
    "ResponseHeader", "RangeRequest", "RangeResponse", "PutRequest", "PutResponse",
    "DeleteRangeRequest", "DeleteRangeResponse", "RequestOp", "ResponseOp", "Compare",
    "TxnRequest", "TxnResponse", "CompactionRequest", "CompactionResponse",
    "WatchRequest", "WatchCreateRequest", "WatchCancelRequest", "WatchProgressRequest", "WatchResponse",
    "LeaseGrantRequest", "LeaseGrantResponse", "LeaseRevokeRequest", "LeaseRevokeResponse",
    "LeaseKeepAliveRequest", "LeaseKeepAliveResponse", "LeaseTimeToLiveRequest", "LeaseTimeToLiveResponse",
    "StatusRequest", "StatusResponse",
}
KEEP_RPCS = {
    "KV": {"Range", "Put", "DeleteRange", "Txn", "Compact"},
    "Watch": {"Watch"},
    "Lease": {"LeaseGrant", "LeaseRevoke", "LeaseKeepAlive", "LeaseTimeToLive"},
    "Maintenance": {"Status"},
}


def strip_options(text):
    """Drops gogoproto/google.api imports, file options and [(gogoproto.x) = y] field options."""
    text = re.sub(r'^import "(gogoproto|google/api)/[^"]+";\n', "", text, flags=re.M)
    text = re.sub(r"^option \(gogoproto\.[^;]+;\n", "", text, flags=re.M)
    text = re.sub(r"\s*\[\(gogoproto\.[^\]]*\]", "", text)
    return text


def blocks(text):
    """Splits a proto file into top-level chunks: (kind, name, text) with brace matching."""
    result, index = [], 0
    pattern = re.compile(r"^(message|service|enum)\s+(\w+)\s*\{", re.M)
    while True:
        match = pattern.search(text, index)
        if not match:
            result.append(("rest", None, text[index:]))
            return result
        # Keep the comment lines right above the block with it.
        start = match.start()
        while True:
            previous = text.rfind("\n", 0, start - 1)
            line = text[previous + 1:start]
            if line.strip().startswith("//"):
                start = previous + 1
            else:
                break
        result.append(("rest", None, text[index:start]))
        depth, cursor = 0, match.end() - 1
        while True:
            if text[cursor] == "{":
                depth += 1
            elif text[cursor] == "}":
                depth -= 1
                if depth == 0:
                    break
            cursor += 1
        result.append((match.group(1), match.group(2), text[start:cursor + 1] + "\n"))
        index = cursor + 1


def trim_service(name, body):
    """Keeps the listed rpcs of a service, each without its google.api.http option."""
    keep = KEEP_RPCS[name]
    lines, out, skipping = body.split("\n"), [], False
    rpc = re.compile(r"\s*rpc\s+(\w+)\(")
    i = 0
    pending_comments = []
    while i < len(lines):
        line = lines[i]
        match = rpc.match(line)
        if match:
            # The rpc runs to its closing "}" (when it has an options body) or ends with ";".
            depth = line.count("{") - line.count("}")
            chunk = [line]
            while depth > 0:
                i += 1
                depth += lines[i].count("{") - lines[i].count("}")
                chunk.append(lines[i])
            if match.group(1) in keep:
                out.extend(pending_comments)
                head = chunk[0].split("{")[0].rstrip()
                out.append(head + ";" if not head.endswith(";") else head)
            pending_comments = []
        elif line.strip().startswith("//"):
            pending_comments.append(line)
        elif line.strip() == "":
            pending_comments = []
            out.append(line)
        else:
            out.extend(pending_comments)
            pending_comments = []
            out.append(line)
        i += 1
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out))


rpc = strip_options(open(f"{source}/etcdserver/etcdserverpb/rpc.proto").read())
rpc = rpc.replace('import "etcd/mvcc/mvccpb/kv.proto";', 'import "kv.proto";')
rpc = re.sub(r'^import "etcd/auth/authpb/auth.proto";\n', "", rpc, flags=re.M)
pieces = ['// Generated by scripts/generate-etcd-protos.sh from etcd 3.4\'s rpc.proto; trimmed to what EtcdStore uses.\n']
for kind, name, text in blocks(rpc):
    if kind == "rest":
        if name is None and "syntax" in text:
            pieces.append(text)
        continue
    if kind == "service" and name in KEEP_RPCS:
        pieces.append(trim_service(name, text) + "\n")
    elif kind == "message" and name in KEEP_MESSAGES:
        pieces.append(text + "\n")
open(f"{work}/rpc.proto", "w").write(re.sub(r"\n{3,}", "\n\n", "".join(pieces)))

kv = strip_options(open(f"{source}/mvcc/mvccpb/kv.proto").read())
open(f"{work}/kv.proto", "w").write("// Generated by scripts/generate-etcd-protos.sh from etcd 3.4's kv.proto.\n" + kv)
PYTHON

mkdir -p "$out"
rm -f "$out"/*.pb.swift
protoc --plugin=protoc-gen-swift="$plugin" --proto_path="$work" \
    --swift_opt=Visibility=Internal --swift_opt=FileNaming=DropPath \
    --swift_out="$out" "$work/kv.proto" "$work/rpc.proto"

echo "generated: $(ls "$out")"
