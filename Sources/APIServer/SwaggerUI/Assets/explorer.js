"use strict";
// The API explorer at /swagger-ui/: discovery (/api and /apis, aggregated as kubectl reads them) lists every
// group, version and resource; /openapi/v3 gives each kind's schema as a tree whose references open on demand;
// "try it" runs get, list or watch. Every call is a same-origin request, so it carries whatever credentials
// reach this page (kubectl proxy's, or the browser's client certificate) and RBAC judges it as that user.

// The API is served from the folder above this page (`/`, or kubectl proxy's --api-prefix).
const apiRoot = location.pathname.replace(/swagger-ui\/[^/]*$/, "");
const aggregatedDiscovery = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
const readVerbs = ["get", "list", "watch"];

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

async function getJSON(path, accept) {
  const response = await fetch(apiURL(path), { headers: { Accept: accept || "application/json" } });
  const text = await response.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch (error) {
    // Not JSON: keep the text, which is what the server said.
  }
  if (!response.ok) throw new APIError(response.status, body);
  return body;
}

/** Builds an element; children are nodes or text, never HTML, so no answer can inject markup. */
function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (key === "class") element.className = value;
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

// MARK: discovery

/** Group versions as [{group, version, preferred, resources: [{resource, kind, namespaced, verbs, …}]}]. */
async function discover() {
  const [core, groups] = await Promise.all([getJSON("/api", aggregatedDiscovery), getJSON("/apis", aggregatedDiscovery)]);
  if (core.kind === "APIGroupDiscoveryList" && groups.kind === "APIGroupDiscoveryList") {
    return [...fromAggregated(core), ...fromAggregated(groups)];
  }
  return legacyDiscovery(core, groups);
}

function fromAggregated(list) {
  const versions = [];
  for (const group of list.items || []) {
    const name = (group.metadata && group.metadata.name) || "";
    (group.versions || []).forEach((version, index) => {
      versions.push({
        group: name,
        version: version.version,
        preferred: index === 0,
        resources: (version.resources || []).map((resource) => ({
          resource: resource.resource,
          kind: (resource.responseKind && resource.responseKind.kind) || "",
          namespaced: resource.scope === "Namespaced",
          verbs: resource.verbs || [],
          shortNames: resource.shortNames || [],
          categories: resource.categories || [],
          subresources: (resource.subresources || []).map((sub) => sub.subresource),
        })),
      });
    });
  }
  return versions;
}

/** Servers without aggregated discovery: one APIResourceList per group version. */
async function legacyDiscovery(core, groups) {
  const targets = (core.versions || []).map((version, index) => ({
    group: "", version, preferred: index === 0, path: `/api/${version}`,
  }));
  for (const group of groups.groups || []) {
    for (const version of group.versions || []) {
      targets.push({
        group: group.name,
        version: version.version,
        preferred: (group.preferredVersion || {}).version === version.version,
        path: `/apis/${version.groupVersion}`,
      });
    }
  }
  return Promise.all(targets.map(async (target) => {
    const list = await getJSON(target.path).catch(() => ({ resources: [] }));
    const all = list.resources || [];
    return {
      group: target.group,
      version: target.version,
      preferred: target.preferred,
      resources: all.filter((resource) => !resource.name.includes("/")).map((resource) => ({
        resource: resource.name,
        kind: resource.kind,
        namespaced: resource.namespaced,
        verbs: resource.verbs || [],
        shortNames: resource.shortNames || [],
        categories: resource.categories || [],
        subresources: all.filter((sub) => sub.name.startsWith(resource.name + "/"))
          .map((sub) => sub.name.slice(resource.name.length + 1)),
      })),
    };
  }));
}

function groupVersionPath(entry) {
  return entry.group ? `/apis/${entry.group}/${entry.version}` : `/api/${entry.version}`;
}

function groupVersionLabel(entry) {
  return entry.group ? `${entry.group}/${entry.version}` : `${entry.version} (core)`;
}

// MARK: sidebar

const state = { versions: [], selected: null };

function renderSidebar() {
  const filter = document.getElementById("filter").value.trim().toLowerCase();
  const matches = (entry, resource) => !filter || [
    resource.resource, resource.kind, entry.group, ...resource.shortNames, ...resource.categories,
  ].some((text) => text.toLowerCase().includes(filter));
  const blocks = [];
  for (const entry of state.versions) {
    const resources = entry.resources.filter((resource) => matches(entry, resource))
      .sort((a, b) => a.resource.localeCompare(b.resource));
    if (resources.length === 0) continue;
    const items = resources.map((resource) => {
      const hash = `#${groupVersionPath(entry)}/${resource.resource}`;
      return h("li", {},
        h("a", { href: hash, class: location.hash === hash ? "selected" : null }, resource.resource),
        h("span", { class: "kind" }, resource.kind));
    });
    blocks.push(h("details", { open: Boolean(filter) || entry.preferred, "data-group-version": groupVersionLabel(entry) },
      h("summary", {}, groupVersionLabel(entry), entry.preferred ? "" : h("span", { class: "preferred" }, " (not preferred)")),
      h("ul", {}, items)));
  }
  document.getElementById("groups").replaceChildren(...(blocks.length ? blocks : [h("p", { class: "muted" }, "No resource matches.")]));
}

function sortedVersions(versions) {
  // The core group first, then groups by name, each group's preferred version first (discovery's order).
  return versions.map((entry, index) => ({ entry, index }))
    .sort((a, b) => (a.entry.group === "" ? -1 : 0) - (b.entry.group === "" ? -1 : 0)
      || a.entry.group.localeCompare(b.entry.group) || a.index - b.index)
    .map(({ entry }) => entry);
}

// MARK: resource detail

function findSelection() {
  const match = /^#\/(?:api\/([^/]+)|apis\/([^/]+)\/([^/]+))\/([^/]+)$/.exec(location.hash);
  if (!match) return null;
  const group = match[2] || "";
  const version = match[1] || match[3];
  const entry = state.versions.find((candidate) => candidate.group === group && candidate.version === version);
  const resource = entry && entry.resources.find((candidate) => candidate.resource === match[4]);
  return resource ? { entry, resource } : null;
}

function showSelection() {
  const detail = document.getElementById("detail");
  const selection = findSelection();
  renderSidebar();
  if (!selection) {
    if (location.hash.length > 1) detail.replaceChildren(h("p", { class: "error" }, `No resource at ${location.hash.slice(1)}.`));
    return;
  }
  const { entry, resource } = selection;
  const schemaHolder = h("div", { id: "schema" }, h("p", { class: "muted" }, "Reading /openapi/v3…"));
  detail.replaceChildren(
    h("h2", {}, resource.resource, h("span", { class: "gv" }, `${groupVersionLabel(entry)} · ${resource.kind}`)),
    h("dl", { class: "facts" },
      h("dt", {}, "Scope"), h("dd", {}, resource.namespaced ? "Namespaced" : "Cluster"),
      h("dt", {}, "Verbs"), h("dd", {}, resource.verbs.map((verb) => h("span", { class: "chip" }, verb))),
      resource.shortNames.length ? [h("dt", {}, "Short names"), h("dd", {}, resource.shortNames.join(", "))] : null,
      resource.categories.length ? [h("dt", {}, "Categories"), h("dd", {}, resource.categories.join(", "))] : null,
      resource.subresources.length ? [h("dt", {}, "Subresources"), h("dd", {}, resource.subresources.join(", "))] : null),
    h("h3", {}, "Try it"),
    tryItForm(entry, resource),
    h("h3", {}, "Schema"),
    schemaHolder);
  schemaFor(entry, resource.kind)
    .then(({ name, schema, schemas }) => schemaHolder.replaceChildren(
      h("p", { class: "muted" }, name), h("ul", { class: "tree" }, schemaNode(schemas, resource.kind, schema, false, true))))
    .catch((error) => schemaHolder.replaceChildren(h("p", { class: "error" }, `No schema: ${error.message}`)));
}

// MARK: try it

function tryItForm(entry, resource) {
  const verbs = readVerbs.filter((verb) => resource.verbs.includes(verb));
  if (verbs.length === 0) return h("p", { class: "muted" }, "This resource has no read verbs.");
  const output = h("div", { id: "try-output" });
  const field = (label, name, attributes) => h("label", {}, label, h("input", { name, ...attributes }));
  const form = h("form", { class: "try", id: "try-form" },
    h("label", {}, "Verb", h("select", { name: "verb", id: "try-verb" }, verbs.map((verb) => h("option", { value: verb, selected: verb === "list" }, verb)))),
    resource.namespaced ? field("Namespace", "namespace", { placeholder: "all namespaces", id: "try-namespace" }) : null,
    field("Name (get)", "name", { id: "try-name" }),
    field("Label selector", "labelSelector", { placeholder: "app=web" }),
    field("Field selector", "fieldSelector", { placeholder: "metadata.name=x" }),
    field("Limit (list)", "limit", { type: "number", min: "1", value: "50" }),
    field("Seconds (watch)", "seconds", { type: "number", min: "1", max: "60", value: "5" }),
    h("button", { type: "submit", id: "try-run" }, "Run"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = Object.fromEntries(new FormData(form).entries());
    runTry(entry, resource, values, output).catch((error) => output.append(h("p", { class: "error" }, error.message)));
  });
  return h("div", {}, form, output);
}

function requestPath(entry, resource, values) {
  const namespace = (values.namespace || "").trim();
  const name = (values.name || "").trim();
  let path = groupVersionPath(entry);
  if (resource.namespaced && (namespace || values.verb === "get")) path += `/namespaces/${encodeURIComponent(namespace || "default")}`;
  path += `/${resource.resource}`;
  const query = new URLSearchParams();
  if (values.verb === "get") {
    if (!name) throw new Error("get needs a name");
    path += `/${encodeURIComponent(name)}`;
  } else {
    for (const key of ["labelSelector", "fieldSelector"]) if ((values[key] || "").trim()) query.set(key, values[key].trim());
    if (values.verb === "list" && Number(values.limit) > 0) query.set("limit", String(Math.floor(Number(values.limit))));
    if (values.verb === "watch") {
      query.set("watch", "1");
      query.set("timeoutSeconds", String(watchSeconds(values)));
    }
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

function watchSeconds(values) {
  return Math.min(60, Math.max(1, Math.floor(Number(values.seconds) || 5)));
}

async function runTry(entry, resource, values, output) {
  const path = requestPath(entry, resource, values);
  const status = h("p", { class: "muted" }, "Waiting for the answer…");
  output.replaceChildren(h("p", { class: "request" }, `GET ${apiURL(path)}`), status);
  const started = performance.now();
  if (values.verb === "watch") return runWatch(path, watchSeconds(values), status, output, started);
  const response = await fetch(apiURL(path), { headers: { Accept: "application/json" } });
  const text = await response.text();
  showStatus(status, response, started);
  let pretty = text;
  try {
    pretty = JSON.stringify(JSON.parse(text), null, 2);
  } catch (error) {
    // Not JSON: show it as it came.
  }
  output.append(h("pre", { id: "try-response" }, pretty));
}

function showStatus(element, response, started) {
  element.className = response.ok ? "status-ok" : "status-bad";
  element.textContent = `${response.status} ${response.statusText} · ${Math.round(performance.now() - started)} ms`;
}

/** A watch for a few seconds: the server ends it at timeoutSeconds; the abort is a backstop. */
async function runWatch(path, seconds, status, output, started) {
  const controller = new AbortController();
  const backstop = setTimeout(() => controller.abort(), (seconds + 3) * 1000);
  const events = h("ol", { class: "events", id: "try-events" });
  const raw = h("pre", { id: "try-response" });
  try {
    const response = await fetch(apiURL(path), { headers: { Accept: "application/json" }, signal: controller.signal });
    showStatus(status, response, started);
    if (!response.ok) {
      raw.textContent = await response.text();
      output.append(raw);
      return;
    }
    output.append(h("p", { class: "muted", id: "try-watch-state" }, `Watching for ${seconds} s…`), events, raw);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let newline;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (!line) continue;
        raw.append(line + "\n");
        try {
          const event = JSON.parse(line);
          const metadata = (event.object && event.object.metadata) || {};
          const name = metadata.namespace ? `${metadata.namespace}/${metadata.name}` : metadata.name;
          events.append(h("li", {}, `${event.type} ${name || ""} (resourceVersion ${metadata.resourceVersion || "?"})`));
        } catch (error) {
          events.append(h("li", { class: "error" }, `unreadable event: ${line.slice(0, 200)}`));
        }
      }
    }
  } catch (error) {
    if (error.name !== "AbortError") throw error;
  } finally {
    clearTimeout(backstop);
  }
  const watchState = document.getElementById("try-watch-state");
  if (watchState) watchState.textContent = `Watch ended after ${((performance.now() - started) / 1000).toFixed(1)} s with ${events.children.length} events.`;
}

// MARK: schema

const openAPI = { root: null, documents: new Map() };

/** The component schema whose x-kubernetes-group-version-kind names this kind, from the group version's document. */
async function schemaFor(entry, kind) {
  if (!openAPI.root) openAPI.root = getJSON("/openapi/v3");
  const root = await openAPI.root;
  const key = groupVersionPath(entry).slice(1);
  const reference = root.paths && root.paths[key];
  if (!reference) throw new Error(`/openapi/v3 lists no ${key}`);
  if (!openAPI.documents.has(key)) openAPI.documents.set(key, getJSON(reference.serverRelativeURL));
  const document = await openAPI.documents.get(key);
  const schemas = (document.components && document.components.schemas) || {};
  for (const [name, schema] of Object.entries(schemas)) {
    const kinds = schema["x-kubernetes-group-version-kind"] || [];
    if (kinds.some((gvk) => gvk.group === entry.group && gvk.version === entry.version && gvk.kind === kind)) {
      return { name, schema, schemas };
    }
  }
  throw new Error(`/openapi/v3/${key} has no schema for ${kind}`);
}

/** Follows `$ref` (and OpenAPI 3's single-entry allOf wrapping) to the schema it names, keeping its own description. */
function resolve(schemas, schema) {
  let current = schema || {};
  let description = current.description;
  let name = null;
  for (let hops = 0; hops < 16; hops++) {
    if (current.$ref) {
      name = current.$ref.split("/").pop();
      current = schemas[name] || {};
    } else if (Array.isArray(current.allOf) && current.allOf.length === 1) {
      description = description || current.description;
      current = current.allOf[0];
    } else {
      break;
    }
    description = description || current.description;
  }
  return { schema: current, name, description };
}

function typeLabel(schemas, schema) {
  const { schema: resolved, name } = resolve(schemas, schema);
  if (name) return name.split(".").pop();
  if (resolved["x-kubernetes-int-or-string"]) return "int-or-string";
  if (resolved.type === "array") return `[]${typeLabel(schemas, resolved.items)}`;
  if (resolved.type === "object" && resolved.additionalProperties && typeof resolved.additionalProperties === "object") {
    return `map[string]${typeLabel(schemas, resolved.additionalProperties)}`;
  }
  if (resolved["x-kubernetes-preserve-unknown-fields"]) return "object (any fields)";
  const type = resolved.type || "any";
  return resolved.format ? `${type} (${resolved.format})` : type;
}

/** The schema whose fields a node lists: an object's, or its array items' or map values' when those are objects. */
function fieldsOwner(schemas, schema) {
  let { schema: resolved } = resolve(schemas, schema);
  for (let depth = 0; depth < 8; depth++) {
    if (resolved.properties) return resolved;
    if (resolved.type === "array" && resolved.items) resolved = resolve(schemas, resolved.items).schema;
    else if (resolved.additionalProperties && typeof resolved.additionalProperties === "object") {
      resolved = resolve(schemas, resolved.additionalProperties).schema;
    } else return null;
  }
  return null;
}

/** One field; its own fields are built when it is first opened, so recursive schemas cost nothing until read. */
function schemaNode(schemas, field, schema, required, open) {
  const { schema: resolved, description } = resolve(schemas, schema);
  const label = [
    h("span", { class: "field" }, field),
    h("span", { class: "type" }, typeLabel(schemas, schema)),
    required ? h("span", { class: "required" }, "required") : null,
  ];
  const notes = [];
  if (description) notes.push(h("div", { class: "description" }, description));
  if (Array.isArray(resolved.enum)) notes.push(h("div", { class: "description" }, `One of: ${resolved.enum.join(", ")}`));
  const owner = fieldsOwner(schemas, schema);
  if (!owner) return h("li", { class: "leaf", "data-field": field }, label, notes);
  const children = h("ul", {});
  const details = h("details", { "data-field": field }, h("summary", {}, label), notes, children);
  const fill = () => {
    if (children.childElementCount > 0) return;
    const requiredFields = new Set(owner.required || []);
    const names = Object.keys(owner.properties).sort((a, b) => fieldOrder(a) - fieldOrder(b) || a.localeCompare(b));
    children.replaceChildren(...names.map((name) => schemaNode(schemas, name, owner.properties[name], requiredFields.has(name), false)));
  };
  details.addEventListener("toggle", () => details.open && fill());
  if (open) {
    details.open = true;
    fill();
  }
  return h("li", {}, details);
}

function fieldOrder(name) {
  const first = ["apiVersion", "kind", "metadata", "spec", "status"];
  const index = first.indexOf(name);
  return index < 0 ? first.length : index;
}

// MARK: start

async function start() {
  getJSON("/version").then((version) => {
    document.getElementById("server-version").textContent = `server ${version.gitVersion}`;
  }).catch(() => {});
  document.getElementById("filter").addEventListener("input", renderSidebar);
  window.addEventListener("hashchange", showSelection);
  try {
    state.versions = sortedVersions(await discover());
  } catch (error) {
    const hint = error.status === 401 || error.status === 403 ? " (the page's requests carry no credential this server accepts)" : "";
    document.getElementById("groups").replaceChildren(h("p", { class: "error" }, `Discovery failed: ${error.message}${hint}`));
    return;
  }
  showSelection();
}

start();
