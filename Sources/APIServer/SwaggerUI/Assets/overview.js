"use strict";
// The cluster overview at /ui/: each resource is listed once, then kept current by a watch (resumed from the
// last resourceVersion it saw, relisted after 410 Gone), so a rollout or a failing node shows as it happens.
// Every call is a same-origin API request with this page's credentials: a user sees what RBAC lets them list,
// and a section they may not read says so. `?namespace=x` narrows the namespaced sections to one namespace.

const apiRoot = location.pathname.replace(/ui\/[^/]*$/, "");
const namespace = (new URLSearchParams(location.search).get("namespace") || "").trim();
const maxRows = 200;

/** An API answer other than 2xx, with the Status body when there is one. */
class APIError extends Error {
  constructor(status, body) {
    super(body && body.message ? body.message : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

function apiURL(path) {
  return apiRoot + path.replace(/^\//, "");
}

async function failure(response) {
  const text = await response.text();
  try {
    return new APIError(response.status, JSON.parse(text));
  } catch (error) {
    return new APIError(response.status, { message: text.trim() || `HTTP ${response.status}` });
  }
}

/** Builds an element; children are nodes or text, never HTML, so no object can inject markup. */
function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") element.className = value;
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

const sleep = (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds));

// MARK: mirrors

/**
 * One resource kept in memory, as client-go's reflector keeps it: a paged list, then a watch from the list's
 * resourceVersion. A watch that ends is resumed from the last resourceVersion seen (bookmarks included); an
 * expired one (410) relists; any failure retries with backoff up to 30 s, so a page left open recovers.
 */
class Mirror {
  constructor(path, query, namespaced) {
    this.path = path;
    this.query = query || {};
    /** Listed across namespaces only because no namespace was chosen. */
    this.namespaced = Boolean(namespaced) && !namespace;
    this.items = new Map();
    this.resourceVersion = null;
    this.state = "loading";
    this.error = null;
  }

  url(extra) {
    const query = new URLSearchParams({ ...this.query, ...extra });
    return `${apiURL(this.path)}?${query}`;
  }

  async run() {
    let backoff = 1000;
    for (;;) {
      try {
        if (this.resourceVersion === null) await this.list();
        const started = Date.now();
        await this.watch();
        // A watch the server ends at once (it should last minutes) is not retried in a tight loop.
        if (Date.now() - started < 1000) await sleep(1000);
        backoff = 1000;
      } catch (error) {
        if (error.status === 410) {
          this.resourceVersion = null;
          continue;
        }
        this.state = error.status === 403 || error.status === 401 ? "forbidden" : "reconnecting";
        this.error = error;
        render();
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 30000);
      }
    }
  }

  async list() {
    const items = new Map();
    let token = "";
    let resourceVersion = "";
    do {
      const response = await fetch(this.url(token ? { limit: "500", continue: token } : { limit: "500" }), {
        headers: { Accept: "application/json" },
      });
      if (!response.ok) throw await failure(response);
      const page = await response.json();
      for (const item of page.items || []) items.set(key(item), item);
      token = (page.metadata && page.metadata.continue) || "";
      resourceVersion = (page.metadata && page.metadata.resourceVersion) || "";
    } while (token);
    this.items = items;
    this.resourceVersion = resourceVersion;
    this.state = "live";
    this.error = null;
    render();
  }

  async watch() {
    // Upstream's clients pick a random 5 to 10 minutes, so many pages do not reconnect together.
    const timeoutSeconds = String(300 + Math.floor(Math.random() * 300));
    const response = await fetch(this.url({
      watch: "1", allowWatchBookmarks: "true", resourceVersion: this.resourceVersion, timeoutSeconds,
    }), { headers: { Accept: "application/json" } });
    if (!response.ok) throw await failure(response);
    this.state = "live";
    this.error = null;
    render();
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let newline;
        while ((newline = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, newline).trim();
          buffer = buffer.slice(newline + 1);
          if (line) this.apply(JSON.parse(line));
        }
      }
    } finally {
      // An ERROR event or an unreadable line ends this watch; close its stream rather than leave it open.
      reader.cancel().catch(() => {});
    }
  }

  apply(event) {
    const object = event.object || {};
    if (event.type === "ERROR") throw new APIError(object.code || 500, object);
    const resourceVersion = object.metadata && object.metadata.resourceVersion;
    if (resourceVersion) this.resourceVersion = resourceVersion;
    if (event.type === "ADDED" || event.type === "MODIFIED") this.items.set(key(object), object);
    else if (event.type === "DELETED") this.items.delete(key(object));
    else return;
    render();
  }

  get objects() {
    return [...this.items.values()];
  }
}

function key(object) {
  const metadata = object.metadata || {};
  return metadata.namespace ? `${metadata.namespace}/${metadata.name}` : metadata.name;
}

function scoped(group, version, resource) {
  const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
  return namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${resource}` : `${base}/${resource}`;
}

const mirrors = {
  nodes: new Mirror("/api/v1/nodes"),
  namespaces: new Mirror("/api/v1/namespaces"),
  deployments: new Mirror(scoped("apps", "v1", "deployments"), {}, true),
  statefulsets: new Mirror(scoped("apps", "v1", "statefulsets"), {}, true),
  daemonsets: new Mirror(scoped("apps", "v1", "daemonsets"), {}, true),
  pods: new Mirror(scoped("", "v1", "pods"), {}, true),
  events: new Mirror(scoped("", "v1", "events"), { fieldSelector: "type=Warning" }, true),
  leases: new Mirror("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases"),
};

// The storage checks are not a watchable resource: /readyz?verbose is read every ten seconds.
const health = { checks: [], state: "loading", error: null };

async function pollHealth() {
  for (;;) {
    try {
      const response = await fetch(apiURL("/readyz?verbose"), { headers: { Accept: "text/plain" } });
      const text = await response.text();
      if (response.status === 401 || response.status === 403) throw new APIError(response.status, { message: text });
      // Lines read "[+]etcd ok" or "[-]etcd failed: reason withheld".
      health.checks = text.split("\n").map((line) => /^\[([+-])\](\S+) (?:ok|failed)(?::\s*(.*))?$/.exec(line))
        .filter(Boolean).map((match) => ({ name: match[2], ok: match[1] === "+", detail: match[3] || "" }));
      health.state = "live";
      health.error = null;
    } catch (error) {
      health.state = error.status === 403 || error.status === 401 ? "forbidden" : "reconnecting";
      health.error = error;
    }
    render();
    await sleep(10000);
  }
}

// MARK: formatting

function age(timestamp) {
  const time = Date.parse(timestamp || "");
  if (Number.isNaN(time)) return "";
  const seconds = Math.max(0, Math.round((Date.now() - time) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

function table(headers, rows, total) {
  if (rows.length === 0) return h("p", { class: "muted" }, "None.");
  const note = total > rows.length ? h("p", { class: "muted" }, `Showing ${rows.length} of ${total}.`) : null;
  return [h("table", {}, h("thead", {}, h("tr", {}, headers.map((text) => h("th", {}, text)))), h("tbody", {}, rows)), note];
}

function sectionState(id, sources) {
  const heading = document.querySelector(`#${id} h2`);
  let state = heading.querySelector(".state");
  if (!state) {
    state = h("span", { class: "state" });
    heading.append(state);
  }
  const trouble = sources.find((source) => source.state !== "live");
  state.className = trouble ? (trouble.state === "loading" ? "state" : "state trouble") : "state live";
  state.textContent = trouble ? trouble.state : "live";
  // A section whose every source is unreadable shows why instead of an empty table.
  const forbidden = sources.filter((source) => source.state === "forbidden");
  if (forbidden.length < sources.length) return null;
  // Someone allowed into one namespace only is refused across all of them: point at the way in.
  const hint = forbidden.every((source) => source.namespaced) ? " — name a namespace above to see only its objects." : "";
  return h("p", { class: "forbidden" }, forbidden[0].error.message + hint);
}

function fill(id, sources, build) {
  const body = document.querySelector(`#${id} .body`);
  const refusal = sectionState(id, sources);
  if (refusal) body.replaceChildren(refusal);
  else if (sources.every((source) => source.state === "loading")) body.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  else body.replaceChildren(...[build()].flat(Infinity).filter(Boolean));
}

// MARK: sections

function condition(object, type) {
  return ((object.status && object.status.conditions) || []).find((candidate) => candidate.type === type);
}

function nodeReady(node) {
  const ready = condition(node, "Ready");
  return ready ? ready.status : "Unknown";
}

function renderNodes() {
  fill("nodes", [mirrors.nodes], () => {
    const nodes = mirrors.nodes.objects.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    return table(["Name", "Status", "Conditions", "CPU", "Memory", "Pods", "Version", "Age"], nodes.map((node) => {
      const status = node.status || {};
      const allocatable = status.allocatable || {};
      const ready = nodeReady(node);
      const label = ready === "True" ? "Ready" : ready === "False" ? "NotReady" : "Unknown";
      const cordoned = node.spec && node.spec.unschedulable ? ",SchedulingDisabled" : "";
      const conditions = (status.conditions || []).map((item) => {
        const healthy = item.type === "Ready" ? item.status === "True" : item.status !== "True";
        return h("span", { class: healthy ? "chip ok" : "chip bad", title: item.message || "" }, `${item.type}=${item.status}`);
      });
      return h("tr", { "data-node": node.metadata.name },
        h("td", {}, node.metadata.name),
        h("td", { class: ready === "True" ? "ok" : "bad" }, label + cordoned),
        h("td", {}, conditions),
        h("td", { class: "number" }, allocatable.cpu || ""),
        h("td", { class: "number" }, allocatable.memory || ""),
        h("td", { class: "number" }, allocatable.pods || ""),
        h("td", {}, (status.nodeInfo && status.nodeInfo.kubeletVersion) || ""),
        h("td", {}, age(node.metadata.creationTimestamp)));
    }));
  });
}

function renderNamespaces() {
  fill("namespaces", [mirrors.namespaces], () => {
    const items = mirrors.namespaces.objects.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    const names = document.getElementById("namespace-names");
    names.replaceChildren(...items.map((item) => h("option", { value: item.metadata.name })));
    return table(["Name", "Phase", "Age"], items.map((item) => {
      const phase = (item.status && item.status.phase) || "Active";
      return h("tr", {}, h("td", {}, item.metadata.name), h("td", { class: phase === "Active" ? "" : "warn" }, phase),
        h("td", {}, age(item.metadata.creationTimestamp)));
    }));
  });
}

/** Desired, ready, up-to-date and available replicas, the way `kubectl get` reads each kind. */
function workloadCounts(kind, object) {
  const spec = object.spec || {};
  const status = object.status || {};
  if (kind === "DaemonSet") {
    return { desired: status.desiredNumberScheduled || 0, ready: status.numberReady || 0,
      updated: status.updatedNumberScheduled || 0, available: status.numberAvailable || 0 };
  }
  return { desired: spec.replicas === undefined ? 1 : spec.replicas, ready: status.readyReplicas || 0,
    updated: status.updatedReplicas || 0, available: status.availableReplicas || 0 };
}

function workloads() {
  const kinds = [["Deployment", mirrors.deployments], ["StatefulSet", mirrors.statefulsets], ["DaemonSet", mirrors.daemonsets]];
  return kinds.flatMap(([kind, mirror]) => mirror.objects.map((object) => ({ kind, object, ...workloadCounts(kind, object) })));
}

function renderWorkloads() {
  fill("workloads", [mirrors.deployments, mirrors.statefulsets, mirrors.daemonsets], () => {
    const all = workloads().sort((a, b) => (a.ready >= a.desired) - (b.ready >= b.desired)
      || key(a.object).localeCompare(key(b.object)));
    return table(["Kind", "Namespace", "Name", "Ready", "Up-to-date", "Available", "State", "Age"], all.slice(0, maxRows).map((item) => {
      const settled = item.ready >= item.desired && item.updated >= item.desired;
      const state = item.desired === 0 ? "scaled to 0" : settled ? "ready" : "progressing";
      return h("tr", { "data-workload": `${item.kind}/${key(item.object)}` },
        h("td", {}, item.kind), h("td", {}, item.object.metadata.namespace), h("td", {}, item.object.metadata.name),
        h("td", { class: "number" }, `${item.ready}/${item.desired}`), h("td", { class: "number" }, item.updated),
        h("td", { class: "number" }, item.available), h("td", { class: settled ? "ok" : "warn" }, state),
        h("td", {}, age(item.object.metadata.creationTimestamp)));
    }), all.length);
  });
}

/** What `kubectl get pods` prints as STATUS: a waiting or terminated container's reason, else the phase. */
function podStatus(pod) {
  if (pod.metadata.deletionTimestamp) return "Terminating";
  const status = pod.status || {};
  for (const container of status.containerStatuses || []) {
    const state = container.state || {};
    if (state.waiting && state.waiting.reason) return state.waiting.reason;
    if (state.terminated && state.terminated.reason && status.phase !== "Succeeded") return state.terminated.reason;
  }
  return status.phase || "Pending";
}

const phases = ["Pending", "Running", "Succeeded", "Failed", "Unknown"];

function renderPods() {
  fill("pods", [mirrors.pods], () => {
    const pods = mirrors.pods.objects;
    const counts = Object.fromEntries(phases.map((phase) => [phase, 0]));
    for (const pod of pods) counts[(pod.status && pod.status.phase) || "Pending"] += 1;
    const healthy = (pod) => ["Running", "Succeeded"].includes(podStatus(pod));
    const sorted = pods.sort((a, b) => healthy(a) - healthy(b) || key(a).localeCompare(key(b)));
    const chips = h("div", { class: "phases" }, phases.map((phase) => h("span", {
      class: `chip ${phase === "Failed" || phase === "Unknown" ? (counts[phase] ? "bad" : "") : ""}`, "data-phase": phase,
    }, `${phase}: ${counts[phase]}`)));
    return [chips, table(["Namespace", "Name", "Status", "Ready", "Restarts", "Node", "Age"], sorted.slice(0, maxRows).map((pod) => {
      const statuses = (pod.status && pod.status.containerStatuses) || [];
      const containers = ((pod.spec && pod.spec.containers) || []).length;
      const ready = statuses.filter((status) => status.ready).length;
      const restarts = statuses.reduce((sum, status) => sum + (status.restartCount || 0), 0);
      const status = podStatus(pod);
      return h("tr", { "data-pod": key(pod) },
        h("td", {}, pod.metadata.namespace), h("td", {}, pod.metadata.name),
        h("td", { class: healthy(pod) ? "ok" : status === "Pending" ? "warn" : "bad" }, status),
        h("td", { class: "number" }, `${ready}/${containers}`), h("td", { class: "number" }, restarts),
        h("td", {}, (pod.spec && pod.spec.nodeName) || ""), h("td", {}, age(pod.metadata.creationTimestamp)));
    }), pods.length)];
  });
}

function lastSeen(event) {
  return event.lastTimestamp || event.eventTime || (event.series && event.series.lastObservedTime)
    || event.firstTimestamp || event.metadata.creationTimestamp;
}

function renderEvents() {
  fill("events", [mirrors.events], () => {
    const events = mirrors.events.objects.sort((a, b) => Date.parse(lastSeen(b)) - Date.parse(lastSeen(a)));
    return table(["Last seen", "Namespace", "Object", "Reason", "Message", "Count"], events.slice(0, 30).map((event) => {
      const object = event.involvedObject || {};
      return h("tr", {},
        h("td", {}, age(lastSeen(event))), h("td", {}, event.metadata.namespace),
        h("td", {}, `${(object.kind || "").toLowerCase()}/${object.name || ""}`),
        h("td", { class: "warn" }, event.reason || ""), h("td", { class: "message" }, event.message || ""),
        h("td", { class: "number" }, event.count || (event.series && event.series.count) || 1));
    }), events.length);
  });
}

/** A Lease's holder, and whether it renewed within its duration (by this browser's clock). */
function leaseHolder(lease) {
  const spec = (lease && lease.spec) || {};
  const renewed = Date.parse(spec.renewTime || "");
  const valid = Boolean(spec.holderIdentity) && !Number.isNaN(renewed)
    && Date.now() - renewed <= (spec.leaseDurationSeconds || 15) * 1000;
  return { holder: spec.holderIdentity || "", renewTime: spec.renewTime, valid };
}

function renderControlPlane() {
  const body = document.querySelector("#control-plane .body");
  const refusal = sectionState("control-plane", [mirrors.leases, health]);
  if (refusal) return body.replaceChildren(refusal);
  const leaseRows = ["kube-scheduler", "kube-controller-manager"].map((name) => {
    if (mirrors.leases.state === "forbidden") {
      return h("tr", {}, h("td", {}, name), h("td", { class: "muted", colspan: "2" }, "leases in kube-system are not readable"));
    }
    const lease = leaseHolder(mirrors.leases.items.get(`kube-system/${name}`));
    return h("tr", { "data-lease": name }, h("td", {}, name),
      h("td", { class: lease.valid ? "ok" : "bad" }, lease.holder || "no leader"),
      h("td", {}, lease.renewTime ? `renewed ${age(lease.renewTime)} ago${lease.valid ? "" : " (expired)"}` : ""));
  });
  const checkRows = health.state === "forbidden"
    ? [h("tr", {}, h("td", {}, "/readyz"), h("td", { class: "muted", colspan: "2" }, health.error.message))]
    : health.checks.map((check) => h("tr", { "data-check": check.name }, h("td", {}, check.name),
      h("td", { class: check.ok ? "ok" : "bad" }, check.ok ? "ok" : "failed"), h("td", { class: "muted" }, check.detail)));
  body.replaceChildren(
    h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Leader election"), h("th", {}, "Holder"), h("th", {}, "Renewed"))),
      h("tbody", {}, leaseRows)),
    h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Health check (/readyz)"), h("th", {}, "State"), h("th", {}, ""))),
      h("tbody", {}, checkRows)));
}

function card(label, value, tone, id) {
  return h("div", { class: `card ${tone || ""}`, id }, h("div", { class: "value" }, value), h("div", { class: "label" }, label));
}

function renderSummary() {
  const cards = [];
  if (mirrors.nodes.state === "live") {
    const nodes = mirrors.nodes.objects;
    const ready = nodes.filter((node) => nodeReady(node) === "True").length;
    cards.push(card("nodes ready", `${ready}/${nodes.length}`, ready === nodes.length ? "good" : "bad", "summary-nodes"));
  }
  if (mirrors.pods.state === "live") {
    const pods = mirrors.pods.objects;
    const running = pods.filter((pod) => pod.status && pod.status.phase === "Running").length;
    cards.push(card("pods running", `${running}/${pods.length}`, "", "summary-pods"));
  }
  const all = workloads();
  if (all.length) {
    const ready = all.filter((item) => item.ready >= item.desired).length;
    cards.push(card("workloads ready", `${ready}/${all.length}`, ready === all.length ? "good" : "bad", "summary-workloads"));
  }
  if (mirrors.events.state === "live") {
    const hour = Date.now() - 3600 * 1000;
    const recent = mirrors.events.objects.filter((event) => Date.parse(lastSeen(event)) >= hour).length;
    cards.push(card("warnings in the last hour", String(recent), recent ? "bad" : "good", "summary-warnings"));
  }
  if (health.state === "live") {
    const failed = health.checks.filter((check) => !check.ok).map((check) => check.name);
    cards.push(card("storage and health checks", failed.length ? `failing: ${failed.join(", ")}` : "ok",
      failed.length ? "bad" : "good", "summary-health"));
  }
  document.getElementById("summary").replaceChildren(...cards);
}

// MARK: rendering

let renderPending = false;

/** Coalesces a burst of watch events into one redraw. */
function render() {
  if (renderPending) return;
  renderPending = true;
  setTimeout(() => {
    renderPending = false;
    renderSummary();
    renderControlPlane();
    renderNamespaces();
    renderNodes();
    renderWorkloads();
    renderPods();
    renderEvents();
  }, 100);
}

function start() {
  const input = document.getElementById("namespace");
  input.value = namespace;
  document.getElementById("scope").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input.value.trim();
    location.search = value ? `?namespace=${encodeURIComponent(value)}` : "";
  });
  render();
  for (const mirror of Object.values(mirrors)) mirror.run();
  pollHealth();
  // Ages and lease validity move with the clock even when nothing changes.
  setInterval(render, 5000);
}

start();
